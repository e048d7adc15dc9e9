--
-- The extension's life cycle: install, version, settings prefix, the objects
-- pg_dump must carry, DROP and CREATE again.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

-- the library and the installed SQL belong to the same version
SELECT extname, extversion, extrelocatable, extnamespace::regnamespace AS schema,
       orion.version() = extversion AS library_matches
  FROM pg_extension WHERE extname = 'orion';

-- pgcrypto came along as a requirement
SELECT extname FROM pg_extension WHERE extname = 'pgcrypto';

-- once the library is loaded, a misspelt orion.* setting is an error, not a
-- placeholder that silently does nothing
SET orion.no_such_setting = 1;
SHOW orion.no_such_setting;

-- every table is registered with pg_dump, so dumps carry the data
SELECT c::regclass AS config_table
  FROM pg_extension, unnest(extconfig) AS c
 WHERE extname = 'orion'
 ORDER BY c::regclass::text;
SELECT count(*) AS tables_not_registered
  FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname LIKE 'orion%' AND t.relkind = 'r'
   AND t.oid NOT IN (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'orion');

-- every object of the extension has a comment
SELECT pg_describe_object(classid, objid, objsubid) AS uncommented
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'orion')
   AND deptype = 'e'
   AND obj_description(objid, classid::regclass::name) IS NULL
   AND classid <> 'pg_type'::regclass
 ORDER BY 1;

--
-- DROP EXTENSION removes the five service schemas with their tables and
-- data; the roles stay (they are global and may hold grants elsewhere), and
-- so does the empty schema "orion", which CREATE EXTENSION made as the
-- extension's home and PostgreSQL does not drop.
--
INSERT INTO orion_auth.users (email, password_hash) VALUES ('drop@example.com', 'x');
DROP EXTENSION orion;
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'orion%' ORDER BY 1;
SELECT count(*) AS objects_left_in_orion
  FROM pg_class WHERE relnamespace = 'orion'::regnamespace;
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'orion\_%' ORDER BY 1;

-- orion needs pgcrypto; without CASCADE it says so
DROP EXTENSION pgcrypto;
CREATE EXTENSION orion;

-- CREATE, DROP, CREATE twice in one database; the existing roles are reused
CREATE EXTENSION orion CASCADE;
SELECT count(*) AS users_after_recreate FROM orion_auth.users;
DROP EXTENSION orion;
CREATE EXTENSION orion;
SELECT count(*) AS tables
  FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname LIKE 'orion\_%' AND t.relkind IN ('r', 'v');
