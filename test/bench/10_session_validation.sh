# test/bench/10_session_validation.sh: row "session validation".
#
# orion.validate_session(token) for a random live token out of SESSIONS,
# through pgbench -M prepared at 1 and 8 clients, against
#  - plain SQL: the session looked up by the SHA-256 of the token and joined
#    to its user, as an application without orion would write it for the
#    same answer (user, session, email, role, expiry; same prepared
#    protocol), and
#  - Redis: GET of a user:session:<64 characters> key holding a session
#    payload, on a private redis-server over a unix socket.
# Ratio = orion tps / baseline tps; goals >= 0.9 (plain SQL), >= 0.8 (Redis).
. "$(dirname "$0")/lib.sh"

SESSIONS=$(scale 100000 10000)
SECONDS_PER_RUN=$(scale 8 2)
RUNS=$(scale 3 1)
REDIS_REQUESTS=$(scale 300000 30000)
CLIENTS="1 8"

log() { echo "10_session_validation: $*" >&2; }

# session_tps SCRIPT CLIENTS: one run's tps.
session_tps() { pgbench_tps "$1" "$2" -D scale="$SESSIONS" -T "$SECONDS_PER_RUN"; }

# ---------------------------------------------------------------- setup

log "creating $SESSIONS users and live sessions"
# A token is what orion.login issues: orion_s_ + 43 characters of base64url
# (32 bytes); the table holds its SHA-256, lower-case hex.
psql -X -q -v ON_ERROR_STOP=1 <<SQL >&2
CREATE TABLE bench_tokens (n int PRIMARY KEY, token text NOT NULL);
INSERT INTO bench_tokens
SELECT g, 'orion_s_' || rtrim(translate(encode(sha256(convert_to('bench-session-' || g, 'UTF8')),
                                               'base64'), '+/', '-_'), '=')
FROM generate_series(1, $SESSIONS) g;
INSERT INTO orion_auth.users (id, email, password_hash)
SELECT md5('bench-user-' || g)::uuid, 'bench' || g || '@example.com', 'not-a-hash'
FROM generate_series(1, $SESSIONS) g;
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT md5('bench-user-' || n)::uuid, encode(sha256(convert_to(token, 'UTF8')), 'hex'),
       now() + interval '1 day'
FROM bench_tokens;
VACUUM ANALYZE bench_tokens, orion_auth.users, orion_auth.sessions;
SQL

