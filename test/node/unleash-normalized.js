// test/node/unleash-normalized.js: Unleash's normalized hash values, computed
// by npm unleash-client itself, for test/t/007_unleash_hash_differential.pl.
//
//   node test/node/unleash-normalized.js <directory of the unleash-client package> [seed]
//
// Prints one JSON object:
//   { "package": unleash-client's version, "seed": the PRNG seed used,
//     "variant_seed": 86028157,
//     "cases": [{ "group", "id", "normalizer",
//                 "strategy": normalizedStrategyValue(id, group),
//                 "variant":  normalizedVariantValue(id, group, normalizer) }, ...],
//     "non_ascii": [{ "group", "id", "seed", "normalizer",
//                     "node": what unleash-client gives,
//                     "utf8": murmur3 over the key's UTF-8 bytes }, ...] }
//
// "cases" holds a few fixed pairs (empty strings, colons on either side of
// the separator, the client specification's own vectors) and then at least
// 10,000 random pairs of printable ASCII of varying lengths and shapes: empty,
// spaces, colons, digits only, UUIDs, short, medium and long (up to 2,000
// characters), each with a random normalizer from 1 to 10,000. They come
// from a small seeded PRNG (mulberry32), so a failure reproduces: the seed is
// printed, and can be given as the second argument.
//
// The two functions are taken from lib/strategy/util.js, required by path:
// the package's exports map may hide it.
//
// unleash-client hashes with murmurhash3js, which reads the low byte of each
// UTF-16 code unit, not UTF-8: for ASCII the two agree, for anything else
// they do not. "non_ascii" holds such keys with both values; "utf8" is the
// same murmurhash3js given the key's UTF-8 bytes as a string of code units
// 0-255. That this reproduces unleash-client exactly for ASCII is checked
// here on every case: the script fails (exit status 1) otherwise.
'use strict';

const path = require('path');

if (process.argv.length < 3 || process.argv.length > 4) {
	console.error('usage: node unleash-normalized.js <directory of the unleash-client package> [seed]');
	process.exit(2);
}
const pkgdir = path.resolve(process.argv[2]);
const pkg = require(path.join(pkgdir, 'package.json'));
const util = require(path.join(pkgdir, 'lib', 'strategy', 'util.js'));
const murmur = require(require.resolve('murmurhash3js', { paths: [pkgdir] }));

const SEED = process.argv.length === 4 ? Number(process.argv[3]) >>> 0 : 20240607;
const RANDOM_PAIRS = 10000;
const MAX_NORMALIZER = 10000;
const VARIANT_SEED = 86028157;	// lib/strategy/util.js's, for variants

// mulberry32: a 32-bit seeded PRNG, uniform in [0, 1).
function mulberry32(seed) {
	let a = seed >>> 0;
	return function () {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}
const random = mulberry32(SEED);
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));	// lo..hi
const pick = (s) => s[int(0, s.length - 1)];

let PRINTABLE = '';
for (let c = 0x20; c <= 0x7e; c++)
	PRINTABLE += String.fromCharCode(c);
const DIGITS = '0123456789';
const HEX = '0123456789abcdef';

const stringOf = (alphabet, n) => Array.from({ length: n }, () => pick(alphabet)).join('');

// A random printable ASCII string, of one of several shapes.
function randomString() {
	const r = random();
	if (r < 0.05) return '';
	if (r < 0.15) return stringOf(DIGITS, int(1, 20));
	if (r < 0.18) return ' '.repeat(int(1, 5));
	if (r < 0.25) return stringOf('::::ab c1', int(1, 12));
	if (r < 0.35) return [8, 4, 4, 4, 12].map((n) => stringOf(HEX, n)).join('-');
	if (r < 0.75) return stringOf(PRINTABLE, int(1, 16));
	if (r < 0.95) return stringOf(PRINTABLE, int(17, 100));
	return stringOf(PRINTABLE, int(101, 2000));
}

// murmur3 over the UTF-8 bytes of key, modulo normalizer, plus 1.
function utf8Normalized(key, seed, normalizer) {
	return (murmur.x86.hash32(Buffer.from(key, 'utf8').toString('latin1'), seed) % normalizer) + 1;
}

function computed(group, id, normalizer) {
	const c = {
		group, id, normalizer,
		strategy: util.normalizedStrategyValue(id, group),
		variant: util.normalizedVariantValue(id, group, normalizer),
	};
	const key = `${group}:${id}`;
	if (c.strategy !== utf8Normalized(key, 0, 100) || c.variant !== utf8Normalized(key, VARIANT_SEED, normalizer))
		throw new Error(`murmurhash3js over UTF-8 bytes is not unleash-client for the ASCII key ${JSON.stringify(key)}`);
	return c;
}

// Fixed pairs first: [group, id, normalizer].
const FIXED = [
	['', '', 100], ['', 'a', 100], ['a', '', 100], [':', ':', 100], ['a:b', 'c', 7], ['a', 'b:c', 7],
	[' ', ' ', 1], ['', '', MAX_NORMALIZER],
	// the client specification's vectors (files 03, 10, 08)
	['AB12A', '122', 100], ['AB12A', '155', 100], ['Feature.flexibleRollout.10', '174', 100],
	['Feature.Variants.C', '232', 99],
];
const cases = FIXED.map(([g, id, n]) => computed(g, id, n));
for (let i = 0; i < RANDOM_PAIRS; i++) {
	const group = randomString();
	const id = randomString();
	cases.push(computed(group, id, int(1, MAX_NORMALIZER)));
}

// Keys outside ASCII, at normalizer 100, with each seed.
const NON_ASCII = [
	['g', 'ø', 0], ['g', 'ø', VARIANT_SEED], ['Feature.UTF-8.Hellø_Wørld', '1', VARIANT_SEED],
	['g', '😊', VARIANT_SEED], ['g', '你好', 0],
	['g', '\u01f8', 0],	// Ǹ: the same low bytes as ø, so the same Node value
];
const nonAscii = NON_ASCII.map(([group, id, seed]) => ({
	group, id, seed, normalizer: 100,
	node: seed === 0 ? util.normalizedStrategyValue(id, group) : util.normalizedVariantValue(id, group, 100),
	utf8: utf8Normalized(`${group}:${id}`, seed, 100),
}));

process.stdout.write(JSON.stringify({
	package: pkg.version, seed: SEED, variant_seed: VARIANT_SEED, cases, non_ascii: nonAscii,
}));
