// test/node/growthbook-util.js: GrowthBook's bucketing, computed by npm
// @growthbook/growthbook itself, for test/t/008_growthbook_differential.pl.
//
//   node test/node/growthbook-util.js <directory of the @growthbook/growthbook package> [seed]
//
// Prints one JSON object:
//   { "package": the package's version, "seed": the PRNG seed used,
//     "vectors": how many cases came from test data the package ships (0 if none),
//     "hash":   [{ "kind", "seed", "value", "version", "hash": hash(seed, value, version) }, ...],
//     "ranges": [{ "kind", "numVariations", "coverage", "weights" (null or an array),
//                  "ranges": getBucketRanges(numVariations, coverage, weights) }, ...],
//     "choose": [{ "kind", "n", "ranges", "index": chooseVariation(n, ranges) }, ...] }
//
// Each list starts with fixed cases (the inputs of GrowthBook's shared SDK
// test suite, cases.json, and edge cases of our own) and then holds at least
// 10,000 random ones from a small seeded PRNG (mulberry32), so a failure
// reproduces: the seed is printed, and can be given as the second argument.
//
// - hash: 10,000 random (seed, value) pairs with version 1, 10,000 with
//   version 2, and a few hundred with unknown versions (0, 3, 99, -1, ...:
//   null). Strings are empty, digits, ASCII punctuation, printable ASCII of
//   up to 3,000 characters, UUIDs, or (one in five) mixed with characters
//   outside ASCII: Latin-1, other BMP scripts, the UTF-8 length boundaries
//   (U+0080, U+07FF, U+0800, U+FFFF), and astral ones (emoji, U+10000,
//   U+10FFFF), which JavaScript holds as surrogate pairs; GrowthBook hashes
//   UTF-16 code units. No U+0000 and no lone surrogate: a PostgreSQL text
//   cannot hold them.
// - ranges: numVariations 1..10 (and 0); coverage random in [0, 1], its edge
//   values 0 and 1, and out-of-range ones (-0.2, 1.3, ...); weights null,
//   equal, random normalised, random rounded to 4 decimals, random not
//   summing to 1 (some just inside or outside GrowthBook's [0.99, 1.01]),
//   with zero or negative weights, or of the wrong length.
// - choose: ranges from getBucketRanges and made-up ones (overlapping,
//   reversed, zero-width, empty); n from hash outputs, exact range
//   boundaries, the doubles next to a boundary, random doubles and edge values.
//
// hash, getBucketRanges and chooseVariation are taken from dist/cjs/util.js,
// required by path: the package's exports map hides it. NODE_ENV is
// "production" so that getBucketRanges does not complain on stderr about
// the out-of-range coverages and weights it is given on purpose.
'use strict';

const fs = require('fs');
const path = require('path');

if (process.argv.length < 3 || process.argv.length > 4) {
	console.error('usage: node growthbook-util.js <directory of the @growthbook/growthbook package> [seed]');
	process.exit(2);
}
process.env.NODE_ENV = 'production';
const pkgdir = path.resolve(process.argv[2]);
const pkg = require(path.join(pkgdir, 'package.json'));
const util = require(path.join(pkgdir, 'dist', 'cjs', 'util.js'));

const SEED = process.argv.length === 4 ? Number(process.argv[3]) >>> 0 : 20260821;
const RANDOM_HASHES = 10000;	// per known version
const RANDOM_UNKNOWN = 300;
const RANDOM_RANGES = 10000;
const RANDOM_CHOICES = 10000;

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

//-------------------------------------------------------------------------
// Strings
//-------------------------------------------------------------------------

let PRINTABLE = '';
for (let c = 0x20; c <= 0x7e; c++)
	PRINTABLE += String.fromCharCode(c);
const PUNCTUATION = PRINTABLE.replace(/[A-Za-z0-9]/g, '');
const DIGITS = '0123456789';
const HEX = '0123456789abcdef';

// Code points outside ASCII, as [lo, hi] ranges; none is a surrogate or U+0000.
const NON_ASCII_RANGES = [
	[0x80, 0xff],		// Latin-1 (2 UTF-8 bytes, one code unit below 0x100)
	[0x100, 0x7ff],		// Latin Extended, Greek, Cyrillic, Hebrew, Arabic ...
	[0x800, 0xfff],		// 3 UTF-8 bytes
	[0x4e00, 0x9fff],	// CJK
	[0xe000, 0xffff],	// private use, specials, U+FFFF
	[0x1f300, 0x1faff],	// emoji: astral, a surrogate pair
	[0x10000, 0x10ffff],	// any astral code point
];
const EDGE_CODE_POINTS = [0x80, 0xff, 0x100, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff,
	0x10000, 0x1f600, 0x10ffff];

