# test/bench/50_login.sh: row "login".
#
# orion.login(email, password) end to end at the default Argon2id cost (the
# account's hash looked up, verified, a session and its tokens issued, the
# login recorded and audited), against the hash verification alone: the same
# user's stored hash looked up and checked with orion.verify_password, which
# is the least any login must do. One pgbench client, autocommit, rounds
# alternating between the two; the median latency of every call of each.
# Ratio = login p50 / verification p50; goal <= 1.05 (overhead <= 5%).
. "$(dirname "$0")/lib.sh"

USERS=10
ROUNDS=$(scale 3 1)
SECONDS_PER_ROUND=$(scale 4 2)
PASSWORD='correct horse battery staple'

log() { echo "50_login: $*" >&2; }

# Registration hashes at the settings of the session: the defaults, which are
# the cost being measured (no orion.argon2_* SET here).
log "registering $USERS users at $(psql_value "SELECT setting FROM pg_settings WHERE name = 'orion.argon2_memory_kib'") KiB, $(psql_value "SHOW orion.argon2_iterations") passes"
psql -X -q -At -v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT count(orion.register_user('bench' || g || '@example.com', '$PASSWORD'))
FROM generate_series(1, $USERS) g;
SQL

ok=$(psql_value "SELECT count(*) FROM orion.login('bench1@example.com', '$PASSWORD')")
[ "$ok" = 1 ] || { log "orion.login returned $ok rows for a right password"; exit 1; }
ok=$(psql_value "SELECT orion.verify_password('$PASSWORD', password_hash)
                 FROM orion_auth.users WHERE lower(email) = 'bench1@example.com'")
[ "$ok" = t ] || { log "verify_password returned '$ok' for a right password"; exit 1; }
ok=$(psql_value "SELECT bool_and(NOT orion.password_needs_rehash(password_hash)) FROM orion_auth.users")
[ "$ok" = t ] || { log "some hash is not at the current settings (login would rehash it)"; exit 1; }

cat >"$BENCH_TMP/login.sql" <<SQL
\\set n random(1, $USERS)
SELECT count(*) FROM orion.login('bench' || :n || '@example.com', '$PASSWORD');
SQL
cat >"$BENCH_TMP/verify.sql" <<SQL
\\set n random(1, $USERS)
SELECT orion.verify_password('$PASSWORD', password_hash)
FROM orion_auth.users WHERE lower(email) = lower('bench' || :n || '@example.com');
SQL

: >"$BENCH_TMP/login.us"; : >"$BENCH_TMP/verify.us"
for r in $(seq "$ROUNDS"); do
    latency_round login "$SECONDS_PER_ROUND"; latency_round verify "$SECONDS_PER_ROUND"
    log "round $r: $(wc -l <"$BENCH_TMP/login.us") logins, $(wc -l <"$BENCH_TMP/verify.us") verifications so far"
done

login_p50=$(quantile "$BENCH_TMP/login.us" 0.5)
verify_p50=$(quantile "$BENCH_TMP/verify.us" 0.5)
log "login p99 $(quantile "$BENCH_TMP/login.us" 0.99) ms, verification p99 $(quantile "$BENCH_TMP/verify.us" 0.99) ms"
r=$(ratio "$login_p50" "$verify_p50")
bench_row "login" "1 client, default Argon2id cost, vs the hash verification alone" \
    "$login_p50 ms p50 ($(wc -l <"$BENCH_TMP/login.us") calls)" \
    "$verify_p50 ms p50 ($(wc -l <"$BENCH_TMP/verify.us") calls)" "$r" "<= 1.05" "$(verdict "$r" '<=' 1.05)"
