# test/bench/56_jwt.sh: row "JWT access tokens".
#
# Per request, one pgbench client, -M prepared, a random token of its kind
# per call: orion.verify_jwt(jwt) (signature, header and claims, no session
# check) and orion.validate_session(jwt) (the same, then the session row by
# the token's digest, as for an opaque token) for tokens signed with EdDSA,
# ES256 and HS256, against orion.validate_session of an opaque orion_s_
# token (the baseline: what every request pays today). Every token is issued
# by orion.refresh_session (one per session, so each is its session's
# current token) with orion.access_token_format = jwt under the signing key
# of its algorithm (rotated in turn: the retired ones keep verifying), or
# opaque for the baseline; SESSIONS sessions of each kind in one table.
# Rounds alternate the seven scripts (each round starting one further on);
# medians. Ratio = baseline tps /
# measured tps, the ratio of per-call latencies.
#
# Goals: HS256 <= 1.5x the opaque baseline, for verify_jwt and for
# validate_session(jwt): an HMAC-SHA-256 of a few hundred bytes, base64url
# and a JSON parse are microseconds beside the round trip and the index
# probes a call already costs, so the goal leaves room for noise only.
# EdDSA and ES256 are reported, not graded: one Ed25519 or P-256 signature
# verification is tens of microseconds of OpenSSL's (`openssl speed ed25519
# ecdsap256` gives this machine's floor), as much as or more than a whole
# opaque validate_session call, so their ratio (2x to 3x on 2 cores) says
# how fast the CPU verifies signatures more than how orion does its part:
# the HS256 figures measure that part (the same parsing, claims and session
# check; only the signature differs).
. "$(dirname "$0")/lib.sh"

SESSIONS=$(scale 10000 1000)
SECONDS_PER_RUN=$(scale 5 1)
ROUNDS=$(scale 3 1)
# the HS256 shared secret (rotate_signing_key wants 32 bytes or more)
HS256_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
KINDS="opaque eddsa es256 hs256"

log() { echo "56_jwt: $*" >&2; }

# ---------------------------------------------------------------- setup

log "creating $((4 * SESSIONS)) users with a session and a refresh token each"
# Refresh tokens as orion issues them: orion_r_ and 43 characters of
# base64url (32 bytes); the tables hold their SHA-256. The users' password
# hashes are not hashes: no password is checked on this path.
psql -X -q -v ON_ERROR_STOP=1 <<SQL >&2
CREATE TABLE bench_refresh (kind text NOT NULL, n int NOT NULL, token text NOT NULL, PRIMARY KEY (kind, n));
INSERT INTO bench_refresh
SELECT kind, g, 'orion_r_' || rtrim(translate(encode(sha256(convert_to('bench-refresh-' || kind || g, 'UTF8')),
                                                      'base64'), '+/', '-_'), '=')
  FROM unnest('{${KINDS// /,}}'::text[]) kind, generate_series(1, $SESSIONS) g;
INSERT INTO orion_auth.users (id, email, password_hash)
SELECT md5('bench-user-' || kind || n)::uuid, 'bench-' || kind || n || '@example.com', 'not-a-hash'
  FROM bench_refresh;
INSERT INTO orion_auth.sessions (id, user_id, token, expires_at)
SELECT md5('bench-session-' || kind || n)::uuid, md5('bench-user-' || kind || n)::uuid,
       encode(sha256(convert_to('bench-access-' || kind || n, 'UTF8')), 'hex'), now() + interval '1 hour'
  FROM bench_refresh;
INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at)
SELECT md5('bench-user-' || kind || n)::uuid, md5('bench-session-' || kind || n)::uuid,
       encode(sha256(convert_to(token, 'UTF8')), 'hex'), now() + interval '1 day'
  FROM bench_refresh;
SQL

log "issuing $SESSIONS access tokens of each kind (refresh_session; EdDSA, ES256, HS256 keys rotated in turn)"
# Tokens live a day (and the retired keys verify as long): a full run takes
# minutes, not the default 15.
psql -X -q -v ON_ERROR_STOP=1 <<SQL >&2
SET orion.access_token_ttl = '1d';
CREATE TABLE bench_tokens (kind text NOT NULL, n int NOT NULL, token text NOT NULL, PRIMARY KEY (kind, n));
SET orion.access_token_format = opaque;
INSERT INTO bench_tokens
SELECT r.kind, r.n, s.access_token FROM bench_refresh r, orion.refresh_session(r.token) s WHERE r.kind = 'opaque';
SET orion.access_token_format = jwt;
SELECT orion.rotate_signing_key('EdDSA') AS eddsa_kid \gset
INSERT INTO bench_tokens
SELECT r.kind, r.n, s.access_token FROM bench_refresh r, orion.refresh_session(r.token) s WHERE r.kind = 'eddsa';
SELECT orion.rotate_signing_key('ES256') AS es256_kid \gset
INSERT INTO bench_tokens
SELECT r.kind, r.n, s.access_token FROM bench_refresh r, orion.refresh_session(r.token) s WHERE r.kind = 'es256';
SELECT orion.rotate_signing_key('HS256', '$HS256_SECRET') AS hs256_kid \gset
INSERT INTO bench_tokens
SELECT r.kind, r.n, s.access_token FROM bench_refresh r, orion.refresh_session(r.token) s WHERE r.kind = 'hs256';
VACUUM ANALYZE bench_tokens, orion_auth.users, orion_auth.sessions, orion_auth.refresh_tokens;
SQL

