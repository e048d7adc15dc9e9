# test/bench/rows.sh: sourced by test/bench/run and test/run. Runs every
# benchmark row (test/bench/[0-9]*.sh) against the running private cluster.
#
# A row script runs as the server's user with PGHOST, PGPORT, PGUSER and
# PGDATABASE (a database of its own, orion installed) set, QUICK=1 for the
# reduced scale, and BENCH_TMP, a directory it may write to. It prints its
# table lines on standard output:
#   | row | measure | orion | baseline | ratio | goal | verdict |
# (bench_row in test/bench/lib.sh prints one) and its progress on standard
# error. Every figure is measured against its baseline in the same run.

BENCH_HEADER='| row | measure | orion | baseline | ratio | goal | verdict |
|---|---|---|---|---|---|---|'

# bench_rows DIR OUT LOG: run the rows in DIR (a copy of test/bench the
# server's user can read), append their lines to OUT and their progress to
# LOG. Returns non-zero if a row script failed (a missed goal is not a
# failure: the table says so).
bench_rows() {
    local dir=$1 out=$2 log=$3 script name rc=0
    for script in "$dir"/[0-9]*.sh; do
        name=$(basename "$script" .sh)
        printf '   %s\n' "$name"
        as_pg createdb "bench_$name" >>"$log" 2>&1
        as_pg psql -X -q -v ON_ERROR_STOP=1 -d "bench_$name" \
            -c 'CREATE EXTENSION orion CASCADE' >>"$log" 2>&1
        mkdir -p "$WORK/bench/$name"
        if [ "$(id -u)" -eq 0 ]; then chown "$PG_OS_USER:" "$WORK/bench/$name"; fi
        if ! as_pg env PGDATABASE="bench_$name" QUICK="${QUICK:-0}" BENCH_TMP="$WORK/bench/$name" \
                bash "$script" >>"$out" 2>>"$log"; then
            echo "| $name | (the script failed: see the log) | | | | | FAILED |" >>"$out"
            rc=1
        fi
        as_pg dropdb "bench_$name" >>"$log" 2>&1 || true
    done
    return $rc
}
