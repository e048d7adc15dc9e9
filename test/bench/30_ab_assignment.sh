#!/usr/bin/env bash
# test/bench/30_ab_assignment.sh: row "AB assignment".
#
# Two shapes: one statement per user through pgbench, as an application
# assigns on a page view (the goals' rows; see "per request" below), and
# set statements over N users of orion_auth.users, as a batch job or a
# backfill would run them:
#   - first assignment: SELECT count(orion.assign_variant(test, id)) over users
#     never assigned in that test (a new AB test per run), against the same
#     work by hand: INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING
#     into a plain table with the same columns, keys and indexes, references
#     to the users and the tests, and the variant computed in SQL (hashtext);
#   - repeat assignment: assign_variant again for the same users, against a
#     primary-key lookup of the stored variant per user (a correlated
#     subquery, one index probe per user).
# Median of 5 runs (QUICK: 3); every statement in a session of its own, after
# one warm-up call (the test cache filled).

. "$(dirname "$0")/lib.sh"

users=$(scale 100000 10000)
runs=$(scale 5 3)

echo "AB assignment: $users users, $runs runs" >&2

psql -X -q -v ON_ERROR_STOP=1 >&2 <<SQL
-- Users for both sides (references are enforced on both); a placeholder
-- password hash: no login happens here.
INSERT INTO orion_auth.users (id, email, password_hash)
    SELECT md5('ab-user-' || i)::uuid, 'ab-user-' || i || '@bench.test', 'x'
    FROM generate_series(1, $users) AS i;
-- The users every run assigns (a plain copy of the ids).
CREATE TABLE bench_users AS SELECT id FROM orion_auth.users;

-- The baseline: the tables a user without orion would write.
CREATE TABLE plain_tests (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key varchar(100) NOT NULL UNIQUE,
    variants jsonb NOT NULL
);
CREATE TABLE plain_assignments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES orion_auth.users (id) ON DELETE CASCADE,
    test_id uuid NOT NULL REFERENCES plain_tests (id) ON DELETE CASCADE,
    variant varchar(100) NOT NULL,
    assigned_at timestamptz DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (user_id, test_id)
);
CREATE INDEX ON plain_assignments (test_id);
CREATE INDEX ON plain_assignments (user_id);
VACUUM ANALYZE orion_auth.users;
VACUUM ANALYZE bench_users;
SQL

variants='[{"key": "control", "weight": 50}, {"key": "treatment", "weight": 50}]'
fresh=$(scale 3000 3000)

# A fresh installation: ab_test_assignments never analyzed. The first batch
# of assignments there, against the same batch by hand (its table never
# analyzed either), at a small scale of its own.
psql -X -q -v ON_ERROR_STOP=1 >&2 <<SQL
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active)
    VALUES ('bench-fresh', 'Bench fresh', '$variants', true);
INSERT INTO plain_tests (key, variants) VALUES ('bench-fresh', '$variants');
CREATE TABLE fresh_users AS SELECT id FROM bench_users LIMIT $fresh;
SQL
t_fresh=$(timed_ms "SELECT 1" "SELECT count(orion.assign_variant('bench-fresh', id)) FROM fresh_users")
t_fresh_base=$(timed_ms "SELECT 1" "WITH t AS (SELECT id, variants FROM plain_tests WHERE key = 'bench-fresh'),
    ins AS (
        INSERT INTO plain_assignments (user_id, test_id, variant)
        SELECT u.id, t.id,
               CASE WHEN abs(hashtext(t.id::text || u.id::text)) % 100 < 50
                    THEN t.variants -> 0 ->> 'key' ELSE t.variants -> 1 ->> 'key' END
        FROM fresh_users u, t
        ON CONFLICT (user_id, test_id) DO NOTHING
        RETURNING variant)
    SELECT count(variant) FROM ins")
echo "fresh installation, $fresh users: orion $t_fresh ms, plain $t_fresh_base ms" >&2

# Then the steady state: both tables hold the assignments of earlier tests
# and have been analyzed, as autovacuum would.
psql -X -q -v ON_ERROR_STOP=1 >&2 <<SQL
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active)
    VALUES ('bench-seed', 'Bench seed', '$variants', true);
