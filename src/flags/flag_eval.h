/*-------------------------------------------------------------------------
 *
 * flag_eval.h
 *	  Evaluating a flag in a context.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_eval.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_FLAG_EVAL_H
#define ORION_FLAG_EVAL_H

#include "flags/flag_types.h"

/* Evaluate a flag in a context. */
extern void FlagEvaluate(Flag *flag, FlagContext *ctx, bool with_variant, FlagResult *result);

#endif							/* ORION_FLAG_EVAL_H */
