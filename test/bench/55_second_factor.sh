# test/bench/55_second_factor.sh: rows "login, TOTP active" and
# "verify_totp".
#
# - login, TOTP active: orion.login of users with TOTP active (the password
#   verified at the default Argon2id cost, then an MFA challenge issued
#   instead of a session), against orion.login of users without (a session
#   and its tokens issued). One pgbench client, autocommit, rounds
#   alternating; the median latency of every call. Ratio = p50 / p50; goal
#   <= 1.05: the first step of a two-step sign-in costs what a sign-in costs.
# - verify_totp: the second step, each call a fresh challenge of its own
#   user with that user's next code (a code works once, so every call needs
#   its own user): the challenge found and locked, the lock state read, the
#   secret opened (AES-256-GCM), three HMAC-SHA-1 codes compared, the step
#   recorded, a session with its tokens issued and audited; against
#   orion.refresh_session of a fresh refresh token (found, locked, rotated:
#   the other way to new tokens without a password). Both through pgbench
#   -M prepared, one client, a fixed number of calls per round (each
#   credential works once). Ratio = verify_totp tps / refresh_session tps;
#   goal >= 0.7 (it does more: the secret opened, the codes computed, a
#   session inserted rather than updated).
. "$(dirname "$0")/lib.sh"

LOGIN_USERS=5
LOGIN_ROUNDS=$(scale 3 1)
LOGIN_SECONDS=$(scale 4 2)
VERIFY_ROUNDS=$(scale 3 1)
VERIFY_CALLS=$(scale 5000 1000)
FACTORS=$((VERIFY_ROUNDS * VERIFY_CALLS))
PASSWORD='correct horse battery staple'

log() { echo "55_second_factor: $*" >&2; }

# ---------------------------------------------------------------- login

log "registering $((2 * LOGIN_USERS)) users at the default Argon2id cost, half with TOTP active"
psql -X -q -At -v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT count(orion.register_user(kind || g || '@example.com', '$PASSWORD'))
  FROM generate_series(1, $LOGIN_USERS) g, unnest(ARRAY['plain', 'mfa']) kind;
CREATE TABLE bench_login_factors AS
SELECT u.id, e.secret FROM orion_auth.users u, orion.enroll_totp(u.id) e WHERE u.email LIKE 'mfa%';
SELECT count(orion.confirm_totp(id, orion.totp_code(secret))) FROM bench_login_factors;
SQL
ok=$(psql_value "SELECT count(*) FROM orion.login('mfa1@example.com', '$PASSWORD') WHERE mfa_challenge LIKE 'orion_c_%' AND access_token IS NULL")
[ "$ok" = 1 ] || { log "login of a TOTP user answered $ok challenge rows"; exit 1; }
ok=$(psql_value "SELECT count(*) FROM orion.login('plain1@example.com', '$PASSWORD') WHERE access_token LIKE 'orion_s_%'")
[ "$ok" = 1 ] || { log "login of a plain user answered $ok session rows"; exit 1; }

for kind in plain mfa; do
    cat >"$BENCH_TMP/login_$kind.sql" <<SQL
\\set n random(1, $LOGIN_USERS)
SELECT count(*) FROM orion.login('$kind' || :n || '@example.com', '$PASSWORD');
SQL
done

: >"$BENCH_TMP/login_mfa.us"; : >"$BENCH_TMP/login_plain.us"
for r in $(seq "$LOGIN_ROUNDS"); do
    latency_round login_mfa "$LOGIN_SECONDS"; latency_round login_plain "$LOGIN_SECONDS"
    log "round $r: $(wc -l <"$BENCH_TMP/login_mfa.us") logins with TOTP, $(wc -l <"$BENCH_TMP/login_plain.us") without, so far"
done
mfa_p50=$(quantile "$BENCH_TMP/login_mfa.us" 0.5)
plain_p50=$(quantile "$BENCH_TMP/login_plain.us" 0.5)
r=$(ratio "$mfa_p50" "$plain_p50")
bench_row "login, TOTP active" "1 client, default Argon2id cost: a challenge issued, vs a session issued" \
    "$mfa_p50 ms p50 ($(wc -l <"$BENCH_TMP/login_mfa.us") calls)" \
    "$plain_p50 ms p50 ($(wc -l <"$BENCH_TMP/login_plain.us") calls)" "$r" "<= 1.05" "$(verdict "$r" '<=' 1.05)"

# ---------------------------------------------------------------- verify_totp

