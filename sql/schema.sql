--
-- The tables are the seed's: every table, column, type, nullability,
-- default, constraint and index, read from the catalogs. The expected output
-- is the seed's SQL with the deviations README.md lists (timestamptz,
-- case-insensitive email, hashed tokens, indexes that only duplicated a
-- UNIQUE constraint left out, the unread-list index added).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

-- the schemas and what they hold
SELECT n.nspname AS schema, c.relname AS name,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' END AS kind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname LIKE 'orion%' AND c.relkind IN ('r', 'v')
 ORDER BY 1, 2;

-- columns, in order, with type, nullability and default
SELECT c.oid::regclass AS "table", a.attname AS "column",
       format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS "default"
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE n.nspname LIKE 'orion%' AND c.relkind IN ('r', 'v')
 ORDER BY n.nspname, c.relname, a.attnum;

-- primary keys, unique constraints, foreign keys with their actions, checks
-- (NOT NULL, a constraint of its own since PostgreSQL 18, is in the columns)
SELECT conrelid::regclass AS "table", conname AS name, pg_get_constraintdef(oid) AS definition
  FROM pg_constraint
 WHERE connamespace::regnamespace::text LIKE 'orion%' AND contype <> 'n'
 ORDER BY conrelid::regclass::text, contype, conname;

-- every index
SELECT indrelid::regclass AS "table", pg_get_indexdef(indexrelid) AS definition
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace::regnamespace::text LIKE 'orion%'
 ORDER BY indrelid::regclass::text, indexrelid::regclass::text;

-- the seed's defaults fill a minimal row
INSERT INTO orion_auth.users (email, password_hash)
VALUES ('Ada@Example.com', 'hash') RETURNING role, email_verified,
       id IS NOT NULL AS has_id, created_at = now() AS created_now,
       updated_at = now() AS updated_now, last_login_at;

-- email is unique case-insensitively
INSERT INTO orion_auth.users (email, password_hash) VALUES ('ada@example.COM', 'hash');
-- ... while the seed's index still serves WHERE email = $1
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM orion_auth.users WHERE email = 'Ada@Example.com';
EXPLAIN (COSTS OFF) SELECT id FROM orion_auth.users WHERE lower(email) = 'ada@example.com';

-- a token column takes a SHA-256 hex digest, never a plaintext token (terse:
-- the failing row's timestamps would differ from run to run)
\set VERBOSITY terse
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT id, 'orion_s_plaintext-token-that-must-never-be-stored', now() + interval '15 minutes'
  FROM orion_auth.users;
INSERT INTO orion_auth.refresh_tokens (user_id, token, expires_at)
SELECT id, upper(encode(sha256('t'), 'hex')), now() FROM orion_auth.users;
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT id, encode(sha256('orion_s_example'), 'hex'), now() + interval '15 minutes'
  FROM orion_auth.users
RETURNING length(token) AS token_length;
\set VERBOSITY default

-- the seed's foreign keys: sessions go with their user, audit rows stay
INSERT INTO orion_auth.audit_logs (user_id, action, resource)
SELECT id, 'auth.login', 'session' FROM orion_auth.users;
DELETE FROM orion_auth.users;
SELECT (SELECT count(*) FROM orion_auth.sessions) AS sessions,
       (SELECT count(*) FROM orion_auth.audit_logs
         WHERE action = 'auth.login' AND user_id IS NULL) AS audit_rows_kept;

-- assignments go with their test; one assignment per user and test (the
-- user need not exist here: this is about the table's own constraints)
SET orion.enforce_user_references = off;
INSERT INTO orion_ab_testing.ab_tests (id, key, name, variants)
VALUES ('00000000-0000-0000-0000-0000000000a1', 'pricing', 'Pricing page', '[{"key": "control"}, {"key": "b"}]');
INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
SELECT '00000000-0000-0000-0000-000000000001', id, 'control' FROM orion_ab_testing.ab_tests;
INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
SELECT '00000000-0000-0000-0000-000000000001', id, 'b' FROM orion_ab_testing.ab_tests;
DELETE FROM orion_ab_testing.ab_tests;
SELECT count(*) AS assignments_left FROM orion_ab_testing.ab_test_assignments;
RESET orion.enforce_user_references;
RESET enable_seqscan;
