/*-------------------------------------------------------------------------
 *
 * signing_key.c
 *	  The keys that sign and verify JWT access tokens, with OpenSSL's
 *	  libcrypto (which PostgreSQL links too): EdDSA (Ed25519) by default,
 *	  ES256 (ECDSA on P-256 with SHA-256) and HS256 (HMAC-SHA-256 with a
 *	  secret the services share).
 *
 * orion_auth.signing_keys holds one row per key; one of them, the current
 * key (retired_at IS NULL), signs. A key keeps verifying after a rotation
 * retires it until verify_until, when the last token it signed has
 * expired. Only the extension's owner may read the table: private keys and
 * HMAC secrets are sealed with the orion.secret_key_file key (secret_box.h,
 * bound to the kid), public keys are stored as DER SubjectPublicKeyInfo.
 *
 * Each backend keeps the keys parsed (table_cache.h; a trigger invalidates
 * on change). The cache is filled as the table's owner, whoever calls: a
 * login runs as the auth service and must sign without reading the table
 * itself. Private keys are opened on first use only, so a server that
 * verifies EdDSA or ES256 tokens never needs the key file.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/signing_key.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "auth/signing_key.h"
#include "common/audit.h"
#include "common/base64.h"
#include "common/compat.h"
#include "common/guc.h"
#include "common/query.h"
#include "common/request.h"
#include "common/secret_box.h"
#include "common/table_cache.h"
#include "common/timing_safe.h"

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "orion needs OpenSSL 3.0 or later"
#endif

#define KID_RANDOM_BYTES	12	/* 16 base64url characters */
#define HMAC_SECRET_MIN		32	/* RFC 7518 3.2: at least the hash's size */
#define HMAC_SECRET_MAX		1024

/*
 * A transaction that began before a rotation commits still signs with the old
 * key, and its tokens expire access_token_ttl after that transaction began:
 * up to as long as the rotation took to commit after verify_until was set.
 * The retired key verifies this much longer, for those tokens.
 */
#define ROTATION_OVERLAP_SECONDS 60

struct OrionSigningKey
{
	MemoryContext mcxt;			/* the filling's, where opened parts go */
	char	   *kid;
	OrionJwtAlgorithm alg;
	bool		current;
	TimestampTz verify_until;	/* DT_NOEND while current */
	EVP_PKEY   *public_key;		/* EdDSA, ES256 */
	bytea	   *sealed;			/* private key (DER) or HMAC secret, sealed */
	EVP_PKEY   *private_key;	/* opened on first signature */
	uint8	   *secret;			/* HS256, opened on first use */
	size_t		secret_len;
};

typedef struct SigningKeys
{
	int			nkeys;
	OrionSigningKey *keys;
} SigningKeys;

static void *Fill(MemoryContext mcxt);

static OrionTableCache tables = {
	.schema = "orion_auth",
	.tables = {"signing_keys", NULL},
	.fill = Fill,
	.name = "orion signing key cache"
};

static OrionQuery load_keys = {
	"SELECT kid, algorithm, public_key, private_key, retired_at IS NULL,"
	" coalesce(verify_until, 'infinity') FROM orion_auth.signing_keys",
	0, {InvalidOid}, NULL
};

void
OrionSigningKeyInit(void)
{
	OrionTableCacheRegister(&tables);
}

const char *
OrionJwtAlgorithmName(OrionJwtAlgorithm alg)
{
	switch (alg)
	{
		case ORION_JWT_EDDSA:
			return "EdDSA";
		case ORION_JWT_ES256:
			return "ES256";
		case ORION_JWT_HS256:
			return "HS256";
	}
	return "?";
}

/* The algorithm of a JWS name; false for any other name ("none" too). */
static bool
AlgorithmByName(const char *name, OrionJwtAlgorithm *alg)
{
	if (strcmp(name, "EdDSA") == 0)
		*alg = ORION_JWT_EDDSA;
	else if (strcmp(name, "ES256") == 0)
		*alg = ORION_JWT_ES256;
	else if (strcmp(name, "HS256") == 0)
		*alg = ORION_JWT_HS256;
	else
		return false;
	return true;
}