function nonAsciiChar() {
	if (random() < 0.1)
		return String.fromCodePoint(pick(EDGE_CODE_POINTS));
	const [lo, hi] = pick(NON_ASCII_RANGES);
	return String.fromCodePoint(int(lo, hi));
}

const stringOf = (alphabet, n) => Array.from({ length: n }, () => pick(alphabet)).join('');
const uuid = () => [8, 4, 4, 4, 12].map((n) => stringOf(HEX, n)).join('-');

// Printable ASCII with characters outside ASCII mixed in (at least one).
function mixedString(n) {
	const chars = Array.from({ length: n }, () => (random() < 0.4 ? nonAsciiChar() : pick(PRINTABLE)));
	chars[int(0, n - 1)] = nonAsciiChar();
	return chars.join('');
}

// A random string of one of several shapes; returns [kind, string].
function randomString() {
	const r = random();
	if (r < 0.05) return ['empty', ''];
	if (r < 0.12) return ['digits', stringOf(DIGITS, int(1, 25))];
	if (r < 0.20) return ['punctuation', stringOf(PUNCTUATION, int(1, 20))];
	if (r < 0.30) return ['uuid', uuid()];
	if (r < 0.50) return ['ascii', stringOf(PRINTABLE, int(1, 16))];
	if (r < 0.65) return ['ascii', stringOf(PRINTABLE, int(17, 200))];
	if (r < 0.69) return ['long', stringOf(PRINTABLE, int(1000, 3000))];
	if (r < 0.90) return ['non_ascii', mixedString(int(1, 30))];
	if (r < 0.96) return ['astral', Array.from({ length: int(1, 8) },
		() => String.fromCodePoint(int(0x1f300, 0x1faff))).join('')];
	return ['non_ascii', mixedString(int(200, 1000))];
}

//-------------------------------------------------------------------------
// hash
//-------------------------------------------------------------------------

const hashes = [];
function addHash(kind, seed, value, version) {
	hashes.push({ kind, seed, value, version, hash: util.hash(seed, value, version) });
}

// The inputs of cases.json's "hash" section, then edge cases of our own.
const HASH_VECTORS = [
	['', 'a', 1], ['', 'b', 1], ['b', 'a', 1], ['ef', 'd', 1], ['asdf', '8952klfjas09ujk', 1],
	['', '123', 1], ['', '___)((*":&', 1], ['seed', 'a', 2], ['seed', 'b', 2], ['foo', 'ab', 2],
	['foo', 'def', 2], ['89123klj', '8952klfjas09ujkasdf', 2], ['90850943850283058242805', '123', 2],
	['()**(%$##$%#$#', '___)((*":&', 2], ['abc', 'def', 99],
];
for (const [s, v, ver] of HASH_VECTORS)
	addHash('cases.json', s, v, ver);
