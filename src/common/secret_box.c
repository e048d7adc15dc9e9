/*-------------------------------------------------------------------------
 *
 * secret_box.c
 *	  Secrets orion must read back (TOTP secrets), sealed at rest with the
 *	  DBA's key, orion.secret_key.
 *
 * A TOTP secret cannot be hashed like a password: orion must compute codes
 * from it. So it is encrypted with AES-256-GCM (OpenSSL's libcrypto, which
 * PostgreSQL links already) under a 32-byte key that only the server's
 * configuration holds. A sealed value is
 *
 *	  version (1) | key id (8) | nonce (12) | ciphertext | tag (16)
 *
 * where the key id is the start of SHA-256("orion secret key" || key): it
 * names the key without revealing it, so that after a rotation each value
 * opens with the key that sealed it (orion.previous_secret_key for the old
 * ones until they are resealed) and orion can count those not yet resealed.
 * The context (say, the user id of the row) is authenticated data: a value
 * copied to another row does not open.
 *
 * Both settings are PGC_SIGHUP, so they live in postgresql.conf and never
 * in pg_db_role_setting, which every role can read; GUC_SUPERUSER_ONLY;
 * and their show hook answers "(set)" instead of the key, so not even
 * pg_read_all_settings (which pg_monitor holds) shows it. A malformed key
 * is not refused by a check hook, whose message would carry the value into
 * the server log: it is refused when used, without it.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/secret_box.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/evp.h>

#include "utils/guc.h"

#include "common/secret_box.h"

#define KEY_BYTES	32
#define KEY_ID_BYTES 8
#define NONCE_BYTES 12
#define TAG_BYTES	16

typedef struct SecretKey
{
	const char *setting;		/* its name, for messages */
	char	   *value;			/* the GUC variable: 64 hex digits, or empty */
	bool		decoded;		/* key and id below are value's */
	uint8		key[KEY_BYTES];
	uint8		id[KEY_ID_BYTES];
} SecretKey;

static SecretKey current_key = {.setting = "orion.secret_key"};
static SecretKey previous_key = {.setting = "orion.previous_secret_key"};

static int
HexValue(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The key of a setting, decoded on first use after each change; NULL when
 * the setting is empty. ERROR for anything but 64 hexadecimal digits.
 */
static SecretKey *
KeyOf(SecretKey *k)
{
	static const char id_label[] = "orion secret key";
	uint8		digest[EVP_MAX_MD_SIZE];
	uint8		labelled[sizeof(id_label) - 1 + KEY_BYTES];
	unsigned int digest_len;
	int			i;

	if (k->value == NULL || k->value[0] == '\0')
		return NULL;
	if (k->decoded)
		return k;
	if (strlen(k->value) != 2 * KEY_BYTES)
		goto malformed;
	for (i = 0; i < KEY_BYTES; i++)
	{
		int			hi = HexValue(k->value[2 * i]);
		int			lo = HexValue(k->value[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto malformed;
		k->key[i] = (uint8) (hi << 4 | lo);
	}
	memcpy(labelled, id_label, sizeof(id_label) - 1);
	memcpy(labelled + sizeof(id_label) - 1, k->key, KEY_BYTES);
	if (EVP_Digest(labelled, sizeof(labelled), digest, &digest_len, EVP_sha256(), NULL) != 1)
		elog(ERROR, "could not compute the id of %s", k->setting);
	explicit_bzero(labelled, sizeof(labelled));
	memcpy(k->id, digest, KEY_ID_BYTES);
	k->decoded = true;
	return k;

malformed:
	explicit_bzero(k->key, sizeof(k->key));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s is not 64 hexadecimal digits", k->setting),
			 errhint("Set it in postgresql.conf to 32 random bytes in hex, e.g. from \"openssl rand -hex 32\", and reload.")));
	return NULL;				/* keep the compiler quiet */
}

/* The current key; ERROR when there is none. */
static SecretKey *
CurrentKey(void)
{
	SecretKey  *k = KeyOf(&current_key);

	if (k == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("orion.secret_key is not set"),
				 errdetail("orion encrypts TOTP secrets with it."),
				 errhint("Set it in postgresql.conf to 32 random bytes in hex, e.g. from \"openssl rand -hex 32\", and reload.")));
	return k;
}

static void
CheckShape(const bytea *sealed)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(sealed);

	if (VARSIZE_ANY_EXHDR(sealed) < ORION_SEALED_OVERHEAD || p[0] != ORION_SEALED_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a sealed secret is malformed")));
}

