--
-- Included by the regress tests that hand out tokens and secrets: every
-- text, varchar, jsonb and bytea column of every orion table is searched
-- for each token of the temporary table handed_out (token text), without
-- its readable prefix (orion_x_) when it has one, so that a token stored
-- as itself, in part or inside JSON is found. bytea columns are searched
-- for the token's bytes, and for the bytes of handed_out_bytes (raw bytea)
-- when a test fills that table (a raw TOTP secret).
--
CREATE TEMP TABLE token_search (place text, hits bigint);
CREATE TEMP TABLE IF NOT EXISTS handed_out_bytes (raw bytea);
DO $$
DECLARE
    col record;
    hits bigint;
BEGIN
    FOR col IN
        SELECT n.nspname, c.relname, a.attname, a.atttypid = 'bytea'::regtype AS is_bytea
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname LIKE 'orion\_%' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'jsonb'::regtype, 'bytea'::regtype)
    LOOP
        IF col.is_bytea THEN
            EXECUTE format($q$SELECT count(*) FROM %I.%I t,
                                (SELECT convert_to(token, 'UTF8') AS b FROM handed_out
                                 UNION ALL SELECT raw FROM handed_out_bytes) h
                               WHERE position(h.b IN t.%I) > 0$q$,
                           col.nspname, col.relname, col.attname)
               INTO hits;
        ELSE
            EXECUTE format($q$SELECT count(*) FROM %I.%I t, handed_out h
                               WHERE strpos(t.%I::text, regexp_replace(h.token, '^orion_[a-z]_', '')) > 0$q$,
                           col.nspname, col.relname, col.attname)
               INTO hits;
        END IF;
        INSERT INTO token_search VALUES (col.nspname || '.' || col.relname || '.' || col.attname, hits);
    END LOOP;
END
$$;
SELECT count(*) > 40 AS every_text_column, (SELECT count(*) FROM handed_out) AS tokens_searched,
       coalesce(sum(hits), 0) AS tokens_found,
       string_agg(place, ', ') FILTER (WHERE hits > 0) AS found_in
  FROM token_search;
DROP TABLE token_search, handed_out, handed_out_bytes;
