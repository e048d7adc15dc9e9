/*-------------------------------------------------------------------------
 *
 * fuzz_check.h
 *	  FUZZ_CHECK: a property every libFuzzer harness of orion asserts.
 *
 * A violated property is a finding, as a crash is: it prints what was
 * expected and aborts, so that libFuzzer stops, saves the input as a crash
 * file and test/fuzz/run fails. Plain C, no PostgreSQL headers, so that the
 * harnesses of the pure files (murmur3.c, growthbook.c, base64.c, phc.c)
 * need nothing else.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_check.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_FUZZ_CHECK_H
#define ORION_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "\nPROPERTY VIOLATED at %s:%d: %s\n  ", \
					__FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fprintf(stderr, "\n"); \
			abort(); \
		} \
	} while (0)

#endif							/* ORION_FUZZ_CHECK_H */
