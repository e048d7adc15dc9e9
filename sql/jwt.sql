--
-- JWT access tokens: keys (made, imported, refused), the tokens login and
-- refresh hand out with orion.access_token_format = jwt, their claims, and
-- verification: validate_session (signature, claims, live session) and
-- verify_jwt (no session check), key rotation, logout and the deny list,
-- and every way a token is refused, with the reason logged at DEBUG1.
--
-- Tokens with chosen claims are made here with HS256 and pgcrypto's hmac():
-- whoever holds an HS256 secret can mint tokens, which is what these tests
-- need (and what the README says about HS256).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;

CREATE FUNCTION pg_temp.b64url(b bytea) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT translate(encode(b, 'base64'), E'+/=\n', '-_') $$;
CREATE FUNCTION pg_temp.part(token text, n integer) RETURNS jsonb LANGUAGE sql IMMUTABLE
    AS $$ SELECT convert_from(decode(rpad(translate(split_part(token, '.', n), '-_', '+/'),
                  (length(split_part(token, '.', n)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb $$;
-- an HS256 token of a header and claims given as JSON text, exactly as written
CREATE FUNCTION pg_temp.hs256(header text, claims text, secret text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT pg_temp.b64url(convert_to(header, 'UTF8')) || '.' || pg_temp.b64url(convert_to(claims, 'UTF8'))
              || '.' || pg_temp.b64url(hmac(pg_temp.b64url(convert_to(header, 'UTF8')) || '.'
                                            || pg_temp.b64url(convert_to(claims, 'UTF8')), secret, 'sha256')) $$;

SELECT orion.register_user('jwt@example.com', 'correct horse battery') AS uid \gset
SET orion.access_token_format = jwt;

-- no signing key yet: a JWT login says what to do
SELECT * FROM orion.login('jwt@example.com', 'correct horse battery');

-- refused keys
SELECT orion.rotate_signing_key('none');
SELECT orion.rotate_signing_key('RS256');
SELECT orion.rotate_signing_key('HS256');
SELECT orion.rotate_signing_key('HS256', 'only-31-bytes-of-shared-secret!');
SELECT orion.rotate_signing_key('EdDSA', 'not a key');
SELECT orion.rotate_signing_key('EdDSA', '-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/9y/oMNeiZldDSgn
t+HoSl1p/aSVvetBgM6xwbBfcwGhRANCAAT/F8i9md0PLofonvv5xpO3DOGnfgJ3
D/yApOzFOoB6SPGffthKEwo4Nn9cwij6XglIsbuX1XSZA++8/hfyRz7e
-----END PRIVATE KEY-----');
SELECT orion.rotate_signing_key('ES256', '-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
-----END PRIVATE KEY-----');
-- an encrypted key is refused, never prompted for
SELECT orion.rotate_signing_key('EdDSA', '-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiuTgWMCBZNpAICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEIRYC9aaXj8UkztfgVjkyW4EQMk0
-----END ENCRYPTED PRIVATE KEY-----');
SELECT count(*) AS keys_after_refusals FROM orion_auth.signing_keys;

-- RFC 8032's first Ed25519 key, imported: its JWK is RFC 8037 A.2's
SELECT orion.rotate_signing_key('EdDSA', '-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
-----END PRIVATE KEY-----') AS ed_kid \gset
SELECT k - 'kid' AS jwk, k->>'kid' = :'ed_kid' AS kid_matches
  FROM jsonb_array_elements(orion.jwks()->'keys') k;
-- stored sealed: the private key's bytes appear nowhere in the row
SELECT algorithm, public_key IS NOT NULL AS has_public_key, get_byte(private_key, 0) AS sealed_version,
       position('\x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'::bytea IN private_key) AS plain_at,
       retired_at IS NULL AS current
  FROM orion_auth.signing_keys;

-- a login hands out a JWT; the session stores only its SHA-256
SELECT access_token AS tok, session_id AS sid, refresh_token AS rt, access_expires_at AS exp_at
  FROM orion.login('jwt@example.com', 'correct horse battery', '203.0.113.7', 'psql') \gset
SELECT pg_temp.part(:'tok', 1) - 'kid' AS header, pg_temp.part(:'tok', 1)->>'kid' = :'ed_kid' AS kid_matches;
SELECT c - '{sub,sid,iat,exp,jti}'::text[] AS claims,
       c->>'sub' = :'uid' AS sub_is_user, c->>'sid' = :'sid' AS sid_is_session,
       (c->>'exp')::bigint - (c->>'iat')::bigint AS lifetime,
       to_timestamp((c->>'exp')::bigint) = :'exp_at' AS exp_is_access_expires_at,
       length(c->>'jti') AS jti_length
  FROM (SELECT pg_temp.part(:'tok', 2) AS c) x;
SELECT token = encode(sha256(convert_to(:'tok', 'UTF8')), 'hex') AS stores_digest,
       expires_at = :'exp_at' AS expires_with_token
  FROM orion_auth.sessions WHERE id = :'sid';
SELECT verify_jwt = pg_temp.part(:'tok', 2) AS verify_jwt_gives_claims FROM orion.verify_jwt(:'tok');
SELECT user_id = :'uid' AS user_ok, session_id = :'sid' AS session_ok, email, role,
       expires_at = :'exp_at' AS expires_ok
  FROM orion.validate_session(:'tok');

-- the claims carry the current email and its verification, the role setting
SET orion.jwt_role = 'app_user';
UPDATE orion_auth.users SET email_verified = true WHERE id = :'uid';
SELECT access_token AS tok2, refresh_token AS rt2 FROM orion.refresh_session(:'rt') \gset
SELECT c->>'role' AS role, c->>'email_verified' AS email_verified, c->>'sid' = :'sid' AS same_session
  FROM (SELECT orion.verify_jwt(:'tok2') AS c) x;
RESET orion.jwt_role;
-- the token a refresh replaced lives until its exp, as an opaque one does
SELECT count(*) AS old_token_still_valid FROM orion.validate_session(:'tok');

-- rotation: ES256 signs from now; EdDSA tokens keep verifying
SELECT orion.rotate_signing_key('ES256', '-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/9y/oMNeiZldDSgn
t+HoSl1p/aSVvetBgM6xwbBfcwGhRANCAAT/F8i9md0PLofonvv5xpO3DOGnfgJ3
D/yApOzFOoB6SPGffthKEwo4Nn9cwij6XglIsbuX1XSZA++8/hfyRz7e
-----END PRIVATE KEY-----') AS es_kid \gset
SELECT k->>'alg' AS alg, k->>'kty' AS kty, k->>'crv' AS crv, k->>'x' AS x, k->>'y' AS y
  FROM jsonb_array_elements(orion.jwks()->'keys') k ORDER BY 1;
SELECT algorithm, retired_at IS NOT NULL AS retired,
       date_trunc('second', verify_until - retired_at) AS verifies_for
  FROM orion_auth.signing_keys ORDER BY created_at;
SELECT count(*) AS eddsa_token_valid FROM orion.validate_session(:'tok2');
SELECT access_token AS tok3, refresh_token AS rt3 FROM orion.refresh_session(:'rt2') \gset
SELECT pg_temp.part(:'tok3', 1)->>'alg' AS alg, pg_temp.part(:'tok3', 1)->>'kid' = :'es_kid' AS kid_matches;
SELECT count(*) AS es256_token_valid FROM orion.validate_session(:'tok3');

-- a retired key past verify_until verifies nothing, and leaves the JWKS
UPDATE orion_auth.signing_keys SET verify_until = now() - interval '1 second' WHERE kid = :'ed_kid';
SELECT count(*) AS eddsa_token_valid FROM orion.validate_session(:'tok2');
SELECT jsonb_array_length(orion.jwks()->'keys') AS published_keys;

-- HS256: the services' shared secret signs; the JWKS never lists it
SELECT orion.rotate_signing_key('HS256', 'a-shared-secret-of-at-least-32-bytes!') AS hs_kid \gset
SELECT access_token AS tok4 FROM orion.refresh_session(:'rt3') \gset
SELECT pg_temp.part(:'tok4', 1) - 'kid' AS header;
SELECT count(*) AS hs256_token_valid FROM orion.validate_session(:'tok4');
SELECT k->>'alg' AS published FROM jsonb_array_elements(orion.jwks()->'keys') k;
-- a token made with the secret elsewhere verifies (as any holder's would),
-- but validate_session accepts only the tokens orion handed out for a session
SELECT pg_temp.hs256(format('{"alg":"HS256","kid":"%s"}', :'hs_kid'),
                     format('{"iss":"orion","aud":["other","orion"],"sub":"%s","sid":"%s","exp":%s}',
                            :'uid', :'sid', extract(epoch FROM now())::bigint + 60),
                     'a-shared-secret-of-at-least-32-bytes!') AS minted \gset
SELECT orion.verify_jwt(:'minted')->>'sub' = :'uid' AS minted_verifies,
       (SELECT count(*) FROM orion.validate_session(:'minted')) AS minted_opens_sessions;
-- a JWT two refreshes old no longer validates, as an opaque token would not
SELECT count(*) AS first_token_after_two_refreshes FROM orion.validate_session(:'tok');

-- refused tokens, each for its reason (minted: KID, UID, SID, NOW and
-- LATER, a minute on, filled in)
CREATE FUNCTION pg_temp.minted(header text, claims text) RETURNS text LANGUAGE sql
    AS $$ SELECT pg_temp.hs256(replace(header, 'KID', current_setting('jwt.hs_kid')),
                               replace(replace(replace(replace(claims, 'UID', current_setting('jwt.uid')),
                                                       'SID', current_setting('jwt.sid')),
                                               'LATER', (floor(extract(epoch FROM now()))::bigint + 60)::text),
                                       'NOW', floor(extract(epoch FROM now()))::bigint::text),
                               'a-shared-secret-of-at-least-32-bytes!') $$;
SELECT set_config('jwt.hs_kid', :'hs_kid', false), set_config('jwt.uid', :'uid', false),
       set_config('jwt.sid', :'sid', false) \gset
SET client_min_messages = debug1;
-- the claims checks
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID","exp":NOW}')) AS expired;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID","exp":LATER,"nbf":LATER}')) AS not_yet_valid;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"orion","aud":"other","sub":"UID","sid":"SID","exp":LATER}')) AS wrong_audience;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"orion","sub":"UID","sid":"SID","exp":LATER}')) AS no_audience;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"elsewhere","aud":"orion","sub":"UID","sid":"SID","exp":LATER}')) AS wrong_issuer;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID"}')) AS no_exp;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID","exp":"LATER"}')) AS exp_a_string;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"orion","aud":"orion","sub":"someone","sid":"SID","exp":LATER}')) AS sub_not_a_user;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"orion","aud":"orion","sub":"UID","exp":LATER}')) AS no_sid;
-- a second exp would be read differently by different readers: refused
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID","exp":NOW,"\u0065xp":LATER}')) AS duplicate_exp;
-- the header checks
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"none","kid":"KID"}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID","exp":LATER}')) AS alg_none_signed;
SELECT orion.verify_jwt(pg_temp.b64url('{"alg":"none","kid":"x"}') || '.' || split_part(:'tok4', '.', 2) || '.') AS alg_none_unsigned;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"nosuchkey"}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID","exp":LATER}')) AS unknown_kid;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256"}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID","exp":LATER}')) AS no_kid;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID","crit":["exp"]}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID","exp":LATER}')) AS crit;
SELECT orion.verify_jwt(pg_temp.minted('{"alg":"HS256","kid":"KID","typ":"id_token"}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID","exp":LATER}')) AS wrong_typ;
-- alg confusion: HS256 with the ES256 key's public key as the secret, under its kid
SELECT orion.verify_jwt(pg_temp.hs256(format('{"alg":"HS256","kid":"%s"}', :'es_kid'),
                        format('{"iss":"orion","aud":"orion","sub":"%s","sid":"%s","exp":%s}', :'uid', :'sid',
                               extract(epoch FROM now())::bigint + 60),
                        (SELECT encode(public_key, 'escape') FROM orion_auth.signing_keys WHERE kid = :'es_kid'))) AS alg_confusion;
