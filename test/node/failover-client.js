// test/node/failover-client.js: the calls of test/t/019_failover.pl's
// client, which runs until its primary is killed, writing down every call
// the server acknowledged.
//
//   node test/node/failover-client.js <pg package directory> <acks file> <workers> <seed>
//
// Connects with the PG* environment (a superuser: the test checks what
// survives, not privileges) and reads the users (orion_auth.users, all with
// the password "correct horse battery staple") and runs, in each of
// <workers> connections, a random mix of login, refresh_session (of the
// worker's own sessions, so no two workers rotate one token),
// assign_variant('failover-test', user) and send_notification. Each call
// is written to the acks file as a JSON line twice: {"call": n, ...} before
// it is sent, and {"ack": n, ...} with what it returned once the server has
// answered it. A call with no ack line was in flight when the server went:
// it may or may not have committed. A worker stops at its first error; an
// error that is not the connection going is written as {"error": ...}.
// Exits 0 when every worker has stopped.
'use strict';

const fs = require('fs');
const path = require('path');
const pg = require(path.resolve(process.argv[2]));
const { mulberry32 } = require('./prng');

const out = fs.openSync(process.argv[3], 'a');
const WORKERS = Number(process.argv[4] || 4);
const rnd = mulberry32(Number(process.argv[5] || 1));
const PASSWORD = 'correct horse battery staple';

let seq = 0;
function write(obj) {
	fs.writeSync(out, `${JSON.stringify(obj)}\n`);
}

function connectionGone(e) {
	return ['57P01', '57P02', '57P03', '08006', '08003', '08000', '08001'].includes(e.code)
		|| ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOENT'].includes(e.code)
		|| /Connection terminated|connection.*(closed|ended)|not queryable|terminating connection/i.test(String(e.message));
}

async function worker(index, users) {
	const client = new pg.Client({ application_name: `failover-client-${index}` });
	client.on('error', () => {});
	await client.connect();
	const sessions = [];        // {session, refresh}: this worker's own
	const pick = (a) => a[Math.floor(rnd() * a.length)];
	for (;;) {
		const n = ++seq;
		const x = rnd();
		let call;
		if (x < 0.3 || sessions.length === 0) {
			const u = pick(users);
			call = {
				kind: 'login', user: u.id,
				run: () => client.query('SELECT session_id, refresh_token FROM orion.login($1, $2)', [u.email, PASSWORD]),
				ack: (r) => {
					const row = r.rows[0];
					sessions.push({ session: row.session_id, refresh: row.refresh_token });
					return { session: row.session_id, refresh: row.refresh_token };
				},
			};
		} else if (x < 0.6) {
			const s = pick(sessions);
			call = {
				kind: 'refresh', session: s.session, old: s.refresh,
				run: () => client.query('SELECT session_id, refresh_token FROM orion.refresh_session($1)', [s.refresh]),
				ack: (r) => {
					if (r.rows.length !== 1 || r.rows[0].session_id !== s.session)
						throw new Error(`refresh_session of a live token of session ${s.session} returned ${JSON.stringify(r.rows)}`);
					const old = s.refresh;
					s.refresh = r.rows[0].refresh_token;
					return { session: s.session, old, new: s.refresh };
				},
			};
		} else if (x < 0.8) {
			const u = pick(users);
			call = {
				kind: 'assign', user: u.id,
				run: () => client.query("SELECT orion.assign_variant('failover-test', $1) AS v", [u.id]),
				ack: (r) => ({ user: u.id, variant: r.rows[0].v }),
			};
		} else {
			const u = pick(users);
			call = {
				kind: 'send', user: u.id,
				run: () => client.query("SELECT orion.send_notification($1, 'failover', 'in_app', 'A title', $2) AS id",
					[u.id, `call ${n}`]),
				ack: (r) => ({ user: u.id, id: r.rows[0].id }),
			};
		}
		write({ call: n, kind: call.kind, session: call.session || null, user: call.user || null });
		let answer;
		try {
			answer = await call.run();
		} catch (e) {
			if (!connectionGone(e))
				write({ error: n, kind: call.kind, code: e.code || null, message: String(e.message) });
			return;
		}
		try {
			write({ ack: n, kind: call.kind, ...call.ack(answer) });
		} catch (e) {
			write({ error: n, kind: call.kind, code: null, message: String(e.message) });
			return;
		}
	}
}

async function main() {
	const c = new pg.Client();
	await c.connect();
	const users = (await c.query('SELECT id, email FROM orion_auth.users ORDER BY email')).rows;
	await c.end();
	if (users.length === 0)
		throw new Error('no users to sign in');
	await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i, users)));
}

main().then(() => fs.closeSync(out), (e) => {
	console.error(`failover client: ${e.stack || e}`);
	process.exit(2);
});