bytea *
OrionSecretSeal(const uint8 *plain, size_t len, const char *context)
{
	SecretKey  *k = CurrentKey();
	bytea	   *sealed = palloc(VARHDRSZ + ORION_SEALED_LEN(len));
	uint8	   *p = (uint8 *) VARDATA(sealed);
	uint8	   *nonce = p + 1 + KEY_ID_BYTES;
	uint8	   *out = nonce + NONCE_BYTES;
	EVP_CIPHER_CTX *ctx;
	int			n;
	bool		ok;

	SET_VARSIZE(sealed, VARHDRSZ + ORION_SEALED_LEN(len));
	p[0] = ORION_SEALED_VERSION;
	memcpy(p + 1, k->id, KEY_ID_BYTES);
	if (!pg_strong_random(nonce, NONCE_BYTES))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));

	ctx = EVP_CIPHER_CTX_new();
	ok = ctx != NULL &&
		EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->key, nonce) == 1 &&
		EVP_EncryptUpdate(ctx, NULL, &n, (const uint8 *) context, (int) strlen(context)) == 1 &&
		EVP_EncryptUpdate(ctx, out, &n, plain, (int) len) == 1 &&
		n == (int) len &&
		EVP_EncryptFinal_ex(ctx, out + n, &n) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, out + len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		elog(ERROR, "could not encrypt a secret");
	return sealed;
}

uint8 *
OrionSecretOpen(const bytea *sealed, const char *context, size_t *len)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(sealed);
	const uint8 *nonce = p + 1 + KEY_ID_BYTES;
	const uint8 *in = nonce + NONCE_BYTES;
	SecretKey  *k;
	SecretKey  *previous;
	uint8	   *plain;
	EVP_CIPHER_CTX *ctx;
	int			n;
	bool		ok;

	CheckShape(sealed);
	*len = VARSIZE_ANY_EXHDR(sealed) - ORION_SEALED_OVERHEAD;
	k = CurrentKey();
	if (memcmp(p + 1, k->id, KEY_ID_BYTES) != 0)
	{
		previous = KeyOf(&previous_key);
		if (previous == NULL || memcmp(p + 1, previous->id, KEY_ID_BYTES) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("a secret was sealed with a key that is neither orion.secret_key nor orion.previous_secret_key"),
					 errhint("Set orion.previous_secret_key to the key it was sealed with, or restore the key.")));
		k = previous;
	}

	plain = palloc(*len + 1);
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx != NULL &&
		EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->key, nonce) == 1 &&
		EVP_DecryptUpdate(ctx, NULL, &n, (const uint8 *) context, (int) strlen(context)) == 1 &&
		EVP_DecryptUpdate(ctx, plain, &n, in, (int) *len) == 1 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, (void *) (in + *len)) == 1 &&
		EVP_DecryptFinal_ex(ctx, plain + n, &n) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
	{
		explicit_bzero(plain, *len);
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a sealed secret does not authenticate"),
				 errdetail("It was changed, or copied from another row.")));
	}
	return plain;
}

bool
OrionSecretSealedWithCurrentKey(const bytea *sealed)
{
	CheckShape(sealed);
	return memcmp((const uint8 *) VARDATA_ANY(sealed) + 1, CurrentKey()->id, KEY_ID_BYTES) == 0;
}

/* A new value: decode it again on next use, and wipe the old key. */
static void
AssignKey(SecretKey *k)
{
	k->decoded = false;
	explicit_bzero(k->key, sizeof(k->key));
}

static void
AssignCurrentKey(const char *newval, void *extra)
{
	AssignKey(&current_key);
}

static void
AssignPreviousKey(const char *newval, void *extra)
{
	AssignKey(&previous_key);
}

/* SHOW, pg_settings and current_setting() say whether a key is set, never which. */
static const char *
ShowCurrentKey(void)
{
	return current_key.value && current_key.value[0] ? "(set)" : "";
}

static const char *
ShowPreviousKey(void)
{
	return previous_key.value && previous_key.value[0] ? "(set)" : "";
}

void
OrionSecretBoxInit(void)
{
	DefineCustomStringVariable("orion.secret_key",
							   "Key that encrypts the secrets orion keeps (TOTP secrets): 64 hexadecimal digits.",
							   "Set it in postgresql.conf only; SHOW answers \"(set)\", never the key.",
							   &current_key.value,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE,
							   NULL, AssignCurrentKey, ShowCurrentKey);
	DefineCustomStringVariable("orion.previous_secret_key",
							   "The key orion.secret_key replaced, while secrets sealed with it remain.",
							   "orion.reseal_secrets() seals them with orion.secret_key; then remove this.",
							   &previous_key.value,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE,
							   NULL, AssignPreviousKey, ShowPreviousKey);
}
