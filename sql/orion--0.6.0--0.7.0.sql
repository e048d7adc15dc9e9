/* sql/orion--0.6.0--0.7.0.sql: the hot read paths probe their indexes directly */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION orion UPDATE TO '0.7.0'" to load this file. \quit

-- validate_session and peek_variant now read the current session and a
-- stored assignment by probing the unique index (no statement is planned
-- or run), and pin search_path themselves around the statements they still
-- run, as the flag evaluators do. A SET clause would switch search_path on
-- every call: a tenth of a session check. The C code of 0.7.0 pins it with
-- or without the clause, so an older installation stays safe until updated.
ALTER FUNCTION orion.validate_session(text) RESET search_path;
ALTER FUNCTION orion.peek_variant(text, uuid) RESET search_path;