pg_noreturn static void
CryptoFailed(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("OpenSSL could not %s", what)));
}

/* Free the OpenSSL objects of a filling with its memory. */
static void
FreeKeys(void *arg)
{
	SigningKeys *set = arg;
	int			i;

	for (i = 0; i < set->nkeys; i++)
	{
		OrionSigningKey *k = &set->keys[i];

		EVP_PKEY_free(k->public_key);
		EVP_PKEY_free(k->private_key);
		if (k->secret)
			explicit_bzero(k->secret, k->secret_len);
	}
}

/* Whether key is the type the algorithm signs with (P-256 for ES256). */
static bool
KeyFitsAlgorithm(EVP_PKEY *key, OrionJwtAlgorithm alg)
{
	char		group[64];
	size_t		len;

	if (alg == ORION_JWT_EDDSA)
		return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
	if (alg == ORION_JWT_ES256)
		return EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
			EVP_PKEY_get_group_name(key, group, sizeof(group), &len) == 1 &&
			strcmp(group, SN_X9_62_prime256v1) == 0;
	return false;
}

/* The table's owner, whose rights the cache is filled with. */
static Oid
SigningKeysOwner(void)
{
	Oid			relid = get_relname_relid("signing_keys", get_namespace_oid("orion_auth", false));
	HeapTuple	tuple;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("orion_auth.signing_keys does not exist"),
				 errhint("Run ALTER EXTENSION orion UPDATE.")));
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

static void *
Fill(MemoryContext mcxt)
{
	SigningKeys *set;
	MemoryContextCallback *cb;
	MemoryContext old;
	Oid			save_userid;
	int			save_sec_context;
	int			nest_level;
	uint64		n;
	uint64		i;
	bool		isnull;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(SigningKeysOwner(), save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	nest_level = OrionPinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = OrionQueryRun(&load_keys, NULL, NULL, true, 0);

	old = MemoryContextSwitchTo(mcxt);
	set = palloc0(sizeof(SigningKeys));
	set->keys = palloc0(sizeof(OrionSigningKey) * (n + 1));
	cb = palloc0(sizeof(MemoryContextCallback));
	cb->func = FreeKeys;
	cb->arg = set;
	MemoryContextRegisterResetCallback(mcxt, cb);
	for (i = 0; i < n; i++)
	{
		OrionSigningKey *k = &set->keys[set->nkeys];
		char	   *alg_name = TextDatumGetCString(OrionQueryGet(i, 2, &isnull));
		Datum		d;

		if (!AlgorithmByName(alg_name, &k->alg))
			continue;			/* the CHECK allows no other */
		k->mcxt = mcxt;
		k->kid = TextDatumGetCString(OrionQueryGet(i, 1, &isnull));
		k->sealed = DatumGetByteaPCopy(OrionQueryGet(i, 4, &isnull));
		k->current = DatumGetBool(OrionQueryGet(i, 5, &isnull));
		k->verify_until = DatumGetTimestampTz(OrionQueryGet(i, 6, &isnull));
		d = OrionQueryGet(i, 3, &isnull);
		if (!isnull)
		{
			bytea	   *der = DatumGetByteaPP(d);
			const unsigned char *p = (const unsigned char *) VARDATA_ANY(der);

			k->public_key = d2i_PUBKEY(NULL, &p, VARSIZE_ANY_EXHDR(der));
			set->nkeys++;		/* counted now, so FreeKeys frees what it made */
			if (k->public_key == NULL || !KeyFitsAlgorithm(k->public_key, k->alg))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("signing key \"%s\" has a public key that is not %s",
								k->kid, OrionJwtAlgorithmName(k->alg))));
		}
		else
			set->nkeys++;
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	OrionUnpinSearchPath(nest_level);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return set;
}

OrionCacheFilling *
OrionSigningKeysPin(void)
{
	return OrionTableCachePin(&tables);
}

void
OrionSigningKeysUnpin(OrionCacheFilling *keys)
{
	OrionTableCacheUnpin(&tables, keys);
}

