--
-- Passwords: Argon2id hashing at the settings' cost, verification of
-- Argon2id and of the original service's bcrypt hashes, rehash detection,
-- and every way a password, a hash or a setting can be refused.
-- (Hashes made by npm bcryptjs are checked in test/t/003_bcrypt_compat.pl.)
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

-- the settings, their defaults and who may change them
SELECT name, setting, unit, context FROM pg_settings
 WHERE name ~ '^orion\.(argon2|password)' ORDER BY name;

-- a new hash is an Argon2id PHC string at the settings
SELECT orion.hash_password('correct horse battery staple') AS h \gset
SELECT :'h' ~ '^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$' AS phc_string;
SELECT orion.verify_password('correct horse battery staple', :'h') AS right_password,
       orion.verify_password('correct horse battery stapler', :'h') AS wrong_password,
       orion.verify_password('', :'h') AS empty_password;
-- salted: the same password never hashes the same twice
SELECT orion.hash_password('correct horse battery staple') <> :'h' AS salted;

-- known answers, made with the argon2 command-line tool (Debian package
-- argon2, the reference implementation), e.g.
--   echo -n password | argon2 somesalt -id -t 2 -m 16 -p 4 -l 24 -e
SELECT orion.verify_password('password',
       '$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU') AS kat_4_lanes,
       orion.verify_password('correct horse battery staple',
       '$argon2id$v=19$m=19456,t=2,p=1$b3Jpb24ta2F0LXNhbHQxNg$RYD9KJL/v6yLbRqrJ99snDlukQ2+NkVGcIgvJhYy+MU') AS kat_owasp,
       orion.verify_password('pässwörd 日本語 🔑',
       '$argon2id$v=19$m=8192,t=3,p=2$b3Jpb24ta2F0LXNhbHQxNg$/KeDOqDj0SAekzQiUqqx4efuku9sImApgSKTL1n/hk4') AS kat_utf8,
       orion.verify_password('passwore',
       '$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU') AS kat_wrong;

-- the settings set the cost of new hashes; older ones need a rehash
SET orion.argon2_memory_kib = '8MB';
SET orion.argon2_iterations = 3;
SET orion.argon2_parallelism = 2;
SELECT orion.hash_password('correct horse battery staple') AS h2 \gset
SELECT substring(:'h2' from '^\$argon2id\$v=19\$[^$]+') AS parameters,
       orion.verify_password('correct horse battery staple', :'h2') AS verifies,
       orion.password_needs_rehash(:'h2') AS new_needs_rehash,
       orion.password_needs_rehash(:'h') AS old_needs_rehash;
RESET orion.argon2_memory_kib;
RESET orion.argon2_iterations;
RESET orion.argon2_parallelism;

-- bcrypt hashes of the original Node service. pgcrypto makes $2a$ ones;
-- npm bcrypt wrote the same hash as $2b$, and PHP as $2y$.
SELECT crypt('hunter2hunter2', gen_salt('bf', 4)) AS bf \gset
SELECT v AS variant,
       orion.verify_password('hunter2hunter2', overlay(:'bf' placing v from 1 for 4)) AS orion_right,
       orion.verify_password('hunter2hunter3', overlay(:'bf' placing v from 1 for 4)) AS orion_wrong,
       crypt('hunter2hunter2', overlay(:'bf' placing v from 1 for 4))
           = overlay(:'bf' placing v from 1 for 4) AS pgcrypto_right,
       orion.password_needs_rehash(overlay(:'bf' placing v from 1 for 4)) AS needs_rehash
  FROM unnest(ARRAY['$2a$', '$2b$', '$2y$']) AS v;
-- what pgcrypto silently does with $2b$: a 13-character DES hash
SELECT length(crypt('hunter2hunter2', overlay(:'bf' placing '$2b$' from 1 for 4))) AS pgcrypto_2b_result_length;
-- crypt_blowfish's own test vector
SELECT orion.verify_password('U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW') AS vector_2a,
       orion.verify_password('U*U', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW') AS vector_2b;

--
-- Refused passwords
--
SELECT orion.hash_password(NULL);
SELECT orion.verify_password(NULL, :'h');
SELECT orion.verify_password('x', NULL);
SELECT orion.password_needs_rehash(NULL);
SELECT orion.hash_password('');
SELECT orion.hash_password('short7!');
SELECT length(orion.hash_password('8 chars!')) > 0 AS eight_characters_pass;
SELECT length(orion.hash_password('äöüßéèêë')) > 0 AS eight_characters_not_bytes;
SELECT orion.hash_password(repeat('x', 1025));
SELECT orion.verify_password(repeat('x', 1025), :'h');
-- verification checks the upper bound only: old passwords may be short
SELECT orion.verify_password('short', :'h') AS short_password_just_fails;

--
-- Refused hashes: each a clear error, never a silent false
--
SELECT orion.verify_password('x', '');
SELECT orion.verify_password('x', 'correct horse battery staple');
SELECT orion.verify_password('x', '$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0');
SELECT orion.verify_password('x', '$5$rounds=5000$saltsalt$abc');
SELECT orion.verify_password('x', '$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$argon2id$');
SELECT orion.verify_password('x', '$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ');
SELECT orion.verify_password('x', '$argon2id$v=19$m=065536,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$argon2id$v=19$t=2,m=65536,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHB!');
SELECT orion.verify_password('x', '$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ=$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU$extra');
SELECT orion.verify_password('x', '$argon2id$v=19$m=65536,t=2,p=4$c2FsdA$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$argon2id$v=16$m=65536,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$argon2id$v=19$m=4294967295,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$argon2id$v=19$m=65536,t=99999,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$argon2id$v=19$m=65536,t=2,p=0$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$argon2id$v=19$m=16,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$argon2id$v=19$m=99999999999,t=2,p=4$c29tZXNhbHQ$F1jG2CV3/Nr+yRuIsPKw0J9r4s7cJHBU');
SELECT orion.verify_password('x', '$2b$12$tooshort');
SELECT orion.verify_password('x', '$2b$1x$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT orion.verify_password('x', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvy*eW');
SELECT orion.verify_password('x', '$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT orion.verify_password('x', '$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT orion.verify_password('x', '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
SELECT orion.password_needs_rehash('$argon2id$v=19$m=65536');
SELECT orion.password_needs_rehash('plaintext');

--
-- Refused settings
--
-- (22023; only the code, since PostgreSQL 16 words the range with its units)
\set VERBOSITY sqlstate
SET orion.argon2_memory_kib = 0;
SET orion.argon2_memory_kib = '2GB';
\set VERBOSITY default
SET orion.argon2_iterations = 0;
SET orion.argon2_iterations = 1000;
SET orion.argon2_parallelism = 0;
SET orion.argon2_parallelism = 17;
SET orion.password_min_length = 0;
SET orion.password_max_bytes = 71;
-- memory must cover 8 kB per lane
SET orion.argon2_memory_kib = 64;
SET orion.argon2_parallelism = 16;
SELECT orion.hash_password('correct horse battery staple');
RESET orion.argon2_memory_kib;
RESET orion.argon2_parallelism;
-- only superusers change what weakens hashing
SET ROLE orion_auth_service;
SET orion.argon2_memory_kib = 1024;
SET orion.password_min_length = 1;
RESET ROLE;
