# test/bench/60_user_delete.sh: row "user delete".
#
# One `DELETE FROM orion_auth.users WHERE ...` of N users (10,000; QUICK
# 1,000), each with 10 notifications, 5 AB assignments (5 active tests),
# 3 sessions with a refresh token each and 2 audit entries, among as many
# users that stay. orion's foreign keys and cleanup trigger remove the rest
# (and write one user.deleted audit entry per user). The baseline is the same
# data in schema `base` with plain cascading foreign keys, as a user without
# orion would declare them, and the same indexes. Each delete runs in a
# transaction that is rolled back; VACUUM ANALYZE between repetitions (the
# rolled-back audit inserts leave dead rows), orion and baseline alternate,
# median of 5 (QUICK 3).

. "$(dirname "$0")/lib.sh"

N=$(scale 10000 1000)
REPS=$(scale 5 3)

echo "user delete: setting up $N users to delete, $N to keep" >&2
psql -X -q -v ON_ERROR_STOP=1 -v n="$N" >&2 <<'SQL'
-- orion's tables; users first (notifications and assignments must name one)
INSERT INTO orion_auth.users (id, email, password_hash)
SELECT gen_random_uuid(),
       CASE WHEN i <= :n THEN 'victim-' ELSE 'keep-' END || i || '@example.com',
       '$argon2id$x'
  FROM generate_series(1, 2 * :n) AS i;
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active)
SELECT 'bench-' || t, 'Bench ' || t, '[{"key": "a"}, {"key": "b"}]', true
  FROM generate_series(1, 5) AS t;
INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, read, created_at)
SELECT u.id, 'info', 'in_app', 'Title ' || k, 'Message ' || k, k % 3 = 0,
       now() - k * interval '1 hour'
  FROM orion_auth.users u, generate_series(1, 10) AS k;
INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
SELECT u.id, t.id, 'a' FROM orion_auth.users u, orion_ab_testing.ab_tests t;
INSERT INTO orion_auth.sessions (user_id, token, ip_address, user_agent, expires_at)
SELECT u.id, encode(sha256(convert_to(u.id || '/' || k, 'UTF8')), 'hex'),
       '203.0.113.7', 'bench', now() + interval '15 minutes'
  FROM orion_auth.users u, generate_series(1, 3) AS k;
INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at)
SELECT s.user_id, s.id, encode(sha256(convert_to('r/' || s.id, 'UTF8')), 'hex'),
       now() + interval '7 days'
  FROM orion_auth.sessions s;
INSERT INTO orion_auth.audit_logs (user_id, action, resource)
SELECT u.id, 'auth.login', 'session'
  FROM orion_auth.users u, generate_series(1, 2) AS k;

