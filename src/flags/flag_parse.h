/*-------------------------------------------------------------------------
 *
 * flag_parse.h
 *	  Reading a stored rollout and a segment's constraints into flag_types.h's
 *	  structures.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_parse.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_FLAG_PARSE_H
#define ORION_FLAG_PARSE_H

#include "utils/jsonb.h"

#include "flags/flag_types.h"

/*
 * Parse a rollout into flag (whose key and enabled are set by the caller),
 * allocating in the current memory context. Returns NULL on success, or a
 * message naming the JSON path and the problem.
 */
extern char *FlagParseRollout(Jsonb *rollout, const char *flag_key, Flag *flag);

/* Parse a segment's constraints; NULL on success, else the message. */
extern char *FlagParseSegment(Jsonb *constraints, FlagSegment *segment);

#endif							/* ORION_FLAG_PARSE_H */