OrionSigningKey *
OrionSigningKeyCurrent(OrionCacheFilling *keys)
{
	SigningKeys *set = keys->contents;
	int			i;

	for (i = 0; i < set->nkeys; i++)
		if (set->keys[i].current)
			return &set->keys[i];
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("orion has no signing key for JWT access tokens"),
			 errhint("As the extension's owner, run SELECT orion.rotate_signing_key(); once.")));
}

OrionSigningKey *
OrionSigningKeyFind(OrionCacheFilling *keys, const char *kid, TimestampTz now)
{
	SigningKeys *set = keys->contents;
	int			i;

	for (i = 0; i < set->nkeys; i++)
		if (strcmp(set->keys[i].kid, kid) == 0)
			return (set->keys[i].current || now < set->keys[i].verify_until) ? &set->keys[i] : NULL;
	return NULL;
}

const char *
OrionSigningKeyId(const OrionSigningKey *key)
{
	return key->kid;
}

OrionJwtAlgorithm
OrionSigningKeyAlgorithm(const OrionSigningKey *key)
{
	return key->alg;
}

/* Open the sealed part into the key's filling (its memory context). */
static void
OpenPrivatePart(OrionSigningKey *key)
{
	size_t		len;
	uint8	   *plain;

	if (key->private_key != NULL || key->secret != NULL)
		return;
	plain = OrionSecretOpen(key->sealed, psprintf("signing_key:%s", key->kid), &len);
	if (key->alg == ORION_JWT_HS256)
	{
		key->secret = MemoryContextAlloc(key->mcxt, len);
		memcpy(key->secret, plain, len);
		key->secret_len = len;
	}
	else
	{
		const unsigned char *p = plain;

		key->private_key = d2i_AutoPrivateKey(NULL, &p, (long) len);
		if (key->private_key == NULL || !KeyFitsAlgorithm(key->private_key, key->alg))
		{
			explicit_bzero(plain, len);
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("signing key \"%s\" has a private key that is not %s",
							key->kid, OrionJwtAlgorithmName(key->alg))));
		}
	}
	explicit_bzero(plain, len);
	pfree(plain);
}

static void
Hmac(OrionSigningKey *key, const uint8 *message, size_t len, uint8 *mac)
{
	unsigned int mac_len = 32;

	OpenPrivatePart(key);
	if (HMAC(EVP_sha256(), key->secret, (int) key->secret_len, message, len, mac, &mac_len) == NULL)
		CryptoFailed("compute HMAC-SHA-256");
}

size_t
OrionSigningKeySign(OrionSigningKey *key, const uint8 *message, size_t len, uint8 *sig)
{
	EVP_MD_CTX *ctx;
	unsigned char der[80];
	size_t		der_len = sizeof(der);
	size_t		sig_len = ORION_SIGNATURE_MAX;
	bool		ok;

	if (key->alg == ORION_JWT_HS256)
	{
		Hmac(key, message, len, sig);
		return 32;
	}
	OpenPrivatePart(key);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		CryptoFailed("allocate a signing context");
	if (key->alg == ORION_JWT_EDDSA)
		ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->private_key) == 1 &&
			EVP_DigestSign(ctx, sig, &sig_len, message, len) == 1;
	else
		ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key->private_key) == 1 &&
			EVP_DigestSign(ctx, der, &der_len, message, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		CryptoFailed("sign a token");
	if (key->alg == ORION_JWT_ES256)
	{
		/* JWS wants r || s, 32 bytes each (RFC 7518 3.4), not DER */
		const unsigned char *p = der;
		ECDSA_SIG  *ecdsa = d2i_ECDSA_SIG(NULL, &p, (long) der_len);

		if (ecdsa == NULL)
			CryptoFailed("read an ECDSA signature");
		ok = BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), sig, 32) == 32 &&
			BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), sig + 32, 32) == 32;
		ECDSA_SIG_free(ecdsa);
		if (!ok)
			CryptoFailed("encode an ECDSA signature");
		sig_len = 64;
	}
	return sig_len;
}