INSERT INTO plain_tests (key, variants) VALUES ('bench-seed', '$variants');
ANALYZE orion_ab_testing.ab_test_assignments;
SELECT count(orion.assign_variant('bench-seed', id)) FROM bench_users;
INSERT INTO plain_assignments (user_id, test_id, variant)
    SELECT u.id, t.id, 'control' FROM bench_users u, plain_tests t WHERE t.key = 'bench-seed';
VACUUM ANALYZE orion_ab_testing.ab_test_assignments;
VACUUM ANALYZE plain_assignments;
SQL

t_first=() t_first_base=() t_rep=() t_rep_base=()
for ((i = 1; i <= runs; i++)); do
    psql -X -q -v ON_ERROR_STOP=1 >&2 <<SQL
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active)
    VALUES ('bench-$i', 'Bench $i', '$variants', true);
INSERT INTO plain_tests (key, variants) VALUES ('bench-$i', '$variants');
SQL
    pid=$(psql_value "SELECT id FROM plain_tests WHERE key = 'bench-$i'")
    # Warm-ups touch neither side's data: an unknown user id.
    warm_orion="SELECT orion.peek_variant('bench-$i', '00000000-0000-0000-0000-000000000000')"
    warm_base="SELECT variant FROM plain_assignments WHERE user_id = '00000000-0000-0000-0000-000000000000' AND test_id = '$pid'"

    q_orion="SELECT count(orion.assign_variant('bench-$i', id)) FROM bench_users"
    q_first_base="WITH t AS (SELECT id, variants FROM plain_tests WHERE key = 'bench-$i'),
        ins AS (
            INSERT INTO plain_assignments (user_id, test_id, variant)
            SELECT u.id, t.id,
                   CASE WHEN abs(hashtext(t.id::text || u.id::text)) % 100 < 50
                        THEN t.variants -> 0 ->> 'key' ELSE t.variants -> 1 ->> 'key' END
            FROM bench_users u, t
            ON CONFLICT (user_id, test_id) DO NOTHING
            RETURNING variant)
        SELECT count(variant) FROM ins"
    q_rep_base="SELECT count((SELECT a.variant FROM plain_assignments a
                             WHERE a.user_id = u.id AND a.test_id = '$pid'))
                FROM bench_users u"

    # Alternate which side goes first.
    if ((i % 2)); then
        t_first+=("$(timed_ms "$warm_orion" "$q_orion")")
        t_first_base+=("$(timed_ms "$warm_base" "$q_first_base")")
    else
        t_first_base+=("$(timed_ms "$warm_base" "$q_first_base")")
        t_first+=("$(timed_ms "$warm_orion" "$q_orion")")
    fi
    psql -X -q -v ON_ERROR_STOP=1 -c 'VACUUM ANALYZE orion_ab_testing.ab_test_assignments' \
        -c 'VACUUM ANALYZE plain_assignments' >&2
    if ((i % 2)); then
        t_rep+=("$(timed_ms "$warm_orion" "$q_orion")")
        t_rep_base+=("$(timed_ms "$warm_base" "$q_rep_base")")
    else
        t_rep_base+=("$(timed_ms "$warm_base" "$q_rep_base")")
        t_rep+=("$(timed_ms "$warm_orion" "$q_orion")")
    fi
    echo "run $i: first orion ${t_first[-1]} ms, plain ${t_first_base[-1]} ms;" \
         "repeat orion ${t_rep[-1]} ms, plain ${t_rep_base[-1]} ms" >&2
done

