// test/node/prng.js: mulberry32, the small seeded PRNG the differential
// tests draw their random cases from, so that a failure reproduces with the
// seed a test prints.
'use strict';

function mulberry32(a) {
	return function () {
		a |= 0; a = a + 0x6D2B79F5 | 0;
		let t = Math.imul(a ^ a >>> 15, 1 | a);
		t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
		return ((t ^ t >>> 14) >>> 0) / 4294967296;
	};
}

module.exports = { mulberry32 };
