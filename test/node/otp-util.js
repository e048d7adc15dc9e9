// test/node/otp-util.js: HOTP and TOTP codes computed by npm otpauth, an
// implementation independent of orion's, for test/t/017_totp.pl.
//
//   node test/node/otp-util.js <directory of the otpauth package> generate [seed]
//   node test/node/otp-util.js <directory of the otpauth package> check cases.json
//   node test/node/otp-util.js <directory of the otpauth package> uri <otpauth:// URI> <unix time>
//
// generate prints { "package", "seed", "totp": [{ "secret" (base32), "time"
// (Unix seconds), "code" }], "hotp": [{ "secret", "counter", "code" }] }:
// random secrets of 10, 16, 20 and 32 bytes and random times from 1970 to
// 2500 (and the edges of a 30-second step), from a seeded PRNG (mulberry32)
// so that a failure reproduces with the printed seed.
//
// check reads, from the file, [{ "secret", "time", "code" }] (codes orion made) and prints
// { "checked", "accepted" }: the cases where otpauth's TOTP.validate, with
// no window either side, finds the code at exactly that time step.
//
// uri parses an otpauth:// URI with otpauth's URI.parse and prints its
// fields and the code for the time: what an authenticator app would show.
'use strict';

const path = require('path');
const dir = process.argv[2];
const mode = process.argv[3];
const OTPAuth = require(path.join(dir, 'dist', 'otpauth.node.cjs'));
const pkg = require(path.join(dir, 'package.json'));

const { mulberry32 } = require('./prng');

function totp(secret) {
	return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
}

if (mode === 'generate') {
	const seed = process.argv[4] ? Number(process.argv[4]) : Math.floor(Math.random() * 2 ** 31);
	const rand = mulberry32(seed);
	const sizes = [10, 16, 20, 20, 20, 32];
	const out = { package: pkg.version, seed, totp: [], hotp: [] };
	for (let i = 0; i < 2000; i++) {
		const bytes = new Uint8Array(sizes[i % sizes.length]);
		for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
		const secret = new OTPAuth.Secret({ buffer: bytes.buffer }).base32;
		let time = Math.floor(rand() * 16725225600);		// 1970 .. 2500
		if (i % 10 === 1) time = time - time % 30;		// first second of a step
		if (i % 10 === 2) time = time - time % 30 + 29;	// last second of a step
		out.totp.push({ secret, time, code: totp(secret).generate({ timestamp: time * 1000 }) });
		const counter = i % 3 === 0 ? i : Math.floor(rand() * 2 ** 40);
		const hotp = new OTPAuth.HOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6 });
		out.hotp.push({ secret, counter, code: hotp.generate({ counter }) });
	}
	process.stdout.write(JSON.stringify(out));
} else if (mode === 'check') {
	const cases = JSON.parse(require('fs').readFileSync(process.argv[4], 'utf8'));
	let accepted = 0;
	for (const c of cases) {
		if (totp(c.secret).validate({ token: c.code, timestamp: c.time * 1000, window: 0 }) === 0) accepted++;
	}
	process.stdout.write(JSON.stringify({ checked: cases.length, accepted }));
} else if (mode === 'uri') {
	const otp = OTPAuth.URI.parse(process.argv[4]);
	const time = Number(process.argv[5]);
	process.stdout.write(JSON.stringify({
		type: otp instanceof OTPAuth.TOTP ? 'totp' : 'hotp',
		issuer: otp.issuer, label: otp.label, algorithm: otp.algorithm,
		digits: otp.digits, period: otp.period, secret: otp.secret.base32,
		code: otp.generate({ timestamp: time * 1000 }),
		next_code: otp.generate({ timestamp: (time + 30) * 1000 }),
	}));
} else {
	process.stderr.write('usage: otp-util.js DIR generate [seed] | check FILE | uri URI TIME\n');
	process.exit(2);
}
