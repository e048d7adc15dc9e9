// test/node/bcrypt-hashes.js: bcrypt hashes made by npm bcryptjs, for
// test/t/003_bcrypt_compat.pl.
//
//   node test/node/bcrypt-hashes.js <directory of the bcryptjs package>
//
// Prints a JSON array, one element per hash:
//   { "label", "variant" ("2a", "2b" or "2y"), "cost",
//     "password", "password_hex" (its UTF-8 bytes), "hash",
//     "same":  [{ "why", "password", "password_hex" }, ...]  must verify too,
//     "wrong": [{ "why", "password", "password_hex" }, ...]  must not verify }
//
// bcryptjs 3 makes "$2b$" salts (genSaltSync) and hashes with the minor
// version of the salt it is given: "$2a$", "$2b$" or "$2y$". The other two
// variants are made by giving it the same kind of random salt with the
// minor version changed, and it writes that minor version into the hash.
// Every cost-4 hash, and every "same" and "wrong" password, is checked here
// with bcryptjs's own compareSync first: the script fails (exit status 1)
// rather than print an expectation bcryptjs itself does not meet.
'use strict';

const path = require('path');

if (process.argv.length !== 3) {
	console.error('usage: node bcrypt-hashes.js <directory of the bcryptjs package>');
	process.exit(2);
}
const bcrypt = require(path.resolve(process.argv[2]));

const VARIANTS = ['2a', '2b', '2y'];
const BULK_COST = 4;
const MIN_COST = 4;
const MAX_COST = 12;

const utf8 = (s) => Buffer.from(s, 'utf8');
const hex = (s) => utf8(s).toString('hex');

// The first n bytes of s, which must end on a character boundary.
function firstBytes(s, n) {
	const b = utf8(s).subarray(0, n);
	const t = b.toString('utf8');
	if (!utf8(t).equals(b))
		throw new Error(`byte ${n} of ${JSON.stringify(s)} is inside a character`);
	return t;
}

// s with its byte at index i (0-based, ASCII at both ends) replaced by c.
function withByte(s, i, c) {
	const b = utf8(s);
	if (b[i] >= 0x80 || c.length !== 1 || c.charCodeAt(0) >= 0x80 || b[i] === c.charCodeAt(0))
		throw new Error(`cannot replace byte ${i} of ${JSON.stringify(s)} by ${JSON.stringify(c)}`);
	b[i] = c.charCodeAt(0);
	return b.toString('utf8');
}

// ASCII text of exactly n bytes, not one repeated character.
function asciiOf(n, seed) {
	const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
	let s = '';
	for (let i = 0; s.length < n; i++)
		s += alphabet[(i * 7 + seed) % alphabet.length];
	return s;
}

const pw72 = asciiOf(72, 1);
const pw100 = asciiOf(100, 2);
const pw300 = asciiOf(300, 3);
const pw1024 = asciiOf(1024, 4);
const straddle = 'a'.repeat(71) + '\u00e9';	// é is C3 A9: byte 72 is C3, byte 73 is A9
const plain = 'correct horse battery staple';
const greek = '\u03b1\u03b2\u03b3\u03b4\u03b5\u03b6\u03b7\u03b8\u03b9\u03ba\u03bb\u03bc\u03bd\u03be\u03bf\u03c0\u03c1\u03c3\u03c4\u03c5' +
	'\u0430\u0431\u0432\u0433\u0434\u0435\u0436\u0437\u0438\u0439\u043a\u043b\u043c\u043d\u043e\u043f\u0440\u0441\u0442\u0443';	// 40 characters, 80 bytes

