/*-------------------------------------------------------------------------
 *
 * murmur3.c
 *	  MurmurHash3, x86 32-bit variant.
 *
 * The hash Unleash buckets users with: its Rust engine (Yggdrasil) hashes the
 * UTF-8 bytes of "groupId:userId", and so does orion, so a user lands in the
 * same bucket in the database as in an Unleash SDK. Written from the public
 * domain reference (MurmurHash3.cpp); blocks are read little-endian
 * whatever the machine. Pure C, so it can be fuzzed on its own.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/murmur3.c
 *
 *-------------------------------------------------------------------------
 */
#include "flags/murmur3.h"

static inline uint32_t
Rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

uint32_t
OrionMurmur3(const void *key, size_t len, uint32_t seed)
{
	const uint8_t *data = key;
	const size_t nblocks = len / 4;
	const uint32_t c1 = 0xcc9e2d51;
	const uint32_t c2 = 0x1b873593;
	uint32_t	h1 = seed;
	uint32_t	k1;
	size_t		i;
	const uint8_t *tail;

	for (i = 0; i < nblocks; i++)
	{
		const uint8_t *b = data + i * 4;

		k1 = (uint32_t) b[0] | ((uint32_t) b[1] << 8) |
			((uint32_t) b[2] << 16) | ((uint32_t) b[3] << 24);
		k1 *= c1;
		k1 = Rotl32(k1, 15);
		k1 *= c2;
		h1 ^= k1;
		h1 = Rotl32(h1, 13);
		h1 = h1 * 5 + 0xe6546b64;
	}

	tail = data + nblocks * 4;
	k1 = 0;
	switch (len & 3)
	{
		case 3:
			k1 ^= (uint32_t) tail[2] << 16;
			/* FALLTHROUGH */
		case 2:
			k1 ^= (uint32_t) tail[1] << 8;
			/* FALLTHROUGH */
		case 1:
			k1 ^= tail[0];
			k1 *= c1;
			k1 = Rotl32(k1, 15);
			k1 *= c2;
			h1 ^= k1;
	}

	h1 ^= (uint32_t) len;
	h1 ^= h1 >> 16;
	h1 *= 0x85ebca6b;
	h1 ^= h1 >> 13;
	h1 *= 0xc2b2ae35;
	h1 ^= h1 >> 16;
	return h1;
}