# Sanity: every user assigned once per test on both sides, about half each.
n_orion=$(psql_value "SELECT count(*) FROM orion_ab_testing.ab_test_assignments")
n_base=$(psql_value "SELECT count(*) FROM plain_assignments")
share=$(psql_value "SELECT count(*) FILTER (WHERE variant = 'control') FROM orion_ab_testing.ab_test_assignments")
echo "assignments: orion $n_orion ($share control), plain $n_base" >&2
expect=$((users * (runs + 1) + fresh))
if [ "$n_orion" -ne "$expect" ] || [ "$n_base" -ne "$expect" ]; then
    echo "AB assignment: expected $expect assignments on each side" >&2
    exit 1
fi

# ---------------------------------------------------------------- per request
# What an application does on a page view: one statement per user, through
# pgbench -M prepared, 1 client. First assignment: a new test per run and
# users never assigned in it, taken in turn by a sequence on each side (the
# same expression on both); the baseline is one INSERT ... ON CONFLICT DO
# NOTHING RETURNING with the variant computed in SQL. Repeat: random users
# of a test every user is assigned in, against the primary-key SELECT.
requests=$(scale 20000 2000)
repeat_seconds=$(scale 5 2)
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE SEQUENCE bench_next_orion" \
    -c "CREATE SEQUENCE bench_next_plain" >&2
p_first=() p_first_base=() p_rep=() p_rep_base=()
for ((i = 1; i <= runs; i++)); do
    psql -X -q -v ON_ERROR_STOP=1 >&2 <<SQL
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active)
    VALUES ('bench-request-$i', 'Bench request $i', '$variants', true);
INSERT INTO plain_tests (key, variants) VALUES ('bench-request-$i', '$variants');
ALTER SEQUENCE bench_next_orion RESTART;
ALTER SEQUENCE bench_next_plain RESTART;
SQL
    pid=$(psql_value "SELECT id FROM plain_tests WHERE key = 'bench-request-$i'")
    cat >"$BENCH_TMP/ab_first_orion.sql" <<SQL
SELECT orion.assign_variant('bench-request-$i', md5('ab-user-' || nextval('bench_next_orion'))::uuid);
SQL
    cat >"$BENCH_TMP/ab_first_plain.sql" <<SQL
INSERT INTO plain_assignments (user_id, test_id, variant)
VALUES (md5('ab-user-' || nextval('bench_next_plain'))::uuid, '$pid',
        CASE WHEN abs(hashtext('$pid' || currval('bench_next_plain')::text)) % 100 < 50
             THEN 'control' ELSE 'treatment' END)
ON CONFLICT (user_id, test_id) DO NOTHING RETURNING variant;
SQL
    cat >"$BENCH_TMP/ab_repeat_orion.sql" <<SQL
\set n random(1, $users)
SELECT orion.assign_variant('bench-1', md5('ab-user-' || :n)::uuid);
SQL
    cat >"$BENCH_TMP/ab_repeat_plain.sql" <<SQL
\set n random(1, $users)
SELECT variant FROM plain_assignments
WHERE user_id = md5('ab-user-' || :n)::uuid
  AND test_id = (SELECT id FROM plain_tests WHERE key = 'bench-1');
