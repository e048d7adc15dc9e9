--
-- Upgrading: the oldest supported version, updated step by step, must equal
-- a fresh installation of the newest, and keep its data. (While the newest
-- version has no install script of its own, CREATE EXTENSION takes the same
-- path; the comparison guards the day one is added.)
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS orion;
CREATE EXTENSION orion VERSION '0.1.0' CASCADE;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'orion';
INSERT INTO orion_auth.users (email, password_hash)
VALUES ('kept@example.com', overlay(crypt('kept password', gen_salt('bf', 4)) placing '$2b$' from 1 for 4));

ALTER EXTENSION orion UPDATE;
SELECT extversion, orion.version() = extversion AS library_matches
  FROM pg_extension WHERE extname = 'orion';
-- the data stayed, and works with the new functions
SELECT email, failed_login_count, locked_until FROM orion_auth.users;
SET orion.argon2_memory_kib = 1024;
SELECT count(*) AS login_after_upgrade FROM orion.login('kept@example.com', 'kept password');

-- A fingerprint of every object of the extension: columns, constraints,
-- indexes, functions with their settings and privileges, comments.
CREATE FUNCTION pg_temp.orion_fingerprint() RETURNS text LANGUAGE sql AS $$
    SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
        SELECT format('column %s.%s %s %s %s', a.attrelid::regclass, a.attname,
                      format_type(a.atttypid, a.atttypmod), a.attnotnull,
                      pg_get_expr(d.adbin, d.adrelid))
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace::regnamespace::text LIKE 'orion%' AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
          FROM pg_constraint WHERE connamespace::regnamespace::text LIKE 'orion%'
        UNION ALL
        SELECT format('index %s', pg_get_indexdef(indexrelid))
          FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
         WHERE c.relnamespace::regnamespace::text LIKE 'orion%'
        UNION ALL
        SELECT format('function %s %s %s %s %s %s', p.oid::regprocedure, p.provolatile, p.prosecdef,
                      p.proconfig, p.proacl, obj_description(p.oid, 'pg_proc'))
          FROM pg_proc p WHERE p.pronamespace = 'orion'::regnamespace
        UNION ALL
        SELECT format('table %s %s %s', c.oid::regclass, c.relacl, obj_description(c.oid, 'pg_class'))
          FROM pg_class c WHERE c.relnamespace::regnamespace::text LIKE 'orion%'
        UNION ALL
        SELECT format('config %s', c::regclass)
          FROM pg_extension, unnest(extconfig) AS c WHERE extname = 'orion'
    ) AS objects(x)
$$;
SELECT pg_temp.orion_fingerprint() AS upgraded \gset

SET client_min_messages = warning;
DROP EXTENSION orion;
CREATE EXTENSION orion;
RESET client_min_messages;
SELECT pg_temp.orion_fingerprint() = :'upgraded' AS upgraded_equals_fresh;

-- there is no way down
ALTER EXTENSION orion UPDATE TO '0.1.0';