# check SAMPLE: every kind's tokens (n % SAMPLE = 0) are what they should be:
# the opaque ones orion_s_ tokens, the others JWTs of their algorithm that
# verify_jwt accepts; all of them live sessions for validate_session.
check() {
    local bad
    bad=$(psql_value "
        SELECT coalesce(string_agg(format('%s: %s of %s valid, %s of %s verified', kind, valid, total, verified, total), '; '), '')
          FROM (SELECT t.kind, count(*) AS total,
                       count(*) FILTER (WHERE EXISTS (SELECT FROM orion.validate_session(t.token))) AS valid,
                       count(*) FILTER (WHERE CASE t.kind WHEN 'opaque' THEN t.token LIKE 'orion_s_%'
                                              ELSE upper(convert_from(decode(rpad(translate(split_part(t.token, '.', 1), '-_', '+/'),
                                                      (length(split_part(t.token, '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb->>'alg')
                                                   = upper(t.kind)
                                                   AND orion.verify_jwt(t.token)->>'sid' IS NOT NULL END) AS verified
                  FROM bench_tokens t WHERE t.n % $1 = 0 GROUP BY t.kind) c
         WHERE valid <> total OR verified <> total")
    [ -z "$bad" ] || { log "tokens refused: $bad"; exit 1; }
    [ "$(psql_value "SELECT count(DISTINCT kind) FROM bench_tokens")" = 4 ] || { log "a kind of token is missing"; exit 1; }
}
check 1

# script NAME SQL: a pgbench script calling SQL with a random token.
script() { printf '\\set n random(1, :scale)\n%s\n' "$2" >"$BENCH_TMP/$1.sql"; }
token() { echo "(SELECT token FROM bench_tokens WHERE kind = '$1' AND n = :n)"; }
script opaque "SELECT count(*) FROM orion.validate_session($(token opaque));"
for k in eddsa es256 hs256; do
    script "verify_$k" "SELECT count(orion.verify_jwt($(token "$k")));"
    script "validate_$k" "SELECT count(*) FROM orion.validate_session($(token "$k"));"
done
MEASURES=(opaque verify_eddsa validate_eddsa verify_es256 validate_es256 verify_hs256 validate_hs256)

# ---------------------------------------------------------------- measure

# The setup's writes checkpointed, and each script run briefly once, so
# that the first measure of the first round pays for neither; each round
# starts one measure further on, so that none is always first.
psql_value "CHECKPOINT" >/dev/null
for m in "${MEASURES[@]}"; do pgbench_tps "$BENCH_TMP/$m.sql" 1 -D scale="$SESSIONS" -t 500 >/dev/null; done
declare -A tps
for m in "${MEASURES[@]}"; do tps[$m]=""; done
for r in $(seq "$ROUNDS"); do
    line=""
    for i in "${!MEASURES[@]}"; do
        m=${MEASURES[(i + r - 1) % ${#MEASURES[@]}]}
        t=$(pgbench_tps "$BENCH_TMP/$m.sql" 1 -D scale="$SESSIONS" -T "$SECONDS_PER_RUN")
        tps[$m]+=" $t"; line+=" $m $t"
    done
    log "round $r (tps):$line"
done
# every token still good at the end: no figure above counted refusals
check "$(scale 100 10)"

# us_call TPS: the per-call latency of one client at TPS, in microseconds.
us_call() { awk -v t="$1" 'BEGIN { printf "%.0f µs/call", 1e6 / t }'; }
# med MEASURE: the median of its rounds' tps.
med() { local a; read -ra a <<<"${tps[$1]}"; median "${a[@]}"; }
base=$(med opaque)
for k in eddsa es256 hs256; do
    case $k in eddsa) alg=EdDSA ;; es256) alg=ES256 ;; hs256) alg=HS256 ;; esac
    for f in verify validate; do
        m=$(med "${f}_$k")
        r=$(ratio "$base" "$m")
        if [ "$f" = verify ]; then what="orion.verify_jwt of an $alg JWT (no session check)"
        else what="orion.validate_session of an $alg JWT (verified, then its session)"; fi
        if [ "$k" = hs256 ]; then goal="<= 1.5x"; v=$(verdict "$r" '<=' 1.5)
        else goal="reported"; v="reported"; fi
        bench_row "JWT access tokens" \
            "$what, 1 client, $SESSIONS tokens per kind; vs validate_session of an opaque token; ratio of latencies (baseline tps / orion tps), median of $ROUNDS" \
            "$(fmt_tps "$m") ($(us_call "$m"))" "$(fmt_tps "$base") ($(us_call "$base"))" "${r}x" "$goal" "$v"
    done
done
