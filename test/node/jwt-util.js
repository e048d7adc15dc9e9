// test/node/jwt-util.js: JWTs checked and made by npm jose, an implementation
// independent of orion's, for test/t/018_jwt.pl.
//
//   node test/node/jwt-util.js <jose package directory> keys
//   node test/node/jwt-util.js <jose package directory> verify jwks.json tokens.json
//   node test/node/jwt-util.js <jose package directory> sign keys.json [seed]
//
// keys prints { "EdDSA", "ES256" }: new private keys as PKCS#8 PEM, for
// orion.rotate_signing_key to import.
//
// verify reads a JWK Set (orion.jwks()) and [{ "token", "claims",
// "issuer", "audience", "secret"? }] (tokens orion made; secret for HS256)
// and prints { "checked", "verified", "failures" }: a token counts as
// verified when jose's jwtVerify accepts it, with the issuer and audience
// given and only the JWK's own algorithm allowed, and its payload equals
// the claims orion said it made (the same members, the same values; a
// random jti of 16 bytes besides, when the claims name none).
//
// sign reads { "EdDSA": {kid, pem}, "ES256": {kid, pem}, "HS256": {kid,
// secret}, "sub", "sid" } and prints { "valid": [{alg, token, claims}],
// "refused": [{case, token}] }: for each algorithm, tokens with random
// extra claims (strings with quotes, backslashes, control characters and
// non-ASCII, numbers, booleans, nested objects and arrays), which orion
// must accept with exactly those claims; and tokens orion must refuse,
// one per way a token can be wrong (tampered, wrong kid, alg confusion,
// none, expired, not yet valid, wrong audience or issuer, oversized,
// malformed), made with jose as an attacker would.
'use strict';

const path = require('path');
const fs = require('fs');
const dir = process.argv[2];
const mode = process.argv[3];
const jose = require(path.join(dir, 'dist', 'node', 'cjs', 'index.js'));
const pkg = require(path.join(dir, 'package.json'));

const { mulberry32 } = require('./prng');

function canonical(v) {
	if (Array.isArray(v)) return v.map(canonical);
	if (v && typeof v === 'object') {
		const out = {};
		for (const k of Object.keys(v).sort()) out[k] = canonical(v[k]);
		return out;
	}
	return v;
}
const same = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

