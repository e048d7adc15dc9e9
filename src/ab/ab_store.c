/*-------------------------------------------------------------------------
 *
 * ab_store.c
 *	  Reading a user's stored AB assignment.
 *
 * Every assign_variant call but a user's first in a test ends here, so the
 * lookup is a probe of the (user_id, test_id) unique index (index_probe.h)
 * rather than a statement run through SPI, whose executor start-up cost
 * more than the probe itself. The statement remains for what the probe
 * does not do: a fresh snapshot, and tables the probe cannot read as the
 * statement would.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/ab_store.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"

#include "ab/ab_store.h"
#include "common/index_probe.h"
#include "common/query.h"

static OrionIndexProbe assignment_by_key = {
	.table = {.schema = "orion_ab_testing", .tables = {"ab_test_assignments", NULL}},
	.index = "ab_test_assignments_user_id_test_id_key",
	.keys = {"user_id", "test_id", NULL},
	.columns = {"variant", NULL}
};

static OrionQuery find_assignment = {
	"SELECT variant::text FROM orion_ab_testing.ab_test_assignments"
	" WHERE user_id = $1 AND test_id = $2",
	2, {UUIDOID, UUIDOID}, NULL
};

void
AbStoreInit(void)
{
	OrionIndexProbeRegister(&assignment_by_key);
}

text *
AbStoredVariant(const pg_uuid_t *test_id, const pg_uuid_t *user_id, bool fresh)
{
	Datum		values[2];
	Datum		variant;
	bool		isnull;
	uint64		n;
	int			nest_level;

	values[0] = UUIDPGetDatum(user_id);
	values[1] = UUIDPGetDatum(test_id);
	if (!fresh)
	{
		/* varchar and text share their representation */
		switch (OrionIndexProbeFetch(&assignment_by_key, values, &variant, &isnull))
		{
			case ORION_PROBE_HIT:
				return isnull ? NULL : DatumGetTextP(variant);
			case ORION_PROBE_MISS:
				return NULL;
			case ORION_PROBE_UNUSABLE:
				break;
		}
	}

	/* peek_variant, SECURITY DEFINER, has no SET search_path clause */
	nest_level = OrionPinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* read-write mode takes a new snapshot: it sees rows committed meanwhile */
	n = OrionQueryRun(&find_assignment, values, NULL, !fresh, 1);
	if (n > 0)
		variant = SPI_datumTransfer(OrionQueryGet(0, 1, &isnull), false, -1);
	SPI_finish();
	OrionUnpinSearchPath(nest_level);
	/* after SPI_finish: a copy DatumGetTextP makes must not live in SPI's memory */
	return n == 0 ? NULL : DatumGetTextP(variant);
}
