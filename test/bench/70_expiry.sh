# test/bench/70_expiry.sh: row "expiry".
#
# `SELECT orion.expire_sessions()` over N expired sessions (1,000,000; QUICK
# 100,000; every expires_at distinct) among 10,000 live ones: its time
# (reported; beside it a plain `DELETE ... WHERE expires_at < now() AND NOT
# EXISTS (a usable refresh token)`, as a user without orion would write it,
# run with session_replication_role = replica, which skips every trigger:
# orion's per-row cache trigger and the foreign key's cascade to refresh
# tokens alike; median of 3, the purge once at full scale), and
# orion.validate_session throughput (pgbench -M prepared, 2 clients, a
# random live token per call): 3 runs during purges against 3 runs without,
# medians, at the defaults (batches of 10,000, no pause) and throttled
# (batches of 1,000 with orion.maintenance_batch_delay = 20ms).
# Every purge is rolled back (the work is the same, the data stays for the
# next one).

. "$(dirname "$0")/lib.sh"

N=$(scale 1000000 100000)
LIVE=10000
REPS=3

# thousands N: N with thousands separators.
thousands() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }

SECONDS=0
echo "expiry: setting up $N expired and $LIVE live sessions" >&2
psql -X -q -v ON_ERROR_STOP=1 -v n="$N" -v live="$LIVE" >&2 <<'SQL'
INSERT INTO orion_auth.users (id, email, password_hash)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       'user-' || i || '@example.com', '$argon2id$x'
  FROM generate_series(1, 1000) AS i;
-- the tokens handed out: orion_s_ + 43 base64url characters
CREATE TABLE bench_tokens (n integer PRIMARY KEY, token text NOT NULL);
INSERT INTO bench_tokens
SELECT i, 'orion_s_' || translate(rtrim(encode(gen_random_bytes(32), 'base64'), '='), '+/', '-_')
  FROM generate_series(1, :live) AS i;
INSERT INTO orion_auth.sessions (user_id, token, ip_address, user_agent, expires_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(1 + n % 1000), 12, '0'))::uuid,
       encode(sha256(convert_to(token, 'UTF8')), 'hex'), '203.0.113.7', 'bench',
       now() + interval '15 minutes' + n * interval '1 ms'
  FROM bench_tokens;
-- dead: expired (each at its own moment), no refresh token
INSERT INTO orion_auth.sessions (user_id, token, ip_address, user_agent, expires_at, created_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % 1000), 12, '0'))::uuid,
       encode(sha256(convert_to('dead/' || i, 'UTF8')), 'hex'), '203.0.113.7', 'bench',
       now() - interval '1 minute' - i * interval '1 ms',
       now() - interval '16 minutes' - i * interval '1 ms'
  FROM generate_series(1, :n) AS i;
VACUUM ANALYZE orion_auth.sessions, orion_auth.refresh_tokens, orion_auth.users, bench_tokens;
SQL

echo "expiry: set up in $SECONDS s" >&2

# validate_session accepts the tokens
ok=$(psql_value "SELECT count(*) FROM bench_tokens t, LATERAL orion.validate_session(t.token) v")
if [ "$ok" != "$LIVE" ]; then
    echo "expiry: validate_session accepted $ok of $LIVE live tokens" >&2
    exit 1
fi

# purge_ms: the purge alone, rolled back, in ms (checked: every dead
# session went, every live one stayed).
purge_ms() {
    local out
    out=$(psql -X -q -At -v ON_ERROR_STOP=1 <<'SQL'
BEGIN;
SELECT clock_timestamp() AS t0 \gset
SELECT orion.expire_sessions() AS removed \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3);
SELECT :removed, count(*) FROM orion_auth.sessions;
ROLLBACK;
SQL
)
    if [ "$(echo "$out" | tail -n 1)" != "$N|$LIVE" ]; then
        echo "expiry: the purge removed and kept: $(echo "$out" | tail -n 1) (expected $N|$LIVE)" >&2
        return 1
    fi
    echo "$out" | head -n 1
}

# plain_ms: the plain DELETE a user would write, rolled back, in ms.
plain_ms() { psql -X -q -At -v ON_ERROR_STOP=1 <<'SQL' | tail -n 1
BEGIN;
SET LOCAL session_replication_role = replica;
SELECT clock_timestamp() AS t0 \gset
DELETE FROM orion_auth.sessions s
 WHERE s.expires_at < now()
   AND NOT EXISTS (SELECT 1 FROM orion_auth.refresh_tokens r
                    WHERE r.session_id = s.id AND NOT r.revoked AND r.expires_at > now());
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3);
ROLLBACK;
SQL
}

