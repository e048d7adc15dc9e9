/*-------------------------------------------------------------------------
 *
 * fuzz_murmur3.c
 *	  libFuzzer harness for src/flags/murmur3.c (OrionMurmur3).
 *
 * Unleash buckets users with MurmurHash3_x86_32, so a wrong hash puts a
 * user in another bucket than every Unleash SDK does. The harness checks,
 * for any bytes and seed, that OrionMurmur3 equals a second implementation
 * written here differently (bytes assembled one at a time, the tail handled
 * as a zero-padded block), and at start-up that both give the published
 * test vectors of the reference implementation.
 *
 * Input: 4 bytes of seed (little-endian), then the key.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_murmur3.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "flags/murmur3.h"

static uint32_t
RotateLeft(uint32_t x, unsigned r)
{
	return (uint32_t) ((((uint64_t) x << 32) | x) >> (32 - r));
}

static uint32_t
Scramble(uint32_t k)
{
	k *= 0xcc9e2d51u;
	k = RotateLeft(k, 15);
	return k * 0x1b873593u;
}

/* MurmurHash3_x86_32, straight from its description. */
static uint32_t
ReferenceMurmur3(const uint8_t *key, size_t len, uint32_t seed)
{
	uint32_t	h = seed;
	size_t		done = 0;

	while (len - done >= 4)
	{
		uint32_t	k = 0;
		int			j;

		for (j = 3; j >= 0; j--)
			k = (k << 8) | key[done + j];
		h ^= Scramble(k);
		h = RotateLeft(h, 13) * 5 + 0xe6546b64u;
		done += 4;
	}
	if (len > done)
	{
		uint8_t		tail[4] = {0, 0, 0, 0};
		uint32_t	k;

		memcpy(tail, key + done, len - done);
		k = tail[0] | (uint32_t) tail[1] << 8 | (uint32_t) tail[2] << 16;
		h ^= Scramble(k);
	}
	h ^= (uint32_t) len;
	h = (h ^ (h >> 16)) * 0x85ebca6bu;
	h = (h ^ (h >> 13)) * 0xc2b2ae35u;
	return h ^ (h >> 16);
}

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* MurmurHash3_x86_32 test vectors (SMHasher's reference) */
	static const struct
	{
		const char *key;
		size_t		len;
		uint32_t	seed;
		uint32_t	hash;
	}			vectors[] = {
		{"", 0, 0, 0},
		{"", 0, 1, 0x514E28B7u},
		{"", 0, 0xffffffffu, 0x81F16F39u},
		{"\0\0\0\0", 4, 0, 0x2362F9DEu},
		{"aaaa", 4, 0x9747b28cu, 0x5A97808Au},
		{"abc", 3, 0, 0xB3DD93FAu},
		{"Hello, world!", 13, 0x9747b28cu, 0x24884CBAu},
		{"The quick brown fox jumps over the lazy dog", 43, 0x9747b28cu, 0x2FA826CDu},
	};
	size_t		i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
	{
		uint32_t	got = OrionMurmur3(vectors[i].key, vectors[i].len, vectors[i].seed);
		uint32_t	ref = ReferenceMurmur3((const uint8_t *) vectors[i].key, vectors[i].len,
										   vectors[i].seed);

		FUZZ_CHECK(got == vectors[i].hash && ref == vectors[i].hash,
				   "vector %zu (\"%s\", seed 0x%08x): orion 0x%08x, reference 0x%08x, expected 0x%08x",
				   i, vectors[i].key, vectors[i].seed, got, ref, vectors[i].hash);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t	seed = 0;
	uint8_t    *key;
	size_t		len;
	uint32_t	got;
	uint32_t	want;
	size_t		i;

	for (i = 0; i < 4 && i < size; i++)
		seed |= (uint32_t) data[i] << (8 * i);
	len = size > 4 ? size - 4 : 0;
	/* an exact-size copy, so that a read past the key is an ASan report */
	key = malloc(len ? len : 1);
	memcpy(key, data + (size - len), len);

	got = OrionMurmur3(key, len, seed);
	want = ReferenceMurmur3(key, len, seed);
	FUZZ_CHECK(got == want, "%zu bytes, seed 0x%08x: orion 0x%08x, reference 0x%08x",
			   len, seed, got, want);
	/* Unleash's seeds in orion: 0 for strategies, 86028157 for variants */
	FUZZ_CHECK(OrionMurmur3(key, len, 86028157u) == ReferenceMurmur3(key, len, 86028157u),
			   "%zu bytes, variant seed", len);
	free(key);
	return 0;
}