const HASH_FIXED = [
	['', ''], ['a', ''], ['', 'a'], ['ab', ''], ['a', 'b'], ['', 'ab'],	// where the seed ends matters
	['g', '\u00f8'], ['g', '\u01f8'], ['\u00f8', 'g'], ['exp', '\u{1f60a}'], ['\u{1f60a}', 'user'],
	['\u4f60\u597d', '\u4e16\u754c'], ['\u{10ffff}', '\u{10000}'], ['\uffff', '\u0080'],
	['my-test', '00000000-0000-0000-0000-000000000000'], ['my-test', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
];
for (const version of [1, 2])
	for (const [s, v] of HASH_FIXED)
		addHash('fixed', s, v, version);
for (const version of [0, 3, 4, 99, -1, 2147483647, -2147483648])
	addHash('fixed', 'abc', 'def', version);

for (const version of [1, 2])
	for (let i = 0; i < RANDOM_HASHES; i++) {
		const [k1, seed] = randomString();
		const [k2, value] = randomString();
		addHash(`${k1}/${k2}`, seed, value, version);
	}
const UNKNOWN_VERSIONS = [0, 3, 4, 5, 10, 99, -1, -2, 32767, 2147483647, -2147483648];
for (let i = 0; i < RANDOM_UNKNOWN; i++) {
	const [k1, seed] = randomString();
	const [k2, value] = randomString();
	addHash(`${k1}/${k2}`, seed, value, pick(UNKNOWN_VERSIONS));
}

//-------------------------------------------------------------------------
// getBucketRanges
//-------------------------------------------------------------------------

const ranges = [];
function addRanges(kind, numVariations, coverage, weights) {
	const r = util.getBucketRanges(numVariations, coverage, weights === null ? undefined : weights);
	ranges.push({ kind, numVariations, coverage, weights, ranges: r });
	return r;
}

const normalised = (ws) => {
	const sum = ws.reduce((a, b) => a + b, 0);
	return ws.map((w) => w / sum);
};
const randomWeights = (n) => Array.from({ length: n }, () => random());

// Random weights of one kind; returns [kind, weights].
function randomWeightsOf(n) {
	const r = random();
	if (r < 0.2) return ['null', null];
	if (r < 0.3) return ['equal', Array(n).fill(1 / n)];
	if (r < 0.5) return ['normalised', normalised(randomWeights(n))];
	if (r < 0.6) return ['rounded', normalised(randomWeights(n)).map((w) => Math.round(w * 1e4) / 1e4)];
	if (r < 0.7) return ['unnormalised', randomWeights(n).map((w) => w * int(1, 100))];
	if (r < 0.8) {
		// a sum near GrowthBook's bounds: just inside or just outside them
		const target = pick([0.98, 0.989, 0.9899999, 0.99, 0.9900001, 0.995, 1.005, 1.0099999, 1.01,
			1.0100001, 1.011, 1.02]);
		return ['near_bounds', normalised(randomWeights(n)).map((w) => w * target)];
	}
	if (r < 0.9) {
		// zeros and negatives that still sum to about 1
		const ws = normalised(randomWeights(n)).map((w) => (random() < 0.3 ? 0 : w));
		if (n > 1 && random() < 0.5) {
			const i = int(0, n - 2);
			ws[i] -= 0.25;
			ws[i + 1] += 0.25;
		}
		return ['zero_or_negative', ws];
	}
	const len = pick([0, Math.max(0, n - 1), n + 1, n + int(2, 5)]);
	return ['wrong_length', normalised(randomWeights(Math.max(len, 1))).slice(0, len)];
}

const EDGE_COVERAGES = [0, 1, -0.2, 1.3, -1, 2, 1e-9, 1 - 1e-9, 0.5, 0.1, 0.3, 0.7];
function randomCoverage() {
	const r = random();
	if (r < 0.25) return ['edge', pick(EDGE_COVERAGES)];
	if (r < 0.35) return ['outside', -1 + random() * 3];
	return ['random', random()];
}

// The inputs of cases.json's "getBucketRange" section, then our own.
const RANGE_VECTORS = [
	[2, 1, null], [2, 0.5, null], [2, 0, null], [4, 1, null], [2, 1, [0.4, 0.6]], [3, 1, [0.2, 0.3, 0.5]],
	[3, 0.2, [0.2, 0.3, 0.5]], [2, -0.2, null], [2, 1.5, null], [2, 1, [0.4, 0.1]], [2, 1, [0.7, 0.6]],
	[4, 1, [0.4, 0.4, 0.2]], [2, 1, [0.4, 0.5999]],
];
for (const [n, c, w] of RANGE_VECTORS)
	addRanges('cases.json', n, c, w);
const RANGE_FIXED = [
	[0, 1, null], [0, 0.5, []], [1, 1, null], [1, 1, [1]], [1, 0.5, [0.99]], [1, 1, [1.01]],
	[1, 1, [1.02]], [1, 1, []], [3, 1, null], [3, 0.3, null], [7, 1, null], [10, 1, null],
	[10, 0.9, null], [10, 1, Array(10).fill(0.1)], [3, 1, [1 / 3, 1 / 3, 1 / 3]],
	[2, 1, [0, 1]], [2, 1, [1, 0]], [2, 1, [-0.5, 1.5]], [2, 1, [0.5, 0.49]], [2, 1, [0.5, 0.51]],
];
for (const [n, c, w] of RANGE_FIXED)
	addRanges('fixed', n, c, w);
for (let i = 0; i < RANDOM_RANGES; i++) {
	const n = int(1, 10);
	const [ck, coverage] = randomCoverage();
	const [wk, weights] = randomWeightsOf(n);
	addRanges(`${ck}/${wk}`, n, coverage, weights);
}

//-------------------------------------------------------------------------
// chooseVariation
//-------------------------------------------------------------------------

const choices = [];
function addChoice(kind, n, rs) {
	choices.push({ kind, n, ranges: rs, index: util.chooseVariation(n, rs) });
}

// The double next to x, up (dir 1) or down (dir -1); x finite, not 0.
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
function nextDouble(x, dir) {
	if (x === 0) return dir > 0 ? Number.MIN_VALUE : -Number.MIN_VALUE;
	f64[0] = x;
	u64[0] += (x > 0) === (dir > 0) ? 1n : -1n;
	return f64[0];
}

// The inputs of cases.json's "chooseVariation" section, then our own.
const EVEN = [[0, 0.5], [0.5, 1]];
const REDUCED = [[0, 0.25], [0.5, 0.75]];
const CHOICE_VECTORS = [
	[0.2, EVEN], [0.4, EVEN], [0.6, EVEN], [0.8, EVEN], [0, EVEN], [0.5, EVEN],
	[0.2, REDUCED], [0.4, REDUCED], [0.6, REDUCED], [0.8, REDUCED], [0.25, REDUCED], [0.5, REDUCED],
	[0.5, [[0, 0.5], [0.5, 0.5], [0.5, 1]]],
];
for (const [n, rs] of CHOICE_VECTORS)
	addChoice('cases.json', n, rs);
const CHOICE_FIXED = [
	[0.5, []], [0, []], [1, EVEN], [-0.1, EVEN], [1.5, EVEN], [nextDouble(0.5, -1), EVEN],
	[nextDouble(1, -1), EVEN], [0.3, [[0.5, 0.2]]], [0.5, [[0.5, 0.5]]],
	[0.2, [[0, 0.5], [0.1, 0.3]]], [0.2, [[0.1, 0.3], [0, 0.5]]],
];
for (const [n, rs] of CHOICE_FIXED)
	addChoice('fixed', n, rs);

// Made-up ranges: random, possibly overlapping, reversed or zero-width.
function madeUpRanges() {
	return Array.from({ length: int(1, 6) }, () => {
		const a = Math.round(random() * 1e4) / 1e4;
		const r = random();
		if (r < 0.15) return [a, a];
		if (r < 0.3) return [a, Math.round(random() * 1e4) / 1e4];	// maybe reversed
		return [a, Math.min(1, a + random() * 0.5)];
	});
}

const EDGE_NS = [0, 1, -0.1, 1.1, 0.5, 0.9999, 0.0001, 0.999, 0.001, 2];
for (let i = 0; i < RANDOM_CHOICES; i++) {
	let rk, rs;
	if (random() < 0.75) {
		const n = int(1, 10);
		const [, coverage] = randomCoverage();
		const [, weights] = randomWeightsOf(n);
		rk = 'bucket';
		rs = util.getBucketRanges(n, coverage, weights === null ? undefined : weights);
	} else {
		rk = 'made_up';
		rs = madeUpRanges();
	}
	const r = random();
	let nk, n;
	if (r < 0.35) {
		const [, seed] = randomString();
		const [, value] = randomString();
		nk = 'hash';
		n = util.hash(seed, value, pick([1, 2]));
	} else if (r < 0.65) {
		nk = 'boundary';
		n = pick(rs)[int(0, 1)];
	} else if (r < 0.8) {
		nk = 'next_to_boundary';
		n = nextDouble(pick(rs)[int(0, 1)], pick([-1, 1]));
	} else if (r < 0.9) {
		nk = 'random';
		n = random();
	} else {
		nk = 'edge';
		n = pick(EDGE_NS);
	}
	addChoice(`${rk}/${nk}`, n, rs);
}

//-------------------------------------------------------------------------
// Test data the package ships, if any (npm 1.8.0 ships none).
//-------------------------------------------------------------------------

let vectors = 0;
const shipped = ['test/cases.json', 'cases.json'].map((f) => path.join(pkgdir, f)).find((f) => fs.existsSync(f));
if (shipped) {
	const cases = JSON.parse(fs.readFileSync(shipped, 'utf8'));
	for (const [s, v, ver] of cases.hash || []) {
		addHash('package', s, v, ver);
		vectors++;
	}
	for (const [, [n, c, w]] of cases.getBucketRange || []) {
		addRanges('package', n, c, w);
		vectors++;
	}
	for (const [, n, rs] of cases.chooseVariation || []) {
		addChoice('package', n, rs);
		vectors++;
	}
}

process.stdout.write(JSON.stringify({
	package: pkg.version, seed: SEED, vectors, hash: hashes, ranges, choose: choices,
}));
