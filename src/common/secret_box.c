/*-------------------------------------------------------------------------
 *
 * secret_box.c
 *	  Secrets orion must read back (TOTP secrets), sealed at rest with the
 *	  DBA's key, in the file orion.secret_key_file names.
 *
 * A TOTP secret cannot be hashed like a password: orion must compute codes
 * from it. So it is encrypted with AES-256-GCM (OpenSSL's libcrypto, which
 * PostgreSQL links already) under a 32-byte key that only a file of the
 * server's holds. A sealed value is
 *
 *	  version (1) | key id (8) | nonce (12) | ciphertext | tag (16)
 *
 * where the key id is the start of SHA-256("orion secret key" || key): it
 * names the key without revealing it, so that after a rotation each value
 * opens with the key that sealed it (the previous key, for the old ones
 * until they are resealed) and orion can count those not yet resealed.
 * The context (say, the user id of the row) is authenticated data: a value
 * copied to another row does not open.
 *
 * The key lives in a file that a setting names (orion.secret_key_file),
 * not in a setting itself: PostgreSQL logs a changed setting's new value
 * when the configuration is reloaded ("parameter ... changed to ..."), so a
 * key in postgresql.conf would reach the server log at every rotation, and
 * SHOW and pg_settings would show it to pg_read_all_settings (pg_monitor).
 * The file must be the server's alone, as ssl_key_file must: no group or
 * world access (group read allowed when root owns it). It is read when
 * first needed and again whenever it changes (its size, time or inode), so
 * a new key takes effect without a restart. Both settings are PGC_SIGHUP
 * and superuser-only.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/secret_box.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "storage/fd.h"
#include "utils/guc.h"

#include "common/compat.h"
#include "common/hex.h"
#include "common/secret_box.h"

#define KEY_BYTES	32
#define KEY_ID_BYTES 8
#define NONCE_BYTES 12
#define TAG_BYTES	16

typedef struct SecretKey
{
	const char *setting;		/* its name, for messages */
	char	   *path;			/* the GUC variable: the key file, or empty */
	bool		loaded;			/* key and id below are path's, as of file */
	struct stat file;			/* the file when it was read */
	uint8		key[KEY_BYTES];
	uint8		id[KEY_ID_BYTES];
} SecretKey;

static SecretKey current_key = {.setting = "orion.secret_key_file"};
static SecretKey previous_key = {.setting = "orion.previous_secret_key_file"};

static bool
SameFile(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
		a->st_mtime == b->st_mtime && a->st_ctime == b->st_ctime;
}

/* ERROR unless the file is the server's alone (as be-secure-common.c asks of ssl_key_file). */
static void
CheckPermissions(const SecretKey *k, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("%s \"%s\" is not a regular file", k->setting, k->path)));
	if ((st->st_uid == geteuid() && (st->st_mode & (S_IRWXG | S_IRWXO))) ||
		(st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IXGRP | S_IRWXO))) ||
		(st->st_uid != geteuid() && st->st_uid != 0))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("%s \"%s\" has group or world access, or an owner other than the server's user or root",
						k->setting, k->path),
				 errdetail("It must be owned by the database user with permissions u=rw (0600) or less, or by root with u=rw,g=r (0640) or less.")));
}

/*
 * The key of a setting, read from its file on first use and whenever the
 * file changes; NULL when the setting is empty. ERROR when the file cannot
 * be read, is open to others, or holds anything but 64 hexadecimal digits
 * (and surrounding white space).
 */
