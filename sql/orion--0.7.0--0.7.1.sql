/* sql/orion--0.7.0--0.7.1.sql: a fix in the library only */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION orion UPDATE TO '0.7.1'" to load this file. \quit

-- 0.7.1 changes no SQL object. Its library keeps the flag or AB test being
-- evaluated alive while a refill of the cache that holds it runs (0.7.0
-- could free it and crash, restarting every backend of the server), and an
-- index probe looks its index up again when DDL replaced it since the
-- probe found it. The library is what fixes both, whatever version the
-- extension is at; this step keeps extversion equal to orion.version().