/* ES256's r || s as the DER libcrypto verifies; its length, or 0. */
static int
EcdsaDer(const uint8 *sig, unsigned char **der)
{
	ECDSA_SIG  *ecdsa = ECDSA_SIG_new();
	BIGNUM	   *r = BN_bin2bn(sig, 32, NULL);
	BIGNUM	   *s = BN_bin2bn(sig + 32, 32, NULL);
	int			len = 0;

	if (ecdsa && r && s && ECDSA_SIG_set0(ecdsa, r, s) == 1)
	{
		r = s = NULL;			/* ecdsa owns them now */
		len = i2d_ECDSA_SIG(ecdsa, der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(ecdsa);
	return len > 0 ? len : 0;
}

bool
OrionSigningKeyVerify(OrionSigningKey *key, const uint8 *message, size_t len,
					  const uint8 *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx;
	unsigned char *der = NULL;
	int			rc;

	if (key->alg == ORION_JWT_HS256)
	{
		uint8		mac[32];

		if (sig_len != 32)
			return false;
		Hmac(key, message, len, mac);
		return OrionTimingSafeEqual(mac, sig, 32);
	}
	if (sig_len != 64)
		return false;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		CryptoFailed("allocate a verification context");
	if (key->alg == ORION_JWT_EDDSA)
		rc = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->public_key) == 1 ?
			EVP_DigestVerify(ctx, sig, sig_len, message, len) : -1;
	else
	{
		int			der_len = EcdsaDer(sig, &der);

		rc = der_len > 0 && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->public_key) == 1 ?
			EVP_DigestVerify(ctx, der, (size_t) der_len, message, len) : -1;
		OPENSSL_free(der);
	}
	EVP_MD_CTX_free(ctx);
	return rc == 1;
}

/* ---- orion.rotate_signing_key and orion.jwks */

static int
RefusePassphrase(char *buf, int size, int rwflag, void *u)
{
	return 0;					/* an encrypted PEM is refused, never prompted for */
}

/* A private key of the algorithm's type: new, or read from PEM (PKCS#8). */
static EVP_PKEY *
PrivateKey(OrionJwtAlgorithm alg, const char *pem)
{
	EVP_PKEY   *key;

	if (pem == NULL)
	{
		key = alg == ORION_JWT_EDDSA ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
			: EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (key == NULL)
			CryptoFailed("generate a key");
		return key;
	}
	{
		BIO		   *bio = BIO_new_mem_buf(pem, -1);

		if (bio == NULL)
			CryptoFailed("allocate a buffer");
		key = PEM_read_bio_PrivateKey(bio, NULL, RefusePassphrase, NULL);
		BIO_free(bio);
	}
	if (key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key is not an unencrypted PEM private key"),
				 errhint("Give a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----), as openssl genpkey writes it.")));
	if (!KeyFitsAlgorithm(key, alg))
	{
		EVP_PKEY_free(key);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key is not a %s key", alg == ORION_JWT_EDDSA ? "Ed25519" : "P-256"),
				 errdetail("Algorithm %s signs with %s keys only.", OrionJwtAlgorithmName(alg),
						   alg == ORION_JWT_EDDSA ? "Ed25519" : "P-256")));
	}
	return key;
}

/* i2d_* output as a bytea. */
static bytea *
DerBytea(int (*encode) (const EVP_PKEY *, unsigned char **), EVP_PKEY *key, bool wipe)
{
	unsigned char *der = NULL;
	int			len = encode(key, &der);
	bytea	   *out;

	if (len <= 0)
		CryptoFailed("encode a key");
	out = palloc(VARHDRSZ + len);
	SET_VARSIZE(out, VARHDRSZ + len);
	memcpy(VARDATA(out), der, len);
	if (wipe)
		OPENSSL_clear_free(der, len);
	else
		OPENSSL_free(der);
	return out;
}

static int
EncodePublic(const EVP_PKEY *key, unsigned char **der)
{
	return i2d_PUBKEY(key, der);
}

static int
EncodePrivate(const EVP_PKEY *key, unsigned char **der)
{
	return i2d_PrivateKey(key, der);
}

