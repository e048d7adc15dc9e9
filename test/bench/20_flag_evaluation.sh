#!/usr/bin/env bash
# test/bench/20_flag_evaluation.sh: row "flag evaluation".
#
# orion.flag_enabled over a table of users, for an Unleash flag with a
# flexibleRollout strategy at 50% and two constraints that hold for every
# user (a context property and a userId NOT_IN list), against:
#   - the executor floor: the same scan counting uuid_hash(u) % 2 = 0;
#   - the rule as a user without orion writes it: a PL/pgSQL function that
#     reads the flag's row, walks its JSON, checks both constraints and
#     buckets with hashtext, on every call (run on a tenth of the users and
#     scaled linearly to the full count).
# Every statement runs serially (no parallel workers, no JIT) in a session
# whose flag cache was filled first; the median of 5 runs (QUICK: 3).

. "$(dirname "$0")/lib.sh"

users=$(scale 1000000 100000)
runs=$(scale 5 3)
pl_users=$((users / 10))

# each timed statement runs after one evaluation, so that the flag cache is filled
warm="SELECT orion.flag_enabled('bench-flag', NULL, '{\"properties\": {\"country\": \"NO\"}}')"

echo "flag evaluation: $users users, $runs runs" >&2

psql -X -q -v ON_ERROR_STOP=1 >&2 <<SQL
CREATE TABLE users AS
    SELECT md5('user-' || i)::uuid AS u FROM generate_series(1, $users) AS i;
CREATE TABLE users_tenth AS SELECT u FROM users LIMIT $pl_users;

INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout)
VALUES ('bench-flag', 'Bench flag', true, '{"strategies": [{
    "name": "flexibleRollout",
    "parameters": {"rollout": "50", "stickiness": "default", "groupId": "bench-flag"},
    "constraints": [
        {"contextName": "country", "operator": "IN", "values": ["NO", "SE", "DK"]},
        {"contextName": "userId", "operator": "NOT_IN", "values": ["00000000-0000-0000-0000-000000000000"]}
    ]}]}');

-- The baseline: the flag kept in a table of the application's own, and the
-- rule in PL/pgSQL, reading and parsing the flag at every call.
CREATE TABLE plain_flags (key text PRIMARY KEY, enabled boolean NOT NULL, rollout jsonb);
INSERT INTO plain_flags
    SELECT key, enabled, rollout FROM orion_feature_flags.feature_flags WHERE key = 'bench-flag';

CREATE FUNCTION plain_flag_enabled(flag_key text, user_id uuid, context jsonb DEFAULT '{}')
RETURNS boolean LANGUAGE plpgsql STABLE AS \$\$
DECLARE
    f plain_flags;
    s jsonb;
    c jsonb;
    v text;
    ok boolean;
BEGIN
    SELECT * INTO f FROM plain_flags WHERE key = flag_key;
    IF NOT FOUND OR NOT f.enabled THEN
        RETURN false;
    END IF;
    FOR s IN SELECT jsonb_array_elements(f.rollout -> 'strategies') LOOP
        ok := true;
        FOR c IN SELECT jsonb_array_elements(coalesce(s -> 'constraints', '[]')) LOOP
            IF c ->> 'contextName' = 'userId' THEN
                v := coalesce(context ->> 'userId', user_id::text);
            ELSE
                v := coalesce(context ->> (c ->> 'contextName'),
                              context -> 'properties' ->> (c ->> 'contextName'));
            END IF;
            IF c ->> 'operator' = 'IN' THEN
                ok := v IS NOT NULL AND (c -> 'values') ? v;
            ELSIF c ->> 'operator' = 'NOT_IN' THEN
                ok := v IS NULL OR NOT (c -> 'values') ? v;
            ELSE
                ok := false;
            END IF;
            EXIT WHEN NOT ok;
        END LOOP;
        IF ok AND (abs(hashtext((s -> 'parameters' ->> 'groupId') || ':' || user_id::text)) % 100) + 1
                  <= (s -> 'parameters' ->> 'rollout')::numeric THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