SQL
    p_first+=("$(pgbench_tps "$BENCH_TMP/ab_first_orion.sql" 1 -t "$requests")")
    p_first_base+=("$(pgbench_tps "$BENCH_TMP/ab_first_plain.sql" 1 -t "$requests")")
    p_rep+=("$(pgbench_tps "$BENCH_TMP/ab_repeat_orion.sql" 1 -T "$repeat_seconds")")
    p_rep_base+=("$(pgbench_tps "$BENCH_TMP/ab_repeat_plain.sql" 1 -T "$repeat_seconds")")
    echo "per request, run $i: first orion ${p_first[-1]} tps, plain ${p_first_base[-1]} tps;" \
         "repeat orion ${p_rep[-1]} tps, plain ${p_rep_base[-1]} tps" >&2
    n_orion=$(psql_value "SELECT count(*) FROM orion_ab_testing.ab_test_assignments a
                          JOIN orion_ab_testing.ab_tests t ON t.id = a.test_id
                          WHERE t.key = 'bench-request-$i'")
    n_base=$(psql_value "SELECT count(*) FROM plain_assignments WHERE test_id = '$pid'")
    if [ "$n_orion" -ne "$requests" ] || [ "$n_base" -ne "$requests" ]; then
        echo "AB assignment: per request, $n_orion (orion) and $n_base (plain) assignments, not $requests each" >&2
        exit 1
    fi
done

fmt_n() { echo "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }
fmt_us() { awk -v ms="$1" -v n="$users" 'BEGIN { printf "%.3f s (%.1f µs/user)", ms / 1000, ms * 1000 / n }'; }
n_fmt=$(fmt_n "$users")

m_first=$(median "${t_first[@]}")
m_first_base=$(median "${t_first_base[@]}")
m_rep=$(median "${t_rep[@]}")
m_rep_base=$(median "${t_rep_base[@]}")
r_first=$(ratio "$m_first" "$m_first_base")
r_rep=$(ratio "$m_rep" "$m_rep_base")

bench_row "AB assignment" \
    "first assignment of $n_fmt new users (a new test per run; tables analyzed, holding a previous test's $n_fmt assignments), one statement: SELECT count(orion.assign_variant(...)) FROM users vs INSERT ... SELECT (variant by hashtext) ... ON CONFLICT DO NOTHING RETURNING into a plain table with the same keys, indexes and references; median of $runs" \
    "$(fmt_us "$m_first")" "$(fmt_us "$m_first_base")" "${r_first}x" "<= 1.25x" \
    "$(verdict "$r_first" '<=' 1.25)"
r_fresh=$(ratio "$t_fresh" "$t_fresh_base")
bench_row "AB assignment" \
    "first assignment of $(fmt_n "$fresh") users on a fresh installation (ab_test_assignments never analyzed: the planner has no statistics to choose an index by), same statements as above, one run" \
    "$(awk -v ms="$t_fresh" -v n="$fresh" 'BEGIN { printf "%.3f s (%.1f µs/user)", ms / 1000, ms * 1000 / n }')" \
    "$(awk -v ms="$t_fresh_base" -v n="$fresh" 'BEGIN { printf "%.3f s (%.1f µs/user)", ms / 1000, ms * 1000 / n }')" \
    "${r_fresh}x" "<= 1.25x" "$(verdict "$r_fresh" '<=' 1.25)"
bench_row "AB assignment" \
    "repeat assign_variant for the same $n_fmt users, one statement, vs a primary-key lookup per user of the stored variant in the plain table (correlated subquery); median of $runs" \
    "$(fmt_us "$m_rep")" "$(fmt_us "$m_rep_base")" "${r_rep}x" "<= 1.1x" \
    "$(verdict "$r_rep" '<=' 1.1)"

# Per request, the ratio is of latencies: baseline tps / orion tps.
m_pf=$(median "${p_first[@]}"); m_pfb=$(median "${p_first_base[@]}")
m_pr=$(median "${p_rep[@]}"); m_prb=$(median "${p_rep_base[@]}")
r_pf=$(ratio "$m_pfb" "$m_pf")
r_pr=$(ratio "$m_prb" "$m_pr")
bench_row "AB assignment" \
    "first assignment per request: one assign_variant call per new user vs one INSERT ... ON CONFLICT DO NOTHING RETURNING per user, pgbench -M prepared, 1 client, $(fmt_n "$requests") users per run; ratio of latencies (baseline tps / orion tps); median of $runs" \
    "$(fmt_tps "$m_pf")" "$(fmt_tps "$m_pfb")" "${r_pf}x" "<= 1.25x" "$(verdict "$r_pf" '<=' 1.25)"
bench_row "AB assignment" \
    "repeat assignment per request: assign_variant of a random assigned user vs the primary-key SELECT of the stored variant, pgbench -M prepared, 1 client, ${repeat_seconds} s; ratio of latencies; median of $runs" \
    "$(fmt_tps "$m_pr")" "$(fmt_tps "$m_prb")" "${r_pr}x" "<= 1.1x" "$(verdict "$r_pr" '<=' 1.1)"
