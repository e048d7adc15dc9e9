/*-------------------------------------------------------------------------
 *
 * murmur3.h
 *	  MurmurHash3, x86 32-bit variant.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/murmur3.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_MURMUR3_H
#define ORION_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

/* MurmurHash3_x86_32 of len bytes of key, as in Austin Appleby's reference. */
extern uint32_t OrionMurmur3(const void *key, size_t len, uint32_t seed);

#endif							/* ORION_MURMUR3_H */
