--
-- Included by the regress tests that hand out tokens: every text, varchar
-- and jsonb column of every orion table is searched for each token of the
-- temporary table handed_out (token text), without its readable prefix, so
-- a token stored as itself, in part or inside JSON is found.
--
CREATE TEMP TABLE token_search (place text, hits bigint);
DO $$
DECLARE
    col record;
    hits bigint;
BEGIN
    FOR col IN
        SELECT n.nspname, c.relname, a.attname
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname LIKE 'orion\_%' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'jsonb'::regtype)
    LOOP
        EXECUTE format('SELECT count(*) FROM %I.%I t, handed_out h
                         WHERE strpos(t.%I::text, substr(h.token, 9)) > 0',
                       col.nspname, col.relname, col.attname)
           INTO hits;
        INSERT INTO token_search VALUES (col.nspname || '.' || col.relname || '.' || col.attname, hits);
    END LOOP;
END
$$;
SELECT count(*) > 40 AS every_text_column, (SELECT count(*) FROM handed_out) AS tokens_searched,
       coalesce(sum(hits), 0) AS tokens_found,
       string_agg(place, ', ') FILTER (WHERE hits > 0) AS found_in
  FROM token_search;
DROP TABLE token_search, handed_out;