-- tampering
SELECT orion.verify_jwt(split_part(:'tok3', '.', 1) || '.' || split_part(:'tok4', '.', 2) || '.' || split_part(:'tok3', '.', 3)) AS payload_swapped;
SELECT orion.verify_jwt(left(:'tok3', -2) || CASE WHEN right(:'tok3', 2) = 'AA' THEN 'AQ' ELSE 'AA' END) AS signature_changed;
SELECT orion.verify_jwt(rtrim(:'tok4', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') || 'AAAA') AS signature_short;
-- malformed
SELECT orion.verify_jwt(repeat('a', 9000)) AS oversized, orion.verify_jwt('a.b.c') AS not_base64,
       orion.verify_jwt('..') AS empty_parts, orion.verify_jwt(:'tok4' || '.x') AS four_parts,
       orion.verify_jwt(pg_temp.b64url('[1]') || '.e30.AAAA') AS header_not_object,
       orion.verify_jwt(:'tok4' || '=') AS padded;
SELECT count(*) AS validate_refuses FROM orion.validate_session(pg_temp.minted('{"alg":"HS256","kid":"KID"}', '{"iss":"orion","aud":"orion","sub":"UID","sid":"SID","exp":NOW}'));
RESET client_min_messages;

-- a JWT naming a session it was not issued for opens nothing
SELECT orion.register_user('jwt-other@example.com', 'correct horse battery') AS other_uid \gset
SELECT count(*) AS other_users_session
  FROM orion.validate_session(pg_temp.hs256(format('{"alg":"HS256","kid":"%s"}', :'hs_kid'),
           format('{"iss":"orion","aud":"orion","sub":"%s","sid":"%s","exp":%s}', :'other_uid', :'sid',
                  extract(epoch FROM now())::bigint + 60),
           'a-shared-secret-of-at-least-32-bytes!'));

-- logout by JWT ends the session: validate_session refuses its tokens at
-- once, verify_jwt (no database check) until exp, and the deny list has it
SELECT orion.logout(:'tok4') AS logged_out;
SELECT count(*) AS after_logout FROM orion.validate_session(:'tok4');
SELECT orion.verify_jwt(:'tok4') IS NOT NULL AS stateless_until_exp;
SELECT session_id = :'sid' AS listed, user_id = :'uid' AS user_listed, revoked_at IS NOT NULL AS revoked
  FROM orion.revoked_sessions(now() - interval '1 hour');
SELECT count(*) AS none_since_later FROM orion.revoked_sessions(now() + interval '1 second');
SELECT orion.logout(:'tok4') AS second_logout;

-- an opaque token still works beside them
SET orion.access_token_format = opaque;
SELECT left(access_token, 8) AS prefix FROM orion.login('jwt@example.com', 'correct horse battery');
SELECT orion.verify_jwt(NULL);
SELECT orion.revoked_sessions(NULL);
SET orion.access_token_format = 'paseto';

-- the key owner's only: the auth service signs through orion, reads no key
SET orion.access_token_format = jwt;
SET ROLE orion_auth_service;
SELECT count(*) AS service_login FROM orion.login('jwt@example.com', 'correct horse battery');
SELECT count(*) FROM orion_auth.signing_keys;
SELECT orion.rotate_signing_key();
RESET ROLE;
RESET orion.access_token_format;
SELECT action, resource, new_data->>'algorithm' AS algorithm
  FROM orion_auth.audit_logs WHERE action = 'auth.signing_key_rotated' ORDER BY created_at, id;

-- leave no users, sessions or audit entries to the files that follow
DELETE FROM orion_auth.users WHERE id IN (:'uid', :'other_uid');
DELETE FROM orion_auth.audit_logs;