-- the baseline: the same tables, columns, defaults and indexes, and plain
-- foreign keys (no triggers)
CREATE SCHEMA base;
CREATE TABLE base.users (LIKE orion_auth.users INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE base.sessions (LIKE orion_auth.sessions INCLUDING DEFAULTS INCLUDING INDEXES,
    FOREIGN KEY (user_id) REFERENCES base.users (id) ON DELETE CASCADE);
CREATE TABLE base.refresh_tokens (LIKE orion_auth.refresh_tokens INCLUDING DEFAULTS INCLUDING INDEXES,
    FOREIGN KEY (user_id) REFERENCES base.users (id) ON DELETE CASCADE,
    FOREIGN KEY (session_id) REFERENCES base.sessions (id) ON DELETE CASCADE);
CREATE TABLE base.audit_logs (LIKE orion_auth.audit_logs INCLUDING DEFAULTS INCLUDING INDEXES,
    FOREIGN KEY (user_id) REFERENCES base.users (id) ON DELETE SET NULL);
CREATE TABLE base.notifications (LIKE orion_notifications.notifications INCLUDING DEFAULTS INCLUDING INDEXES,
    FOREIGN KEY (user_id) REFERENCES base.users (id) ON DELETE CASCADE);
CREATE TABLE base.ab_tests (LIKE orion_ab_testing.ab_tests INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE base.ab_test_assignments (LIKE orion_ab_testing.ab_test_assignments INCLUDING DEFAULTS INCLUDING INDEXES,
    FOREIGN KEY (user_id) REFERENCES base.users (id) ON DELETE CASCADE,
    FOREIGN KEY (test_id) REFERENCES base.ab_tests (id) ON DELETE CASCADE);
INSERT INTO base.users SELECT * FROM orion_auth.users;
INSERT INTO base.sessions SELECT * FROM orion_auth.sessions;
INSERT INTO base.refresh_tokens SELECT * FROM orion_auth.refresh_tokens;
INSERT INTO base.audit_logs SELECT * FROM orion_auth.audit_logs WHERE user_id IS NOT NULL;
INSERT INTO base.notifications SELECT * FROM orion_notifications.notifications;
INSERT INTO base.ab_tests SELECT * FROM orion_ab_testing.ab_tests;
INSERT INTO base.ab_test_assignments SELECT * FROM orion_ab_testing.ab_test_assignments;
SQL

vacuum_all() {
    psql -X -q -v ON_ERROR_STOP=1 >&2 <<'SQL'
VACUUM ANALYZE orion_auth.users, orion_auth.sessions, orion_auth.refresh_tokens,
    orion_auth.audit_logs, orion_notifications.notifications,
    orion_ab_testing.ab_tests, orion_ab_testing.ab_test_assignments,
    orion_ab_testing.ab_test_conversions,
    base.users, base.sessions, base.refresh_tokens, base.audit_logs,
    base.notifications, base.ab_tests, base.ab_test_assignments;
SQL
}

# thousands N: N with thousands separators.
thousands() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }

# delete_ms SCHEMA_USERS_TABLE: the delete's time in ms, rolled back.
delete_ms() {
    psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | tail -n 1
BEGIN;
SELECT clock_timestamp() AS t0 \gset
DELETE FROM $1 WHERE email LIKE 'victim-%';
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3);
ROLLBACK;
SQL
}

# once, outside the timing: both deletes remove the same things
check=$(psql -X -q -At -v ON_ERROR_STOP=1 <<'SQL'
BEGIN;
DELETE FROM orion_auth.users WHERE email LIKE 'victim-%';
DELETE FROM base.users WHERE email LIKE 'victim-%';
SELECT (SELECT count(*) FROM orion_auth.users) = (SELECT count(*) FROM base.users)
   AND (SELECT count(*) FROM orion_notifications.notifications) = (SELECT count(*) FROM base.notifications)
   AND (SELECT count(*) FROM orion_ab_testing.ab_test_assignments) = (SELECT count(*) FROM base.ab_test_assignments)
   AND (SELECT count(*) FROM orion_auth.sessions) = (SELECT count(*) FROM base.sessions)
   AND (SELECT count(*) FROM orion_auth.refresh_tokens) = (SELECT count(*) FROM base.refresh_tokens)
   AND (SELECT count(*) FROM orion_notifications.notifications) = 10 * (SELECT count(*) FROM base.users)
   AND (SELECT count(*) FROM orion_auth.audit_logs WHERE action = 'user.deleted') = (SELECT count(*) FROM base.users);
ROLLBACK;
SQL
)
if [ "$check" != t ]; then
    echo "user delete: orion and the baseline did not delete the same rows" >&2
    exit 1
fi

orion_ms=() base_ms=()
for i in $(seq "$REPS"); do
    vacuum_all
    orion_ms+=("$(delete_ms orion_auth.users)")
    vacuum_all
    base_ms+=("$(delete_ms base.users)")
    echo "user delete: run $i: orion ${orion_ms[-1]} ms, baseline ${base_ms[-1]} ms" >&2
done

o=$(median "${orion_ms[@]}")
b=$(median "${base_ms[@]}")
r=$(ratio "$o" "$b")
fmt=$(thousands "$N")
bench_row "user delete" "DELETE of $fmt users (10 notifications, 5 assignments, 3 sessions each), median of $REPS" \
    "$(printf '%.0f ms' "$o")" "$(printf '%.0f ms' "$b")" "${r}x" "<= 1.5x" "$(verdict "$r" "<=" 1.5)"
