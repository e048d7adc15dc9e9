/*-------------------------------------------------------------------------
 *
 * validate.h
 *	  Running a JSON parser for its verdict only, as the CHECK constraints do.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/validate.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_VALIDATE_H
#define ORION_VALIDATE_H

#include "utils/jsonb.h"

/* A parser that returns NULL, or a message naming what is wrong. */
typedef char *(*OrionJsonParser) (Jsonb *json);

/*
 * Run parse on json in a scratch memory context, which is then freed, with
 * everything the parser built. Returns NULL, or the parser's message copied
 * into the caller's context.
 */
extern char *OrionParseForVerdict(OrionJsonParser parse, Jsonb *json);

#endif							/* ORION_VALIDATE_H */