found=$(psql_value "SELECT count(*) FROM bench_tokens t, orion.validate_session(t.token) v
                    WHERE t.n % ($SESSIONS / 100) = 0")
if [ "$found" != 100 ]; then
    log "validate_session found $found of 100 sample tokens"; exit 1
fi
found=$(psql_value "SELECT count(*) FROM bench_tokens t, orion_auth.sessions s
                    WHERE t.n % ($SESSIONS / 100) = 0
                      AND s.token = encode(sha256(convert_to(t.token, 'UTF8')), 'hex')
                      AND s.expires_at > now()")
if [ "$found" != 100 ]; then
    log "the plain SQL lookup found $found of 100 sample tokens"; exit 1
fi

cat >"$BENCH_TMP/orion.sql" <<'SQL'
\set n random(1, :scale)
SELECT count(*) FROM orion.validate_session((SELECT token FROM bench_tokens WHERE n = :n));
SQL
cat >"$BENCH_TMP/baseline.sql" <<'SQL'
\set n random(1, :scale)
SELECT count(*) FROM orion_auth.sessions s JOIN orion_auth.users u ON u.id = s.user_id
WHERE s.token = encode(sha256(convert_to((SELECT token FROM bench_tokens WHERE n = :n), 'UTF8')), 'hex')
  AND s.revoked_at IS NULL AND s.expires_at > now();
SQL

# ---------------------------------------------------------------- Redis

REDIS_SOCK="$BENCH_TMP/redis.sock"
REDIS_PID="$BENCH_TMP/redis.pid"
redis_stop() {
    if [ -S "$REDIS_SOCK" ]; then
        redis-cli -s "$REDIS_SOCK" shutdown nosave >/dev/null 2>&1 || true
    fi
    if [ -f "$REDIS_PID" ]; then
        local pid; pid=$(cat "$REDIS_PID")
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill "$pid" 2>/dev/null || true
    fi
}
trap redis_stop EXIT

if ! command -v redis-check-rdb >/dev/null || ! command -v redis-benchmark >/dev/null; then
    log "redis-tools is missing (apt-get install redis-tools)"
    exit 1
fi
REDIS_SERVER=$(redis_server_binary)
log "starting a private redis-server on $REDIS_SOCK"
"$REDIS_SERVER" --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 \
    --save '' --appendonly no --daemonize yes --pidfile "$REDIS_PID" \
    --dir "$BENCH_TMP" --logfile "$BENCH_TMP/redis.log" >&2
for _ in $(seq 50); do
    redis-cli -s "$REDIS_SOCK" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -s "$REDIS_SOCK" ping >/dev/null

# Keys are user:session:<64 characters>, as long as a SHA-256 hex: 52 fixed
# characters and the 12 digits redis-benchmark's __rand_int__ fills in
# (0 to SESSIONS - 1). Values are a session as an application would cache it.
KEY_PREFIX="user:session:$(printf 'a%.0s' $(seq 52))"
log "loading $SESSIONS keys into Redis"
awk -v n="$SESSIONS" -v p="$KEY_PREFIX" 'BEGIN {
    for (i = 0; i < n; i++) {
        k = sprintf("%s%012d", p, i)
        v = sprintf("{\"user_id\":\"%08d-0000-4000-8000-000000000000\",\"session_id\":\"%08d-0000-4000-8000-000000000001\",\"email\":\"bench%d@example.com\",\"role\":\"user\",\"expires_at\":\"2030-01-01T00:00:00Z\"}", i, i, i)
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
    }
}' | redis-cli -s "$REDIS_SOCK" --pipe >&2
keys=$(redis-cli -s "$REDIS_SOCK" dbsize)
if [ "$keys" != "$SESSIONS" ]; then log "Redis holds $keys keys, not $SESSIONS"; exit 1; fi

# redis_rps CLIENTS: one run's GET requests per second.
redis_rps() {
    redis-benchmark -s "$REDIS_SOCK" -c "$1" -n "$REDIS_REQUESTS" -r "$SESSIONS" --csv \
        GET "${KEY_PREFIX}__rand_int__" | tail -n 1 | awk -F'"' '{print $4}'
}
hit=$(redis-cli -s "$REDIS_SOCK" get "$(printf '%s%012d' "$KEY_PREFIX" $((SESSIONS - 1)))")
[ -n "$hit" ] || { log "the last Redis key is missing"; exit 1; }

# ---------------------------------------------------------------- measure

for c in $CLIENTS; do
    o=(); b=(); r=()
    for run in $(seq "$RUNS"); do
        o+=("$(session_tps "$BENCH_TMP/orion.sql" "$c")")
        b+=("$(session_tps "$BENCH_TMP/baseline.sql" "$c")")
        r+=("$(redis_rps "$c")")
        log "$c client(s), run $run: orion ${o[-1]} tps, plain SQL ${b[-1]} tps, Redis ${r[-1]} rps"
    done
    om=$(median "${o[@]}"); bm=$(median "${b[@]}"); rm=$(median "${r[@]}")
    ratio_sql=$(ratio "$om" "$bm"); ratio_redis=$(ratio "$om" "$rm")
    if [ "$c" = 1 ]; then label="1 client"; else label="$c clients"; fi
    bench_row "session validation" "$label, $SESSIONS sessions, vs plain SQL" \
        "$(fmt_tps "$om")" "$(fmt_tps "$bm")" "$ratio_sql" ">= 0.90" "$(verdict "$ratio_sql" '>=' 0.9)"
    bench_row "session validation" "$label, $SESSIONS sessions, vs Redis GET" \
        "$(fmt_tps "$om")" "$(fmt_tps "$rm" "GET/s")" "$ratio_redis" ">= 0.80" "$(verdict "$ratio_redis" '>=' 0.8)"
done