\$\$;

VACUUM ANALYZE users;
VACUUM ANALYZE users_tenth;
VACUUM ANALYZE plain_flags;
SQL

ctx="'{\"properties\": {\"country\": \"NO\"}}'"
q_orion="SELECT count(*) FILTER (WHERE orion.flag_enabled('bench-flag', u, $ctx)) FROM users"
q_floor="SELECT count(*) FILTER (WHERE uuid_hash(u) % 2 = 0) FROM users"
q_plpgsql="SELECT count(*) FILTER (WHERE plain_flag_enabled('bench-flag', u, $ctx)) FROM users_tenth"

# Sanity: about half the users get the flag, with both rules.
on=$(psql_value "$q_orion")
on_pl=$(psql_value "$q_plpgsql")
echo "flag on for $on of $users (orion), $on_pl of $pl_users (PL/pgSQL)" >&2
awk -v a="$on" -v n="$users" 'BEGIN { exit !(a > n * 0.45 && a < n * 0.55) }' || {
    echo "flag evaluation: orion turned the flag on for $on of $users users, not about half" >&2
    exit 1
}
awk -v a="$on_pl" -v n="$pl_users" 'BEGIN { exit !(a > n * 0.45 && a < n * 0.55) }' || {
    echo "flag evaluation: the PL/pgSQL rule turned the flag on for $on_pl of $pl_users users" >&2
    exit 1
}

# Warm the table into shared buffers.
psql_value "$q_floor" >/dev/null

t_orion=() t_floor=() t_pl=()
for ((i = 1; i <= runs; i++)); do
    t_floor+=("$(timed_ms "$warm" "$q_floor")")
    t_orion+=("$(timed_ms "$warm" "$q_orion")")
    # Scaled to the full count of users.
    pl=$(timed_ms "$warm" "$q_plpgsql")
    t_pl+=("$(awk -v t="$pl" -v k="$((users / pl_users))" 'BEGIN { printf "%.3f", t * k }')")
    echo "run $i: floor ${t_floor[-1]} ms, orion ${t_orion[-1]} ms, PL/pgSQL ${t_pl[-1]} ms (scaled)" >&2
done

m_orion=$(median "${t_orion[@]}")
m_floor=$(median "${t_floor[@]}")
m_pl=$(median "${t_pl[@]}")

fmt_s() { awk -v ms="$1" 'BEGIN { printf "%.3f s", ms / 1000 }'; }
fmt_n() { echo "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }
n_fmt=$(fmt_n "$users")
pl_fmt=$(fmt_n "$pl_users")
ns_orion=$(awk -v ms="$m_orion" -v n="$users" 'BEGIN { printf "%.0f", ms * 1e6 / n }')

r_floor=$(ratio "$m_orion" "$m_floor")
r_pl=$(ratio "$m_pl" "$m_orion")

bench_row "flag evaluation" \
    "count(*) FILTER (WHERE orion.flag_enabled(...)) over $n_fmt users, 50% flexibleRollout + 2 constraints, serial, median of $runs; vs executor floor uuid_hash(u) % 2 = 0 (orion ${ns_orion} ns/user)" \
    "$(fmt_s "$m_orion")" "$(fmt_s "$m_floor")" "${r_floor}x" "<= 2x floor" \
    "$(verdict "$r_floor" '<=' 2)"
bench_row "flag evaluation" \
    "same, vs the rule in PL/pgSQL (reads + parses the flag row each call, hashtext), run on $pl_fmt users and scaled x$((users / pl_users)); ratio = PL/pgSQL / orion" \
    "$(fmt_s "$m_orion")" "$(fmt_s "$m_pl")" "${r_pl}x faster" ">= 50x faster" \
    "$(verdict "$r_pl" '>=' 50)"