// label, password, costs, [why, password] that verify, [why, password] that do not
const CASES = [
	['plain ASCII', plain, range(MIN_COST, MAX_COST),
		[],
		[['one letter changed', 'correct horse battery stapLe'],
			['one byte more', plain + ' '],
			['one byte less', plain.slice(0, -1)]]],
	['one character', 'a', [BULK_COST],
		[],
		[['another character', 'b'], ['empty', ''], ['doubled', 'aa']]],
	['empty', '', [BULK_COST],
		[],
		[['one space', ' '], ['one character', 'a']]],
	['quotes, backslash, dollars, semicolon', `it's "quoted" \\ $$ $tag$ $1 ; -- %s`, [BULK_COST],
		[],
		[['without the backslash', `it's "quoted"  $$ $tag$ $1 ; -- %s`],
			['doubled quote', `it''s "quoted" \\ $$ $tag$ $1 ; -- %s`]]],
	['exactly 72 bytes', pw72, [BULK_COST],
		[['one byte appended (byte 73)', pw72 + '!'],
			['a different tail after byte 72', pw72 + 'another tail entirely']],
		[['byte 72 changed', withByte(pw72, 71, '#')],
			['byte 1 changed', withByte(pw72, 0, '#')],
			['71 bytes (last byte dropped)', pw72.slice(0, 71)]]],
	['100 bytes (over 72)', pw100, [BULK_COST],
		[['only its first 72 bytes', firstBytes(pw100, 72)],
			['byte 73 changed', withByte(pw100, 72, '#')],
			['bytes 73 to 100 changed', firstBytes(pw100, 72) + '#'.repeat(28)]],
		[['byte 72 changed', withByte(pw100, 71, '#')],
			['byte 1 changed', withByte(pw100, 0, '#')],
			['only its first 71 bytes', firstBytes(pw100, 71)]]],
	['300 bytes (over 255)', pw300, [BULK_COST],
		[['only its first 72 bytes', firstBytes(pw300, 72)]],
		// OpenBSD's old $2a$ kept the length in 8 bits: 300 bytes hashed as
		// the first 300 % 256 = 44; no correct bcrypt does that
		[['only its first 44 bytes (8-bit length wraparound)', firstBytes(pw300, 44)],
			['byte 72 changed', withByte(pw300, 71, '#')]]],
	['1024 bytes (orion.password_max_bytes)', pw1024, [BULK_COST],
		[['only its first 72 bytes', firstBytes(pw1024, 72)]],
		[['byte 50 changed', withByte(pw1024, 49, '#')]]],
	['71 ASCII bytes then "é" (byte 72 is the first of its two)', straddle, [BULK_COST],
		[['71 ASCII bytes then "ö" (C3 B6: same byte 72)', 'a'.repeat(71) + '\u00f6'],
			['71 ASCII bytes then "ü" (C3 BC: same byte 72)', 'a'.repeat(71) + '\u00fc']],
		[['71 ASCII bytes then "ā" (C4 81: byte 72 differs)', 'a'.repeat(71) + '\u0101'],
			['71 ASCII bytes only', 'a'.repeat(71)]]],
	['German "pässwörd"', 'p\u00e4ssw\u00f6rd', [BULK_COST],
		[],
		[['without umlauts', 'password'],
			['decomposed (NFD): other bytes, same text', 'p\u00e4ssw\u00f6rd'.normalize('NFD')],
			['capitalized', 'P\u00e4ssw\u00f6rd']]],
	['Japanese "パスワードは秘密です"', '\u30d1\u30b9\u30ef\u30fc\u30c9\u306f\u79d8\u5bc6\u3067\u3059', [BULK_COST],
		[],
		[['last character changed', '\u30d1\u30b9\u30ef\u30fc\u30c9\u306f\u79d8\u5bc6\u3067\u3057'],
			['katakana only', '\u30d1\u30b9\u30ef\u30fc\u30c9']]],
	['emoji "🔑🐘 secret 🎉" (4-byte UTF-8)', '\u{1f511}\u{1f418} secret \u{1f389}', [BULK_COST],
		[],
		[['other emoji', '\u{1f511}\u{1f418} secret \u{1f388}'],
			['without emoji', ' secret ']]],
	['Greek and Cyrillic, 40 characters, 80 bytes (over 72)', greek, [BULK_COST],
		[['only its first 72 bytes (36 characters)', firstBytes(greek, 72)],
			['characters 37 to 40 changed', firstBytes(greek, 72) + '\u044b'.repeat(4)]],
		[['character 36 changed', firstBytes(greek, 70) + '\u044f' + '\u0444'.repeat(4)]]],
];

function range(a, b) {
	const r = [];
	for (let i = a; i <= b; i++)
		r.push(i);
	return r;
}

function fail(msg) {
	console.error(`bcrypt-hashes.js: ${msg}`);
	process.exit(1);
}

const out = [];
for (const [label, password, costs, same, wrong] of CASES) {
	for (const cost of costs) {
		for (const variant of VARIANTS) {
			const generated = bcrypt.genSaltSync(cost);
			const rounds = String(cost).padStart(2, '0');
			if (!/^\$2b\$\d\d\$[./A-Za-z0-9]{22}$/.test(generated) || generated.slice(4, 6) !== rounds)
				fail(`bcryptjs made an unexpected salt for cost ${cost}: ${generated}`);
			const salt = `$${variant}` + generated.slice(3);
			const hash = bcrypt.hashSync(password, salt);
			if (!new RegExp(`^\\$${variant}\\$${rounds}\\$[./A-Za-z0-9]{53}$`).test(hash))
				fail(`bcryptjs made an unexpected hash for $${variant}$ cost ${cost}: ${hash}`);
			if (hash.slice(0, 29) !== salt)
				fail(`the hash ${hash} does not begin with its salt ${salt}`);
			// what verifies does not depend on the cost: check at the bulk cost
			// only, as bcryptjs takes about 0.4 s per cost-12 hash
			if (cost === BULK_COST) {
				if (!bcrypt.compareSync(password, hash))
					fail(`bcryptjs does not verify its own hash ${hash} of ${JSON.stringify(password)}`);
				for (const [why, p] of same)
					if (!bcrypt.compareSync(p, hash))
						fail(`${label}: bcryptjs does not verify "${why}" against ${hash}`);
				for (const [why, p] of wrong)
					if (bcrypt.compareSync(p, hash))
						fail(`${label}: bcryptjs verifies "${why}" against ${hash}`);
			}
			const alt = (list) => list.map(([why, p]) => ({ why, password: p, password_hex: hex(p) }));
			out.push({
				label, variant, cost, password, password_hex: hex(password), hash,
				same: alt(same), wrong: alt(wrong),
			});
		}
	}
}

process.stdout.write(JSON.stringify(out, null, 1) + '\n');