static char *
NewKid(void)
{
	uint8		random[KID_RANDOM_BYTES];
	char	   *kid = palloc(ORION_BASE64_ENCODED_LEN(KID_RANDOM_BYTES) + 1);

	if (!pg_strong_random(random, sizeof(random)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	OrionBase64Encode(random, sizeof(random), kid, true);
	return kid;
}

/*
 * orion.rotate_signing_key(algorithm text DEFAULT NULL, key text DEFAULT NULL)
 *	 returns text
 *
 * A new current signing key; the one it replaces keeps verifying for
 * orion.access_token_ttl, as long as the tokens it signed live. algorithm
 * defaults to the current key's, or EdDSA for the first key. key, when
 * given, is imported instead of generated: a PKCS#8 PEM private key for
 * EdDSA and ES256, the shared secret itself (32 bytes or more) for HS256,
 * which needs it. Returns the new key's kid. The extension owner's alone.
 */
PG_FUNCTION_INFO_V1(orion_rotate_signing_key);
Datum
orion_rotate_signing_key(PG_FUNCTION_ARGS)
{
	static OrionQuery current_algorithm = {
		"SELECT algorithm FROM orion_auth.signing_keys WHERE retired_at IS NULL FOR UPDATE",
		0, {InvalidOid}, NULL
	};
	static OrionQuery retire_current = {
		"UPDATE orion_auth.signing_keys SET retired_at = pg_catalog.now(),"
		" verify_until = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => $1)"
		" WHERE retired_at IS NULL RETURNING kid",
		1, {INT4OID}, NULL
	};
	static OrionQuery insert_key = {
		"INSERT INTO orion_auth.signing_keys (kid, algorithm, public_key, private_key)"
		" VALUES ($1, $2, $3, $4)",
		4, {TEXTOID, TEXTOID, BYTEAOID, BYTEAOID}, NULL
	};
	OrionJwtAlgorithm alg = ORION_JWT_EDDSA;
	const char *alg_name = NULL;
	char	   *given = NULL;
	char	   *kid = NewKid();
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	char	   *retired = NULL;
	bool		isnull;
	int			nest_level;

	if (!PG_ARGISNULL(0))
	{
		alg_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
		if (!AlgorithmByName(alg_name, &alg))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unsupported JWT signing algorithm \"%s\"", alg_name),
					 errhint("Use EdDSA, ES256 or HS256.")));
	}
	if (!PG_ARGISNULL(1))
		given = text_to_cstring(PG_GETARG_TEXT_PP(1));

	nest_level = OrionPinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (alg_name == NULL && OrionQueryRun(&current_algorithm, NULL, NULL, false, 1) == 1)
		(void) AlgorithmByName(TextDatumGetCString(OrionQueryGet(0, 1, &isnull)), &alg);

	if (alg == ORION_JWT_HS256)
	{
		size_t		len = given ? strlen(given) : 0;

		if (given == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("HS256 needs the shared secret as key"),
					 errdetail("The services that verify HS256 tokens must know the secret, so orion does not make one up.")));
		if (len < HMAC_SECRET_MIN || len > HMAC_SECRET_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("an HS256 secret must have %d to %d bytes, not %zu",
							HMAC_SECRET_MIN, HMAC_SECRET_MAX, len),
					 errdetail("RFC 7518 asks for at least as many bytes as the hash has.")));
		nulls[2] = 'n';
		values[3] = PointerGetDatum(OrionSecretSeal((const uint8 *) given, len,
													psprintf("signing_key:%s", kid)));
		explicit_bzero(given, len);
	}
	else
	{
		EVP_PKEY   *key = PrivateKey(alg, given);
		bytea	   *private_der;

		if (given)
			explicit_bzero(given, strlen(given));
		values[2] = PointerGetDatum(DerBytea(EncodePublic, key, false));
		private_der = DerBytea(EncodePrivate, key, true);
		EVP_PKEY_free(key);
		values[3] = PointerGetDatum(OrionSecretSeal((const uint8 *) VARDATA(private_der),
													VARSIZE(private_der) - VARHDRSZ,
													psprintf("signing_key:%s", kid)));
		explicit_bzero(VARDATA(private_der), VARSIZE(private_der) - VARHDRSZ);
	}

	values[0] = Int32GetDatum(orion_access_token_ttl + ROTATION_OVERLAP_SECONDS);
	if (OrionQueryRun(&retire_current, values, NULL, false, 1) == 1)
		retired = TextDatumGetCString(OrionQueryGet(0, 1, &isnull));
	values[0] = CStringGetTextDatum(kid);
	values[1] = CStringGetTextDatum(OrionJwtAlgorithmName(alg));
	OrionQueryRun(&insert_key, values, nulls, false, 0);
	{
		OrionAuditEntry entry = {0};
		const char *keys[] = {"algorithm", "retired_kid"};
		const char *data[2];

		data[0] = OrionJsonString(OrionJwtAlgorithmName(alg));
		data[1] = retired ? OrionJsonString(retired) : NULL;
		entry.action = "auth.signing_key_rotated";
		entry.resource = "signing_key";
		entry.resource_id = kid;
		entry.new_data = OrionJsonObject(2, keys, data);
		OrionAuditWrite(&entry);
	}
	SPI_finish();
	OrionUnpinSearchPath(nest_level);
	PG_RETURN_TEXT_P(cstring_to_text(kid));
}