static SecretKey *
KeyOf(SecretKey *k)
{
	static const char id_label[] = "orion secret key";
	struct stat st;
	char		text[4 * KEY_BYTES];
	uint8		digest[EVP_MAX_MD_SIZE];
	uint8		labelled[sizeof(id_label) - 1 + KEY_BYTES];
	unsigned int digest_len;
	FILE	   *f;
	size_t		n;
	size_t		start;
	size_t		end;
	int			i;

	if (k->path == NULL || k->path[0] == '\0')
		return NULL;
	if (stat(k->path, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read %s \"%s\": %m", k->setting, k->path)));
	if (k->loaded && SameFile(&st, &k->file))
		return k;
	CheckPermissions(k, &st);

	k->loaded = false;
	explicit_bzero(k->key, sizeof(k->key));
	f = AllocateFile(k->path, "r");
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read %s \"%s\": %m", k->setting, k->path)));
	n = fread(text, 1, sizeof(text), f);
	FreeFile(f);

	for (start = 0; start < n && isspace((unsigned char) text[start]); start++)
		;
	for (end = n; end > start && isspace((unsigned char) text[end - 1]); end--)
		;
	if (n == sizeof(text) || end - start != 2 * KEY_BYTES)
		goto malformed;
	for (i = 0; i < KEY_BYTES; i++)
	{
		int			hi = OrionHexDigit(text[start + 2 * i]);
		int			lo = OrionHexDigit(text[start + 2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto malformed;
		k->key[i] = (uint8) (hi << 4 | lo);
	}
	explicit_bzero(text, sizeof(text));

	memcpy(labelled, id_label, sizeof(id_label) - 1);
	memcpy(labelled + sizeof(id_label) - 1, k->key, KEY_BYTES);
	if (EVP_Digest(labelled, sizeof(labelled), digest, &digest_len, EVP_sha256(), NULL) != 1)
		elog(ERROR, "could not compute the id of the key of %s", k->setting);
	explicit_bzero(labelled, sizeof(labelled));
	memcpy(k->id, digest, KEY_ID_BYTES);
	k->file = st;
	k->loaded = true;
	return k;

malformed:
	explicit_bzero(text, sizeof(text));
	explicit_bzero(k->key, sizeof(k->key));
	ereport(ERROR,
			(errcode(ERRCODE_CONFIG_FILE_ERROR),
			 errmsg("%s \"%s\" does not hold 64 hexadecimal digits", k->setting, k->path),
			 errhint("Write 32 random bytes in hex to it, e.g. with \"openssl rand -hex 32\".")));
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
				 errmsg("orion.secret_key_file is not set"),
				 errdetail("orion encrypts TOTP secrets with the key in that file."),
				 errhint("Write 32 random bytes in hex to a file only the server's user can read "
						 "(openssl rand -hex 32 > FILE; chmod 600 FILE), name it in orion.secret_key_file "
						 "in postgresql.conf, and reload.")));
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
					 errmsg("a secret was sealed with a key that is in neither orion.secret_key_file nor orion.previous_secret_key_file"),
					 errhint("Name the file of the key it was sealed with in orion.previous_secret_key_file, or restore the key.")));
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

/* A new file named: read it on next use, and wipe the old key. */
static void
AssignKeyFile(SecretKey *k)
{
	k->loaded = false;
	explicit_bzero(k->key, sizeof(k->key));
}

static void
AssignCurrentKeyFile(const char *newval, void *extra)
{
	AssignKeyFile(&current_key);
}

static void
AssignPreviousKeyFile(const char *newval, void *extra)
{
	AssignKeyFile(&previous_key);
}

void
OrionSecretBoxInit(void)
{
	DefineCustomStringVariable("orion.secret_key_file",
							   "File holding the key that encrypts the secrets orion keeps (TOTP secrets): 64 hexadecimal digits.",
							   "Readable by the server's user only; a relative path is in the data directory.",
							   &current_key.path,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, AssignCurrentKeyFile, NULL);
	DefineCustomStringVariable("orion.previous_secret_key_file",
							   "File holding the key orion.secret_key_file's replaced, while secrets sealed with it remain.",
							   "orion.reseal_secrets() seals them with the current key; then remove this.",
							   &previous_key.path,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, AssignPreviousKeyFile, NULL);
}
