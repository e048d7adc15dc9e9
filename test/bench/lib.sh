# test/bench/lib.sh: helpers for benchmark rows (sourced by each row script).

set -euo pipefail

# scale FULL QUICK: the FULL figure, or QUICK when QUICK=1.
scale() { if [ "${QUICK:-0}" = 1 ]; then echo "$2"; else echo "$1"; fi; }

# psql_value SQL: run SQL, print its single value.
psql_value() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }

# median X...: the median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

# verdict RATIO OP LIMIT: "met" if RATIO OP LIMIT holds (OP is <= or >=), else "MISSED".
verdict() {
    awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN {
        ok = (op == "<=") ? (r <= l) : (r >= l); print ok ? "met" : "MISSED" }'
}

# bench_row ROW MEASURE ORION BASELINE RATIO GOAL VERDICT: one table line.
bench_row() { printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }

# sql_ms SQL: the server-side time of SQL in milliseconds (EXPLAIN ANALYZE's
# execution time would count instrumentation: this times the statement).
sql_ms() {
    psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -n 1
SELECT clock_timestamp() AS t0 \gset
$1;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3);
SQL
}

# redis_server_binary: the path of a redis-server to run privately. Debian's
# redis-tools ships it as redis-check-rdb (redis-server is a symlink to it in
# the redis-server package, which would also start a system service): a link
# named redis-server in BENCH_TMP makes it run as the server.
redis_server_binary() {
    if command -v redis-server >/dev/null 2>&1; then
        command -v redis-server
    else
        ln -sf "$(command -v redis-check-rdb)" "$BENCH_TMP/redis-server"
        echo "$BENCH_TMP/redis-server"
    fi
}

# timed_ms WARMUP SQL: SQL's server-side time in milliseconds, in a session
# that ran WARMUP first (to fill orion's caches), serial and without JIT so
# that the figure is one core's work.
timed_ms() {
    psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -n 1
SET max_parallel_workers_per_gather = 0;
SET jit = off;
$1;
SELECT clock_timestamp() AS t0 \gset
$2;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3);
SQL
}

# pgbench_threads C: pgbench worker threads for C clients (at most 2 on 2 cores).
pgbench_threads() { if [ "$1" -ge 2 ]; then echo 2; else echo 1; fi; }

# pgbench_tps SCRIPT CLIENTS PGBENCH-ARGS...: one run's tps (without the
# connection time), prepared protocol; fails if any transaction failed.
pgbench_tps() {
    local script=$1 clients=$2 out
    shift 2
    out=$(pgbench -n -M prepared -f "$script" -c "$clients" -j "$(pgbench_threads "$clients")" \
        "$@" 2>&1) || { echo "$out" >&2; return 1; }
    if grep -q 'failed: [1-9]' <<<"$out"; then echo "$out" >&2; return 1; fi
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' <<<"$out"
}

# fmt_tps X [UNIT]: X rounded, with thousands separators, and the unit (tps).
fmt_tps() { LC_ALL=C awk -v x="$1" -v u="${2:-tps}" 'BEGIN {
    s = sprintf("%.0f", x); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    print s r " " u }'; }

# latency_round NAME SECONDS: one round of NAME.sql (in BENCH_TMP) through
# pgbench, one client, autocommit, for SECONDS; its per-call latencies
# (microseconds) appended to NAME.us. Fails if any call failed.
latency_round() {
    local out
    rm -f "$BENCH_TMP/$1.log".*
    out=$(cd "$BENCH_TMP" && pgbench -n -M prepared -f "$1.sql" -c 1 -j 1 -T "$2" \
        -l --log-prefix="$1.log" 2>&1) || { echo "$out" >&2; return 1; }
    if grep -q 'failed: [1-9]' <<<"$out"; then echo "$out" >&2; return 1; fi
    awk '{print $3}' "$BENCH_TMP/$1.log".* >>"$BENCH_TMP/$1.us"
}

# quantile FILE Q: the Q quantile (nearest rank) of FILE's numbers
# (microseconds), in ms.
quantile() {
    sort -g "$1" | awk -v q="$2" '{a[NR] = $1} END {
        i = int(q * NR + 0.999999); if (i < 1) i = 1; printf "%.2f", a[i] / 1000 }'
}