cat >"$BENCH_TMP/validate.sql" <<'SQL'
\set n random(1, 10000)
SELECT * FROM orion.validate_session((SELECT token FROM bench_tokens WHERE n = :n));
SQL

# tps SECONDS: validate_session throughput over SECONDS.
tps() {
    pgbench -n -M prepared -c 2 -j 2 -T "$1" -f "$BENCH_TMP/validate.sql" 2>&1 |
        tee -a "$BENCH_TMP/pgbench.out" |
        sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

# the purge alone (full scale: once, it is long) and the plain DELETE
alone=() plain=()
for i in $(seq "$(scale 1 3)"); do
    ms=$(purge_ms) || exit 1
    alone+=("$ms")
done
for i in $(seq "$REPS"); do
    plain+=("$(plain_ms)")
done
echo "expiry: purge alone ${alone[*]} ms; plain DELETE ${plain[*]} ms" >&2
p=$(median "${alone[@]}")
q=$(median "${plain[@]}")

# throughput: REPS pgbench runs of T seconds, each started while a purge
# runs in the background (rolled back; another starts when one has ended,
# which at QUICK scale is before each run, and one still going after the
# runs is cancelled), then REPS without. T: the purge's time
# alone split in REPS (at least 1 s, at most 5 s).
T=$(awk -v ms="$p" -v r="$REPS" 'BEGIN { t = int(ms / 1000 / r); print (t < 1) ? 1 : (t > 5) ? 5 : t }')
# start_purge DELAY BATCH: a purge in the background, expire_sessions(BATCH)
# with orion.maintenance_batch_delay = DELAY.
start_purge() {
    PGAPPNAME=bench_purge PGOPTIONS="-c orion.maintenance_batch_delay=$1" \
        psql -X -q -At -v ON_ERROR_STOP=1 -v batch="$2" >"$BENCH_TMP/purge.out" 2>&1 <<'SQL' &
BEGIN;
SELECT clock_timestamp() AS t0 \gset
SELECT orion.expire_sessions(:batch) \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3);
ROLLBACK;
SQL
    purge=$!
    sleep 0.1
}
# during_tps DELAY BATCH: the median tps of REPS runs during purges.
during_tps() {
    local runs=() i
    purge=
    for i in $(seq "$REPS"); do
        if [ -z "$purge" ] || ! kill -0 "$purge" 2>/dev/null; then
            if [ -n "$purge" ]; then
                wait "$purge" || true
                echo "expiry: a purge under load (delay $1, batches of $2) took $(tail -n 1 "$BENCH_TMP/purge.out") ms" >&2
            fi
            start_purge "$1" "$2"
        fi
        runs+=("$(tps "$T")")
        kill -0 "$purge" 2>/dev/null || echo "expiry: the purge ended before pgbench run $i did" >&2
    done
    psql_value "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = 'bench_purge' AND datname = current_database()" >/dev/null
    wait "$purge" || true
    echo "expiry: -T $T, batch delay $1, batches of $2: ${runs[*]} tps during the purge" >&2
    median "${runs[@]}"
}
# the default, and a throttle: small batches with a pause between them
DELAY=20ms
BATCH=1000
d=$(during_tps 0 10000)
d_delay=$(during_tps "$DELAY" "$BATCH")
without=()
for i in $(seq "$REPS"); do
    without+=("$(tps "$T")")
done
echo "expiry: ${without[*]} tps without a purge" >&2
w=$(median "${without[@]}")
r=$(ratio "$d" "$w")
r_delay=$(ratio "$d_delay" "$w")

fmt=$(thousands "$N")
bench_row "expiry" "orion.expire_sessions() over $fmt expired sessions (baseline: one plain DELETE)" \
    "$(awk -v ms="$p" 'BEGIN { printf "%.2f s", ms / 1000 }')" \
    "$(awk -v ms="$q" 'BEGIN { printf "%.2f s", ms / 1000 }')" \
    "$(ratio "$p" "$q")x" "reported" "reported"
bench_row "expiry" "validate_session, 2 clients, during the purge vs without ($REPS runs of -T $T each, medians; orion.maintenance_batch_delay = 0, the default)" \
    "$(thousands "$(printf '%.0f' "$d")") tps" "$(thousands "$(printf '%.0f' "$w")") tps" "${r}x" ">= 0.7x" "$(verdict "$r" ">=" 0.7)"
bench_row "expiry" "the same, throttled: batches of $(thousands "$BATCH") (expire_sessions($BATCH); the worker's orion.maintenance_batch_size) with orion.maintenance_batch_delay = $DELAY between them; not the default" \
    "$(thousands "$(printf '%.0f' "$d_delay")") tps" "$(thousands "$(printf '%.0f' "$w")") tps" "${r_delay}x" ">= 0.7x" "$(verdict "$r_delay" ">=" 0.7)"