log "creating $FACTORS users with TOTP active and a challenge each, and $FACTORS refresh tokens"
# Tokens as orion issues them: a prefix and 43 characters of base64url (32
# bytes); the tables hold their SHA-256. The users' password hashes are not
# hashes: no password is checked on this path.
psql -X -q -v ON_ERROR_STOP=1 <<SQL >&2
CREATE TABLE bench_pairs (n bigint PRIMARY KEY, user_id uuid NOT NULL, challenge text NOT NULL, secret text);
CREATE TABLE bench_refresh (n bigint PRIMARY KEY, token text NOT NULL);
CREATE SEQUENCE bench_pair_seq;
CREATE SEQUENCE bench_refresh_seq;
INSERT INTO orion_auth.users (id, email, password_hash)
SELECT md5('bench-mfa-' || g)::uuid, 'bench-mfa' || g || '@example.com', 'not-a-hash'
  FROM generate_series(1, $FACTORS) g;
INSERT INTO bench_pairs (n, user_id, challenge)
SELECT g, md5('bench-mfa-' || g)::uuid,
       'orion_c_' || rtrim(translate(encode(sha256(convert_to('bench-challenge-' || g, 'UTF8')), 'base64'), '+/', '-_'), '=')
  FROM generate_series(1, $FACTORS) g;
UPDATE bench_pairs p SET secret = (SELECT e.secret FROM orion.enroll_totp(p.user_id) e);
DO \$\$ BEGIN PERFORM count(orion.confirm_totp(user_id, orion.totp_code(secret))) FROM bench_pairs; END \$\$;
INSERT INTO orion_auth.one_time_tokens (user_id, purpose, token, email, expires_at)
SELECT p.user_id, 'mfa_challenge', encode(sha256(convert_to(p.challenge, 'UTF8')), 'hex'),
       'bench-mfa' || p.n || '@example.com', now() + interval '1 hour'
  FROM bench_pairs p;
INSERT INTO bench_refresh
SELECT g, 'orion_r_' || rtrim(translate(encode(sha256(convert_to('bench-refresh-' || g, 'UTF8')), 'base64'), '+/', '-_'), '=')
  FROM generate_series(1, $FACTORS) g;
INSERT INTO orion_auth.sessions (id, user_id, token, expires_at)
SELECT md5('bench-session-' || n)::uuid, md5('bench-mfa-' || n)::uuid,
       encode(sha256(convert_to('bench-access-' || n, 'UTF8')), 'hex'), now() + interval '1 hour'
  FROM bench_refresh;
INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at)
SELECT md5('bench-mfa-' || n)::uuid, md5('bench-session-' || n)::uuid,
       encode(sha256(convert_to(token, 'UTF8')), 'hex'), now() + interval '1 day'
  FROM bench_refresh;
VACUUM ANALYZE bench_pairs, bench_refresh, orion_auth.users, orion_auth.sessions, orion_auth.refresh_tokens,
    orion_auth.one_time_tokens, orion_auth.totp_factors, orion_auth.recovery_codes;
SQL

# the next step's code: the confirming code took the current one
cat >"$BENCH_TMP/verify.sql" <<'SQL'
SELECT count(*) FROM (SELECT * FROM bench_pairs WHERE n = (SELECT nextval('bench_pair_seq'))) p,
       orion.verify_totp(p.challenge, orion.totp_code(p.secret, now() + interval '30 s')) v
 WHERE v.access_token IS NOT NULL;
SQL
cat >"$BENCH_TMP/refresh.sql" <<'SQL'
SELECT count(*) FROM (SELECT * FROM bench_refresh WHERE n = (SELECT nextval('bench_refresh_seq'))) r,
       orion.refresh_session(r.token) s
 WHERE s.access_token IS NOT NULL;
SQL

verify_tps=(); refresh_tps=()
for r in $(seq "$VERIFY_ROUNDS"); do
    verify_tps+=("$(pgbench_tps "$BENCH_TMP/verify.sql" 1 -t "$VERIFY_CALLS")")
    refresh_tps+=("$(pgbench_tps "$BENCH_TMP/refresh.sql" 1 -t "$VERIFY_CALLS")")
    log "round $r: verify_totp ${verify_tps[-1]} tps, refresh_session ${refresh_tps[-1]} tps"
done

# every call of both must have issued tokens: the sessions tell
signed_in=$(psql_value "SELECT count(*) FROM orion_auth.audit_logs WHERE action = 'auth.login' AND new_data->>'method' = 'totp'")
[ "$signed_in" = "$FACTORS" ] || { log "verify_totp signed in $signed_in of $FACTORS"; exit 1; }
rotated=$(psql_value "SELECT count(*) FROM orion_auth.refresh_tokens WHERE revoked_reason = 'rotated'")
[ "$rotated" = "$FACTORS" ] || { log "refresh_session rotated $rotated of $FACTORS"; exit 1; }

v=$(median "${verify_tps[@]}"); b=$(median "${refresh_tps[@]}")
r=$(ratio "$v" "$b")
bench_row "verify_totp" "1 client, a fresh challenge and code per call, vs refresh_session of a fresh token" \
    "$(fmt_tps "$v")" "$(fmt_tps "$b")" "$r" ">= 0.7" "$(verdict "$r" '>=' 0.7)"