async function keys() {
	const out = { package: pkg.version };
	for (const alg of ['EdDSA', 'ES256']) {
		const { privateKey } = await jose.generateKeyPair(alg, { extractable: true, crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
		out[alg] = await jose.exportPKCS8(privateKey);
	}
	return out;
}

async function verify(jwksFile, tokensFile) {
	const jwks = jose.createLocalJWKSet(JSON.parse(fs.readFileSync(jwksFile, 'utf8')));
	const tokens = JSON.parse(fs.readFileSync(tokensFile, 'utf8'));
	const result = { package: pkg.version, checked: 0, verified: 0, failures: [] };
	for (const t of tokens) {
		result.checked++;
		try {
			const header = jose.decodeProtectedHeader(t.token);
			const key = t.secret ? new TextEncoder().encode(t.secret) : jwks;
			const { payload } = await jose.jwtVerify(t.token, key, {
				issuer: t.issuer, audience: t.audience, algorithms: [header.alg],
			});
			// orion's jti is random: present, 22 base64url characters (16 bytes)
			const expected = 'jti' in t.claims ? t.claims : { ...t.claims, jti: payload.jti };
			if (same(payload, expected) && /^[A-Za-z0-9_-]{22}$/.test(payload.jti)) result.verified++;
			else result.failures.push({ token: t.token, why: 'payload differs', payload, claims: t.claims });
		} catch (e) {
			result.failures.push({ token: t.token, why: String(e.code || e.message) });
		}
	}
	return result;
}

function randomString(rand) {
	const pieces = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u0001', 'é', '€', '😀', '\u2028', '<', '&', "'"];
	let s = '';
	const n = Math.floor(rand() * 12);
	for (let i = 0; i < n; i++) s += pieces[Math.floor(rand() * pieces.length)];
	return s;
}

function randomValue(rand, depth) {
	const r = rand();
	if (r < 0.35) return randomString(rand);
	if (r < 0.55) return Math.floor(rand() * 2e9) - 1e9;
	if (r < 0.65) return rand() < 0.5;
	if (r < 0.7) return null;
	if (depth > 2) return randomString(rand);
	if (r < 0.85) {
		const a = [];
		for (let i = Math.floor(rand() * 4); i > 0; i--) a.push(randomValue(rand, depth + 1));
		return a;
	}
	const o = {};
	for (let i = Math.floor(rand() * 4); i > 0; i--) o['k' + randomString(rand)] = randomValue(rand, depth + 1);
	return o;
}

async function sign(keysFile, seed) {
	const given = JSON.parse(fs.readFileSync(keysFile, 'utf8'));
	const rand = mulberry32(seed);
	const now = Math.floor(Date.now() / 1000);
	const base = { iss: 'orion', aud: 'orion', sub: given.sub, sid: given.sid, iat: now, exp: now + 600 };
	const signingKey = {};
	for (const alg of ['EdDSA', 'ES256'])
		signingKey[alg] = await jose.importPKCS8(given[alg].pem, alg);
	signingKey.HS256 = new TextEncoder().encode(given.HS256.secret);
	const make = (alg, claims, header) =>
		new jose.SignJWT(claims).setProtectedHeader({ alg, kid: given[alg].kid, typ: 'JWT', ...(header || {}) })
			.sign(signingKey[alg]);

	const out = { package: pkg.version, seed, valid: [], refused: [] };
	for (const alg of ['EdDSA', 'ES256', 'HS256']) {
		for (let i = 0; i < 100; i++) {
			const claims = { ...base };
			for (let n = Math.floor(rand() * 6); n > 0; n--) claims['x_' + randomString(rand)] = randomValue(rand, 0);
			if (rand() < 0.3) claims.aud = ['elsewhere', 'orion'];
			if (rand() < 0.3) claims.nbf = now - 5;
			out.valid.push({ alg, token: await make(alg, claims), claims });
		}
	}

	const good = await make('EdDSA', base);
	const [h, p, s] = good.split('.');
	const other = Buffer.from(JSON.stringify({ ...base, sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
	const refuse = (c, token) => out.refused.push({ case: c, token });
	refuse('payload tampered', `${h}.${other}.${s}`);
	refuse('signature of another token', `${h}.${p}.${(await make('EdDSA', { ...base, jti: 'x' })).split('.')[2]}`);
	refuse('wrong kid', await new jose.SignJWT(base).setProtectedHeader({ alg: 'EdDSA', kid: 'not-a-kid' }).sign(signingKey.EdDSA));
	refuse('EdDSA kid, signed with the ES256 key', await new jose.SignJWT(base)
		.setProtectedHeader({ alg: 'ES256', kid: given.EdDSA.kid }).sign(signingKey.ES256));
	// alg confusion: HS256 keyed with the public key, as a verifier that
	// trusts alg would check it
	for (const alg of ['EdDSA', 'ES256']) {
		const pub = await jose.exportSPKI(await jose.importPKCS8(given[alg].pem, alg, { extractable: true })
			.then((k) => require('crypto').createPublicKey(k)));
		refuse(`HS256 with the ${alg} public key (PEM) as secret`, await new jose.SignJWT(base)
			.setProtectedHeader({ alg: 'HS256', kid: given[alg].kid }).sign(new TextEncoder().encode(pub)));
		const jwk = await jose.exportJWK(require('crypto').createPublicKey(await jose.importPKCS8(given[alg].pem, alg, { extractable: true })));
		refuse(`HS256 with the ${alg} public key (JWK x) as secret`, await new jose.SignJWT(base)
			.setProtectedHeader({ alg: 'HS256', kid: given[alg].kid }).sign(Buffer.from(jwk.x, 'base64url')));
	}
	refuse('alg none (unsecured JWT)', new jose.UnsecuredJWT(base).encode());
	refuse('alg none with a kid', `${Buffer.from(JSON.stringify({ alg: 'none', kid: given.EdDSA.kid })).toString('base64url')}.${p}.`);
	refuse('expired', await make('EdDSA', { ...base, iat: now - 1200, exp: now - 600 }));
	refuse('expired a second ago', await make('ES256', { ...base, exp: now - 1 }));
	refuse('not yet valid (nbf)', await make('HS256', { ...base, nbf: now + 300 }));
	refuse('wrong audience', await make('EdDSA', { ...base, aud: 'elsewhere' }));
	refuse('audience list without orion', await make('EdDSA', { ...base, aud: ['a', 'b'] }));
	refuse('wrong issuer', await make('ES256', { ...base, iss: 'https://evil.example' }));
	refuse('no exp', await make('HS256', { iss: 'orion', aud: 'orion', sub: given.sub, sid: given.sid }));
	refuse('oversized', await make('EdDSA', { ...base, pad: 'x'.repeat(9000) }));
	refuse('crit header', await make('EdDSA', base, { crit: ['exp'], exp: 1 }).catch(() => `${Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: given.EdDSA.kid, crit: ['x'], x: 1 })).toString('base64url')}.${p}.${s}`));
	refuse('two parts', `${h}.${p}`);
	refuse('padded signature', `${good}=`);
	refuse('standard base64 signature', `${h}.${p}.${Buffer.from(s, 'base64url').toString('base64')}`);
	refuse('JWE-shaped', `${h}.${p}.${s}.${s}.${s}`);
	refuse('header not JSON', `${Buffer.from('{alg:EdDSA}').toString('base64url')}.${p}.${s}`);
	return out;
}

(async () => {
	let result;
	if (mode === 'keys') result = await keys();
	else if (mode === 'verify') result = await verify(process.argv[4], process.argv[5]);
	else if (mode === 'sign') result = await sign(process.argv[4], Number(process.argv[5] || Math.floor(Math.random() * 2 ** 31)));
	else throw new Error(`unknown mode ${mode}`);
	process.stdout.write(JSON.stringify(result));
})().catch((e) => { console.error(e); process.exit(1); });