/* A big number as base64url of exactly size bytes. */
static char *
Base64urlBignum(EVP_PKEY *key, const char *param, int size)
{
	BIGNUM	   *bn = NULL;
	uint8		bytes[66];
	char	   *out = palloc(ORION_BASE64_ENCODED_LEN(sizeof(bytes)) + 1);

	if (EVP_PKEY_get_bn_param(key, param, &bn) != 1 || BN_bn2binpad(bn, bytes, size) != size)
	{
		BN_free(bn);
		CryptoFailed("read a public key");
	}
	BN_free(bn);
	OrionBase64Encode(bytes, size, out, true);
	return out;
}

/* The public JWK (RFC 7517, RFC 8037 for OKP) of an asymmetric key, into buf. */
static void
AppendJwk(StringInfo buf, const OrionSigningKey *key)
{
	appendStringInfoString(buf, "{\"kid\":");
	escape_json(buf, key->kid);
	appendStringInfo(buf, ",\"alg\":\"%s\",\"use\":\"sig\",", OrionJwtAlgorithmName(key->alg));
	if (key->alg == ORION_JWT_EDDSA)
	{
		uint8		raw[32];
		size_t		len = sizeof(raw);
		char		x[ORION_BASE64_ENCODED_LEN(32) + 1];

		if (EVP_PKEY_get_raw_public_key(key->public_key, raw, &len) != 1 || len != 32)
			CryptoFailed("read a public key");
		OrionBase64Encode(raw, len, x, true);
		appendStringInfo(buf, "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", x);
	}
	else
		appendStringInfo(buf, "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
						 Base64urlBignum(key->public_key, OSSL_PKEY_PARAM_EC_PUB_X, 32),
						 Base64urlBignum(key->public_key, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
}

/*
 * orion.jwks() returns jsonb
 *
 * The public keys that verify tokens now, as a JWK Set (RFC 7517 5): the
 * current key and the retired ones before their verify_until. HS256 keys
 * are secret and never listed.
 */
PG_FUNCTION_INFO_V1(orion_jwks);
Datum
orion_jwks(PG_FUNCTION_ARGS)
{
	OrionCacheFilling *keys = OrionSigningKeysPin();
	SigningKeys *set = keys->contents;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	StringInfoData buf;
	bool		first = true;
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"keys\":[");
	for (i = 0; i < set->nkeys; i++)
	{
		OrionSigningKey *k = &set->keys[i];

		if (k->alg == ORION_JWT_HS256 || !(k->current || now < k->verify_until))
			continue;
		if (!first)
			appendStringInfoChar(&buf, ',');
		AppendJwk(&buf, k);
		first = false;
	}
	appendStringInfoString(&buf, "]}");
	OrionSigningKeysUnpin(keys);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
