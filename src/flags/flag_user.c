/*-------------------------------------------------------------------------
 *
 * flag_user.c
 *	  The user attributes a flag's constraints may read: email, role and
 *	  emailVerified of the user being evaluated, fetched on first use.
 *
 * flag_eval.c calls it when a constraint names one of them and the
 * context has a user id; one evaluation reads the user once.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_user.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "common/query.h"
#include "flags/flag_user.h"

static OrionQuery user_attributes = {
	"SELECT email::text, role::text, coalesce(email_verified, false)"
	" FROM orion_auth.users WHERE id = $1",
	1, {UUIDOID}, NULL
};

void
FlagLoadUserAttributes(FlagContext *ctx)
{
	Datum		values[1];
	bool		isnull;
	pg_uuid_t	uuid;
	int			nest_level;

	ctx->user_loaded = true;
	memcpy(&uuid, DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(ctx->user_id))),
		   sizeof(uuid));
	nest_level = OrionPinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = UUIDPGetDatum(&uuid);
	if (OrionQueryRun(&user_attributes, values, NULL, true, 1) == 1)
	{
		Datum		d;

		ctx->user_found = true;
		d = OrionQueryGet(0, 1, &isnull);
		ctx->user_email = isnull ? NULL : SPI_palloc(VARSIZE_ANY_EXHDR(DatumGetTextPP(d)) + 1);
		if (ctx->user_email)
			text_to_cstring_buffer(DatumGetTextPP(d), ctx->user_email,
								   VARSIZE_ANY_EXHDR(DatumGetTextPP(d)) + 1);
		d = OrionQueryGet(0, 2, &isnull);
		ctx->user_role = isnull ? NULL : SPI_palloc(VARSIZE_ANY_EXHDR(DatumGetTextPP(d)) + 1);
		if (ctx->user_role)
			text_to_cstring_buffer(DatumGetTextPP(d), ctx->user_role,
								   VARSIZE_ANY_EXHDR(DatumGetTextPP(d)) + 1);
		ctx->user_email_verified = DatumGetBool(OrionQueryGet(0, 3, &isnull));
	}
	SPI_finish();
	OrionUnpinSearchPath(nest_level);
}
