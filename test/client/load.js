// test/client/load.js: orion under a real client's load, with faults.
//
// What it tests, and why: the regress, isolation and TAP suites check each
// function and each race one at a time; this runs them all at once, the way
// the platform's services would, through node-postgres (npm pg) over the
// extended protocol. CLIENT_CONNECTIONS workers (16), each with its own
// connection, run for CLIENT_SECONDS (30) a random mix of: register_user,
// login, validate_session, refresh_session (alone, two workers refreshing
// one token at once, a rotated token presented again within and after
// orion.refresh_reuse_interval), logout, email verification (requested and
// used in one transaction, then refused a second use), password reset,
// sign-in links, TOTP (enrolled, used and disabled in one transaction),
// JWT access tokens (a third of the workers sign in with
// orion.access_token_format = jwt; every worker validates them, and checks
// verify_jwt's claims; the signing key rotates meanwhile, EdDSA and ES256),
// flag_enabled / evaluate_flag (flags
// changed meanwhile by other workers), assign_variant / peek_variant /
// track_conversion (a test's weights changed, and the test stopped and
// started, meanwhile), send_notification(s)
// / mark_read / list_notifications / unread_count / claim_notifications /
// report_delivery, delete_user of users other workers are using at that
// moment, expire_sessions / run_maintenance and find_orphans. Calls run
// alone (autocommit) or several in one transaction, committed or rolled back.
//
// Faults: a worker ends its own connection in the middle of a transaction
// (destroys its socket, or has pg_terminate_backend end its backend, while
// idle or while a call runs), then reconnects; or sets a statement timeout
// of a few milliseconds on a heavy call. A fault is only ever injected
// before COMMIT is sent, so its transaction certainly rolls back: the
// workers' model of what committed stays exact.
//
// Roles: workers log in as a NOINHERIT role that is a member of the five
// service roles and orion_admin, and run each call under exactly the
// service role the README names for it (SET ROLE), so a call that needed
// more privileges than its service has fails. Half the workers log in as a
// role whose deletions anonymise notifications, half as one whose deletions
// remove them (orion.user_delete_notifications).
//
// Request context: some logins pass no IP address or user agent and set
// orion.client_ip and orion.client_user_agent for their transaction
// instead (set_config(..., true)); every session the workers opened must
// carry its own worker's address and agent at the end.
//
// Through a pooler (CLIENT_POOLER_HOST, CLIENT_POOLER_PORT: PgBouncer in
// transaction pooling mode, test/client/run CLIENT_POOLER=pgbouncer), a
// connection's session state is not the worker's: another client's
// transactions run on the same server connection between the worker's. So
// the workers keep none: each call runs in a transaction of its own (an
// autocommit call becomes BEGIN, SET LOCAL ROLE, the call, COMMIT) or of
// the unit's, with SET LOCAL ROLE before each call; the JWT workers log in
// as roles that have orion.access_token_format = jwt set (ALTER ROLE ...
// SET; PgBouncer keeps a pool per role) instead of passing it as a startup
// option; the fault that ends a backend asks the transaction its backend's
// pid; the LISTENing client connects directly, as LISTEN needs a session.
//
// Errors are classified by SQLSTATE (err.code). Expected, counted and not
// failures: a reference to a user deleted concurrently (23503, or 22023 for
// a list page anchored on one of a deleted user's notifications) when the
// workers' model says that user was being deleted; deadlocks and
// serialization failures (40P01, 40001); a lost connection, or 57P01, on the
// worker that injected that fault; 57014 on the worker that set that
// statement timeout. Anything else is unexpected and fails the run.
//
// Besides errors, the workers check every answer they can against the
// model of what committed (only when no concurrent operation could have
// changed it: no timing is asserted, only what ordering proves): login with
// the right password of a live, never-locked user opens a session and a
// wrong one never does; validate_session never accepts a token of a revoked
// session, of a deleted user, an expired token or one rotated out twice,
// and accepts the current token of a live session; a refresh of a live
// token issues tokens in that session; a rotated token presented again
// after the reuse interval gets nothing and ends its session; flags answer
// as their committed state says (the caches follow updates); a running
// test assigns everyone and a stopped one nobody; assignments are sticky
// and one per user and test; lists hold only the user's own
// notifications, newest first, every committed one; a notification is
// never claimed twice; find_orphans() is empty whenever it is asked.
//
// At the end, in SQL: one assignment per (user, test), stored variants as
// the workers were told, conversions under their user's variant;
// find_orphans() empty and no session, refresh token, notification
// (unless anonymised: nil user, no metadata), assignment or conversion of a
// deleted user; no token of a deleted user, or of another user, validates;
// every rotated refresh token has a successor in its session or its session
// is revoked; no live refresh token in a revoked session; one user.deleted
// audit entry per deleted user; every committed notification was announced
// on orion_notifications and none that rolled back was; every deleted user
// was announced on orion_cache_invalidate.
//
// It prints operations by kind, throughput, errors by kind (expected and
// unexpected), faults injected and the invariants, and exits non-zero on
// any unexpected error or violation (3 when the run hangs).
//
// Environment: PGHOST, PGPORT, PGDATABASE (orion installed), PGUSER (a
// superuser: setup, the faults' pg_terminate_backend, the final checks),
// CLIENT_APP_ROLE and CLIENT_APP_ROLE_ANON (the workers' login roles, made
// by test/client/run, each with a twin named <role>_jwt), ORION_PG_MODULE
// (the directory of npm pg), CLIENT_SECONDS, CLIENT_CONNECTIONS,
// CLIENT_SEED; CLIENT_POOLER_HOST and CLIENT_POOLER_PORT for the workers'
// connections through a pooler.
'use strict';

const pg = require(process.env.ORION_PG_MODULE || 'pg');

const SECONDS = positiveInt('CLIENT_SECONDS', 30);
const CONNECTIONS = positiveInt('CLIENT_CONNECTIONS', 16);
const SEED = process.env.CLIENT_SEED ? Number(process.env.CLIENT_SEED) : (Date.now() % 1000000007);
const APP_ROLE = required('CLIENT_APP_ROLE');
const APP_ROLE_ANON = required('CLIENT_APP_ROLE_ANON');
const DATABASE = required('PGDATABASE');
const POOLER = process.env.CLIENT_POOLER_PORT
	? { host: required('CLIENT_POOLER_HOST'), port: Number(process.env.CLIENT_POOLER_PORT) } : null;

const AUTH = 'orion_auth_service';
const USERSVC = 'orion_user_service';
const NOTIFY = 'orion_notifications_service';
const FLAGS = 'orion_feature_flags_service';
const AB = 'orion_ab_testing_service';
const ADMIN = 'orion_admin';
const SERVICE_ROLES = [AUTH, USERSVC, NOTIFY, FLAGS, AB];
const CHANNELS = ['email', 'sms', 'push', 'in_app', 'webhook', 'slack', 'discord'];
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const MIN_LIVE_USERS = 40;

function positiveInt(name, dflt) {
	const v = process.env[name] === undefined || process.env[name] === '' ? dflt : Number(process.env[name]);
	if (!Number.isInteger(v) || v < 1) {
		console.error(`${name} must be a positive integer`);
		process.exit(2);
	}
	return v;
}

function required(name) {
	if (!process.env[name]) {
		console.error(`${name} is not set (run test/client/run)`);
		process.exit(2);
	}
	return process.env[name];
}

// ---------------------------------------------------------------------------
// Randomness: seeded and printed. The workers draw from one sequence, so
// which worker draws what still depends on timing.
// ---------------------------------------------------------------------------

let rngState = SEED >>> 0;
function rnd() {
	// mulberry32
	rngState = (rngState + 0x6D2B79F5) >>> 0;
	let t = rngState;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = (a) => a[Math.floor(rnd() * a.length)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------

const stats = {
	calls: new Map(),          // orion call (or statement) -> successful calls
	outcomes: new Map(),       // notable answers: login without a row, ...
	expected: new Map(),       // "SQLSTATE why" -> count
	unexpected: new Map(),     // "SQLSTATE call" -> count
	unexpectedSamples: [],
	faults: new Map(),
	units: new Map(),          // autocommit calls, transactions committed / rolled back
	violations: new Map(),
	violationSamples: [],
	deadlockSamples: [],
};

function bump(map, key, n = 1) {
	map.set(key, (map.get(key) || 0) + n);
}

function violation(what, detail) {
	bump(stats.violations, what);
	if (stats.violations.get(what) <= 3 && stats.violationSamples.length < 40)
		stats.violationSamples.push({ what, detail });
}

// ---------------------------------------------------------------------------
// The model: what the workers know committed
// ---------------------------------------------------------------------------

const S = {
	seq: 0,
	backendWorkers: new Map(), // through a pooler: backend pid -> the workers whose transactions it ran
	users: [],                 // every user ever registered (committed)
	usersById: new Map(),
	liveCount: 0,
	sessions: [],
	sessionsById: new Map(),
	accessTokens: [],          // every access token handed out: {token, exp, session}
	rotatedPool: [],           // rotated refresh tokens: {token, session, at}
	pairQueue: [],             // refreshes waiting for a second worker
	notes: new Map(),          // notifications returned by send_notification (committed)
	rolledBackNoteIds: [],     // ids returned inside transactions that rolled back
	claimed: new Map(),        // notification id -> {final, at}: claimed, or reported for good
	releasing: new Set(),      // ids whose report_delivery is under way
	flags: [],
	halfAnswers: new Map(),    // flag|user -> answer at a 50% rollout
	tests: [],
	assignments: new Map(),    // test|user -> variant (committed)
	fixedVariant: new Map(),   // test|user -> variant, for tests whose weights never change
	announcedNoteIds: new Set(),
	announcedKeys: new Set(),
	listenerEvents: new Map(),
	orphansSeen: new Map(),    // table -> most orphans find_orphans() reported
};

function addUser(u) {
	Object.assign(u, {
		state: 'live', deleting: 0, delEpoch: 0, resetting: 0, resetEpoch: 0, inUse: 0, sessions: [], notes: [],
		deletedBy: 0, anonymised: false,
	});
	S.users.push(u);
	S.usersById.set(u.id, u);
	S.liveCount++;
}

// A snapshot of a user's state before a call; quiet() after it says whether
// the user was live, and no deletion or password reset of them ran, for the
// whole call.
function userSnap(u) {
	return { live: u.state === 'live', deleting: u.deleting, epoch: u.delEpoch, resetting: u.resetting, resetEpoch: u.resetEpoch };
}
function userQuiet(u, snap) {
	return snap.live && snap.deleting === 0 && u.state === 'live' && u.delEpoch === snap.epoch
		&& snap.resetting === 0 && u.resetEpoch === snap.resetEpoch;
}
function userGone(u) {
	return u.state === 'deleted' || u.deleting > 0;
}

function pickUser(filter = (u) => u.state === 'live') {
	for (let i = 0; i < 8 && S.users.length; i++) {
		const u = pick(S.users);
		if (filter(u))
			return u;
	}
	return null;
}

function pickSession(filter) {
	for (let i = 0; i < 8 && S.sessions.length; i++) {
		const s = pick(S.sessions);
		if (filter(s))
			return s;
	}
	return null;
}

function addSession(u, row) {
	const tok = { token: row.access_token, exp: row.access_expires_at.getTime() };
	const s = {
		id: row.session_id, user: u, revoked: false, busy: 0, epoch: 0,
		current: tok, previous: null, stale: new Set(), tokens: [tok],
		refresh: row.refresh_token, refreshTokens: [row.refresh_token],
	};
	tok.session = s;
	if (u.state === 'deleted')
		s.revoked = true;   // its login committed before the deletion, which took it along
	S.sessions.push(s);
	S.sessionsById.set(s.id, s);
	S.accessTokens.push(tok);
	u.sessions.push(s);
	return s;
}

function addAccessToken(s, row) {
	const tok = { token: row.access_token, exp: row.access_expires_at.getTime(), session: s };
	s.tokens.push(tok);
	S.accessTokens.push(tok);
	s.refreshTokens.push(row.refresh_token);
	return tok;
}

// After a rotation whose place in the session's order is known (no other
// refresh of that session overlapped it), the token two rotations back is
// dead; otherwise the order is unknown and nothing is asserted about which
// of the session's tokens is current.
function advanceChain(s, tok, orderKnown) {
	if (orderKnown && s.current) {
		if (s.previous)
			s.stale.add(s.previous);
		s.previous = s.current;
		s.current = tok;
	} else if (orderKnown) {
		s.previous = null;
		s.current = tok;
	} else {
		s.previous = null;
		s.current = null;
	}
}

function rotated(s, token) {
	S.rotatedPool.push({ token, session: s, at: Date.now() });
}

// Marks on the model held while an operation (or its transaction) runs.
function sessionOp(tx, s) {
	const quietAtStart = s.busy === 0;
	s.busy++;
	const epoch = ++s.epoch;
	tx.hold(() => { s.busy--; });
	return () => quietAtStart && s.epoch === epoch;
}

function useUser(tx, u) {
	u.inUse++;
	tx.hold(() => { u.inUse--; });
}

// ---------------------------------------------------------------------------
// A unit of work: one autocommit call, or one transaction
// ---------------------------------------------------------------------------

class Tx {
	constructor(autocommit) {
		this.autocommit = autocommit;
		this.effects = [];
		this.aborts = [];
		this.holds = [];
	}
	// what the model learns if (and when) the work commits
	effect(fn) {
		if (this.autocommit)
			fn();
		else
			this.effects.push(fn);
	}
	// what the model learns if it rolls back
	onAbort(fn) {
		if (!this.autocommit)
			this.aborts.push(fn);
	}
	hold(release) {
		this.holds.push(release);
	}
	commit() {
		for (const fn of this.effects)
			fn();
		this.effects = [];
		this.aborts = [];
	}
	abort() {
		for (const fn of this.aborts)
			fn();
		this.effects = [];
		this.aborts = [];
	}
	release() {
		for (const fn of this.holds)
			fn();
		this.holds = [];
	}
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

// Node's own codes for a socket that is gone: which one a write to a
// destroyed socket gets depends on Node's version (18: EPIPE).
const SOCKET_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

function isConnectionError(e) {
	if (e.code === '57P01' || e.code === '57P02' || e.code === '57P03' || e.code === '08006' || e.code === '08003')
		return true;
	// PgBouncer's word to a client whose server connection died under it
	if (POOLER && e.code === '08P01' && /server conn crashed|server closed the connection/i.test(String(e.message)))
		return true;
	if (SOCKET_GONE.has(e.code))
		return true;
	return !e.code && /Connection terminated|not queryable|ECONNRESET|EPIPE|Client was closed|connection.*(closed|ended)|write after end|stream/i.test(String(e.message));
}

// Why an error is an expected outcome, or null.
function expectedWhy(e, w) {
	const ctx = e.orionCtx || {};
	const users = ctx.users || [];
	if (w.faultArmed && isConnectionError(e))
		return `${e.code || 'connection lost'} (injected fault: ${w.faultKind})`;
	if (w.timeoutArmed && e.code === '57014')
		return '57014 query_canceled (injected statement timeout)';
	if (e.code === '23503' && users.some(userGone))
		return '23503 foreign_key_violation (user deleted concurrently)';
	if (e.code === 'P0002' && /^user .* does not exist$/.test(e.message) && users.some(userGone))
		return 'P0002 no_data_found (user deleted concurrently)';
	if (e.code === '22023' && /is not one of this user's/.test(e.message) && users.some(userGone))
		return '22023 list page anchored on a notification deleted with its user';
	if (e.code === '40P01' || e.code === '40001') {
		if (stats.deadlockSamples.length < 10)
			stats.deadlockSamples.push({ call: e.orionCall, unit: w.unitKind, message: e.message, detail: e.detail, where: e.where });
		return `${e.code} ${e.code === '40P01' ? 'deadlock_detected' : 'serialization_failure'} (${e.orionCall}, ${w.unitKind})`;
	}
	return null;
}

// ---------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------

let control;                   // superuser pool: setup, faults, final checks
let deadline;
let reuseIntervalMs;

class Worker {
	constructor(index) {
		this.index = index;
		this.loginRole = index % 2 === 0 ? APP_ROLE : APP_ROLE_ANON;
		// a third of the workers hand out JWT access tokens: through a
		// pooler, the setting comes with the login role
		this.jwt = index % 3 === 1;
		this.anonymises = this.loginRole === APP_ROLE_ANON;
		if (this.jwt && POOLER)
			this.loginRole += '_jwt';
		this.client = null;
		this.faultArmed = false;
		this.timeoutArmed = false;
		this.txnStart = null;   // when the open transaction's BEGIN was sent
	}

	async connect() {
		const client = new pg.Client({ user: this.loginRole, database: DATABASE, application_name: `orion-load-${this.index}`,
			options: this.jwt && !POOLER ? '-c orion.access_token_format=jwt' : undefined,
			...(POOLER || {}) });
		client.on('error', () => { client.broken = true; });
		client.on('end', () => { client.broken = true; });
		await client.connect();
		this.client = client;
		this.pid = client.processID;
		this.role = null;
	}

	async reconnect() {
		const old = this.client;
		this.client = null;
		if (old)
			old.end().catch(() => {});
		await this.connect();
	}

	async q(sql, params) {
		return this.client.query(sql, params);
	}

	async begin() {
		this.txnStart = Date.now();
		await this.client.query('BEGIN');
		if (POOLER) {
			this.pid = (await this.client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
			if (!S.backendWorkers.has(this.pid))
				S.backendWorkers.set(this.pid, new Set());
			S.backendWorkers.get(this.pid).add(this.index);
		}
	}

	async setRole(role) {
		if (POOLER)
			await this.client.query(`SET LOCAL ROLE ${role}`);
		else if (this.role !== role) {
			await this.client.query(`SET ROLE ${role}`);
			this.role = role;
		}
	}

	// One call of orion (or one statement) as a service role. ctx.users: the
	// users it names, for telling a concurrent deletion's errors. ctx.request:
	// {ip, agent}, set as orion.client_ip and orion.client_user_agent for the
	// call's transaction.
	async call(name, role, sql, params, ctx) {
		// through a pooler, an autocommit call is a transaction of its own
		const own = (POOLER || (ctx && ctx.request)) && this.txnStart === null;
		try {
			if (own)
				await this.begin();
			await this.setRole(role);
			if (ctx && ctx.request)
				await this.client.query(
					"SELECT set_config('orion.client_ip', $1, true), set_config('orion.client_user_agent', $2, true)",
					[ctx.request.ip, ctx.request.agent]);
			const r = await this.client.query(sql, params);
			if (own) {
				await this.client.query('COMMIT');
				this.txnStart = null;
			}
			bump(stats.calls, name);
			return r;
		} catch (e) {
			if (own)
				await this.rollback();
			e.orionCall = name;
			e.orionCtx = ctx;
			throw e;
		}
	}

	handleError(e) {
		const why = expectedWhy(e, this);
		if (why) {
			bump(stats.expected, why);
		} else {
			const key = `${e.code || 'no SQLSTATE'} in ${e.orionCall || 'the harness'}`;
			bump(stats.unexpected, key);
			if (stats.unexpectedSamples.length < 30)
				stats.unexpectedSamples.push({
					worker: this.index, call: e.orionCall, code: e.code, message: e.message,
					detail: e.detail, hint: e.hint, where: e.where,
				});
		}
	}

	async rollback() {
		this.role = null;
		this.txnStart = null;
		if (!this.client || this.client.broken)
			return;
		try {
			await this.client.query('ROLLBACK');
		} catch (e) {
			this.client.broken = true;
		}
	}

	async run() {
		await this.connect();
		while (Date.now() < deadline) {
			if (!this.client || this.client.broken) {
				// a connection lost outside an injected fault was counted as unexpected
				await this.reconnect();
			}
			if (S.pairQueue.length) {
				await this.servePair();
				continue;
			}
			const x = rnd();
			if (x < 0.035)
				await this.faultUnit();
			else if (x < 0.07)
				await this.timeoutUnit();
			else if (x < 0.19)
				await this.txnUnit();
			else
				await this.singleUnit();
		}
		await this.client.end().catch(() => {});
	}

	async singleUnit() {
		const op = pickOp(S.liveCount < MIN_LIVE_USERS ? REGISTER_FIRST : ALL_OPS);
		const tx = new Tx(true);
		this.unitKind = 'autocommit';
		try {
			await op.fn(this, tx);
			bump(stats.units, 'autocommit units');
		} catch (e) {
			this.handleError(e);
		} finally {
			tx.release();
		}
	}

	async txnUnit() {
		const tx = new Tx(false);
		this.unitKind = 'in a transaction of several calls';
		try {
			await this.begin();
			const n = randInt(2, 4);
			for (let i = 0; i < n; i++)
				await pickOp(TXN_OPS).fn(this, tx);
			if (rnd() < 0.15) {
				await this.rollback();
				tx.abort();
				bump(stats.units, 'transactions rolled back (on purpose)');
			} else {
				await this.q('COMMIT');
				this.txnStart = null;
				tx.commit();
				bump(stats.units, 'transactions committed');
			}
		} catch (e) {
			this.handleError(e);
			tx.abort();
			await this.rollback();
			bump(stats.units, 'transactions rolled back (after an error)');
		} finally {
			tx.release();
		}
	}

	// BEGIN; some calls; then the connection ends before COMMIT.
	async faultUnit() {
		const tx = new Tx(false);
		const kind = pick(['socket destroyed, idle in transaction', 'socket destroyed during a call',
			'pg_terminate_backend, idle in transaction', 'pg_terminate_backend during a call']);
		let pid = this.pid;
		let injected = false;
		this.unitKind = 'in a transaction ended by a fault';
		try {
			await this.begin();
			pid = this.pid;     // through a pooler, the backend of this transaction
			const n = randInt(1, 3);
			for (let i = 0; i < n; i++)
				await pickOp(TXN_OPS).fn(this, tx);
			injected = true;
			this.faultArmed = true;
			this.faultKind = kind;
			bump(stats.faults, kind);
			let inflight = null;
			if (kind.endsWith('during a call')) {
				inflight = pickOp(TXN_OPS).fn(this, tx).then(() => null, (e) => e);
				await sleep(randInt(0, 2));
			}
			if (kind.startsWith('socket'))
				this.client.connection.stream.destroy();
			else
				await control.query('SELECT pg_terminate_backend($1, 20000)', [pid]);
			if (inflight) {
				const e = await inflight;
				if (e)
					this.handleError(e);
			}
			// the transaction cannot go on: the next statement must fail
			let survived = false;
			try {
				await this.call('SELECT 1 after the fault', AUTH, 'SELECT 1', [], {});
				survived = true;
			} catch (e) {
				this.handleError(e);
			}
			if (survived)
				violation('a connection went on after its fault', kind);
		} catch (e) {
			this.handleError(e);
		} finally {
			tx.abort();
			if (injected) {
				// the marks stay until the backend is gone: until then its
				// transaction holds its locks (it can no longer commit)
				await waitBackendGone(pid);
				tx.release();
				this.faultArmed = false;
				this.txnStart = null;
				this.client.broken = true;
				await this.reconnect();
				bump(stats.units, 'transactions ended by a fault');
			} else {
				// an error before the fault: an ordinary rollback
				await this.rollback();
				tx.release();
				bump(stats.units, 'transactions rolled back (after an error)');
			}
		}
	}

	// BEGIN; SET LOCAL statement_timeout to a few ms; a heavy call; COMMIT.
	async timeoutUnit() {
		const tx = new Tx(false);
		this.unitKind = 'under a statement timeout';
		const ms = randInt(1, 25);
		try {
			await this.begin();
			await this.q(`SET LOCAL statement_timeout = '${ms}ms'`);
			this.timeoutArmed = true;
			bump(stats.faults, 'statement timeout set');
			await pick(HEAVY_OPS)(this, tx);
			await this.q('SET LOCAL statement_timeout TO DEFAULT');
			this.timeoutArmed = false;
			await this.q('COMMIT');
			this.txnStart = null;
			tx.commit();
			bump(stats.units, 'transactions committed (under a statement timeout)');
		} catch (e) {
			if (e.code === '57014' && this.timeoutArmed)
				bump(stats.faults, 'statement timeout hit');
			this.handleError(e);
			tx.abort();
			await this.rollback();
			bump(stats.units, 'transactions rolled back (after an error)');
		} finally {
			this.timeoutArmed = false;
			tx.release();
		}
	}

	// The second of two workers refreshing one token at the same moment.
	async servePair() {
		const p = S.pairQueue.shift();
		if (!p)
			return;
		p.claimed = true;
		p.claimedSignal();
		this.unitKind = 'autocommit';
		try {
			const r = await this.call('refresh_session', AUTH, REFRESH_SQL, [p.token], { users: [p.session.user] });
			p.resolve({ rows: r.rows });
			bump(stats.units, 'autocommit units');
		} catch (e) {
			p.resolve({ error: e });
			this.handleError(e);
		}
	}
}

// The session's row as the table has it now, for a violation's report: is
// the token its current or previous one, and since when is it revoked.
async function sessionRow(s, tok) {
	const digest = require('crypto').createHash('sha256').update(tok.token).digest('hex');
	const r = await control.query(
		`SELECT token = $2 AS is_current, previous_token = $2 AS is_previous, expires_at, previous_expires_at,
		        revoked_at, revoked_reason, now() AS now
		   FROM orion_auth.sessions WHERE id = $1`, [s.id, digest]);
	return r.rows[0] || 'no such session';
}

async function waitBackendGone(pid) {
	for (let i = 0; i < 1000; i++) {
		const r = await control.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
		if (r.rowCount === 0)
			return;
		await sleep(20);
	}
	violation('a backend outlived its connection by 20 s', `pid ${pid}`);
}

// ---------------------------------------------------------------------------
// Operations. Each takes (worker, tx); effects go through tx.
// ---------------------------------------------------------------------------

const REFRESH_SQL = 'SELECT * FROM orion.refresh_session($1)';
const VALIDATE_SQL = 'SELECT * FROM orion.validate_session($1)';

async function opRegister(w, tx) {
	const n = ++S.seq;
	const email = `load${n}.w${w.index}.${Math.floor(rnd() * 1e9).toString(36)}@example.com`;
	const password = `pw ${Math.floor(rnd() * 1e12).toString(36)} long enough`;
	const role = rnd() < 0.25 ? 'admin' : 'user';
	const fragile = rnd() < 0.15;       // the only users given wrong passwords
	const r = await w.call('register_user', AUTH, 'SELECT orion.register_user($1, $2, $3, $4, $5) AS id',
		[email, password, 'Load', `User ${n}`, role], {});
	const id = r.rows[0].id;
	if (!/^[0-9a-f-]{36}$/.test(id || ''))
		violation('register_user returned no user id', id);
	tx.effect(() => addUser({ id, email, password, role, fragile }));
}

async function opLogin(w, tx) {
	const u = pickUser();
	if (!u)
		return opRegister(w, tx);
	useUser(tx, u);
	const wrong = u.fragile && rnd() < 0.4;
	const email = rnd() < 0.3 ? u.email.toUpperCase() : u.email;
	const snap = userSnap(u);
	const request = workerRequest(w);
	const password = wrong ? `${u.password}!` : u.password;
	// the address and agent as arguments, or as settings of a transaction
	// of the login's own (in a longer one, they would be the context of the
	// refreshes after it too, which store the address they come from)
	const r = w.txnStart === null && rnd() < 0.3
		? await w.call('login (request context by settings)', AUTH, 'SELECT * FROM orion.login($1, $2)',
			[email, password], { users: [u], request })
		: await w.call('login', AUTH, 'SELECT * FROM orion.login($1, $2, $3, $4)',
			[email, password, request.ip, request.agent], { users: [u] });
	if (wrong) {
		bump(stats.outcomes, 'login with a wrong password: no row');
		if (r.rows.length)
			violation('login with a wrong password opened a session', u.email);
		return;
	}
	if (r.rows.length === 0) {
		bump(stats.outcomes, 'login with the right password: no row (locked or deleted)');
		if (!u.fragile && userQuiet(u, snap))
			violation('login of a live, never-locked user with the right password returned no row', u.email);
		return;
	}
	const row = r.rows[0];
	if (row.user_id !== u.id)
		violation('login returned another user', { expected: u.id, got: row.user_id });
	if (row.access_token !== null && isJwt(row.access_token) !== w.jwt)
		violation(`login handed out ${w.jwt ? 'an opaque token' : 'a JWT'} under access_token_format = ${w.jwt ? 'jwt' : 'opaque'}`, row.access_token);
	if (row.access_token !== null)
		bump(stats.outcomes, `login: ${isJwt(row.access_token) ? 'a JWT' : 'an opaque token'}`);
	tx.effect(() => { addSession(u, row).request = request; });
}

// The IP address and user agent a worker's requests come from.
function workerRequest(w) {
	return { ip: `203.0.113.${w.index + 1}`, agent: `orion-load/${w.index}` };
}

function isJwt(token) {
	return token.startsWith('eyJ');
}

// The claims of a JWT, by verify_jwt (no session check): while the token
// has not expired they are there and name its user and session, whatever
// became of the session; after, NULL.
async function checkJwtClaims(w, s, tok) {
	const sent = Date.now();
	const r = await w.call('verify_jwt', pick(SERVICE_ROLES), 'SELECT orion.verify_jwt($1) AS c', [tok.token], { users: [s.user] });
	const c = r.rows[0].c;
	const txnStart = w.txnStart === null ? sent : w.txnStart;
	if (c === null) {
		bump(stats.outcomes, 'verify_jwt: NULL');
		if (txnStart < tok.exp - 5)
			violation('verify_jwt refused an unexpired JWT', { session: s.id, expires: new Date(tok.exp).toISOString() });
	} else {
		bump(stats.outcomes, 'verify_jwt: claims');
		if (c.sub !== s.user.id || c.sid !== s.id)
			violation('verify_jwt answered with another user or session', { expected: [s.user.id, s.id], got: [c.sub, c.sid] });
		if (txnStart > tok.exp + 5)
			violation('verify_jwt accepted an expired JWT', { session: s.id, expired: new Date(tok.exp).toISOString() });
	}
}

// The extension's owner rotates the signing key: every JWT handed out
// before keeps verifying until it expires (the validate checks say so).
async function opRotateKey() {
	const alg = pick(['EdDSA', 'ES256']);
	await control.query('SELECT orion.rotate_signing_key($1)', [alg]);
	bump(stats.calls, 'rotate_signing_key');
	bump(stats.outcomes, `rotate_signing_key: ${alg}`);
}

async function opValidate(w) {
	const s = rnd() < 0.85 ? pickSession((x) => x.user.state === 'live') : pickSession(() => true);
	if (!s)
		return;
	const tok = s.current && rnd() < 0.65 ? s.current : pick(s.tokens);
	const isCurrent = tok === s.current;
	const ss = { busy: s.busy, epoch: s.epoch };
	const us = userSnap(s.user);
	const revokedBefore = s.revoked;
	const deletedBefore = s.user.state === 'deleted';
	const staleBefore = s.stale.has(tok);
	const sent = Date.now();
	const r = await w.call('validate_session', pick(SERVICE_ROLES), VALIDATE_SQL, [tok.token], { users: [s.user] });
	const done = Date.now();
	if (isJwt(tok.token) && rnd() < 0.3)
		await checkJwtClaims(w, s, tok);
	if (r.rows.length) {
		const row = r.rows[0];
		if (row.user_id !== s.user.id || row.session_id !== s.id)
			violation('validate_session answered with another user or session', { token: tok.token, expected: [s.user.id, s.id], got: [row.user_id, row.session_id] });
		if (deletedBefore)
			violation('validate_session accepted a token of a deleted user', { user: s.user.id, session: s.id });
		else if (revokedBefore)
			violation('validate_session accepted a token of a revoked session', { session: s.id });
		if (staleBefore)
			violation('validate_session accepted a token rotated out twice', { session: s.id });
		// now() is the transaction's start: in a transaction of several
		// calls, a token that expired since its BEGIN is still live
		const txnStart = w.txnStart === null ? sent : w.txnStart;
		if (txnStart > tok.exp + 5)
			violation('validate_session accepted an expired access token', { session: s.id, expired: new Date(tok.exp).toISOString(), transactionStart: new Date(txnStart).toISOString() });
		bump(stats.outcomes, 'validate_session: a row');
	} else {
		bump(stats.outcomes, 'validate_session: no row');
		if (isCurrent && !revokedBefore && ss.busy === 0 && s.epoch === ss.epoch && userQuiet(s.user, us) && done < tok.exp - 5)
			violation('validate_session refused the current token of a live session', { session: s.id, expires: new Date(tok.exp).toISOString() });
	}
}

function liveSessionForRefresh(s) {
	return !s.revoked && s.user.state === 'live' && s.busy === 0 && s.refresh;
}

async function opRefresh(w, tx) {
	const s = pickSession(liveSessionForRefresh);
	if (!s)
		return opLogin(w, tx);
	useUser(tx, s.user);
	const token = s.refresh;
	const quiet = sessionOp(tx, s);
	const us = userSnap(s.user);
	const revokedBefore = s.revoked;
	const r = await w.call('refresh_session', AUTH, REFRESH_SQL, [token], { users: [s.user] });
	if (r.rows.length === 0) {
		bump(stats.outcomes, 'refresh_session: no row');
		if (!revokedBefore && quiet() && userQuiet(s.user, us))
			violation('refresh of the live refresh token of a live session returned no row', { session: s.id });
		// a live, unexpired token gets nothing only from an ended session
		tx.effect(() => { s.revoked = true; });
		return;
	}
	const row = r.rows[0];
	if (row.session_id !== s.id || row.user_id !== s.user.id)
		violation('refresh_session issued tokens in another session', { expected: s.id, got: row.session_id });
	tx.effect(() => {
		const known = quiet();
		const tok = addAccessToken(s, row);
		advanceChain(s, tok, known);
		if (s.refresh === token)
			s.refresh = row.refresh_token;
		rotated(s, token);
	});
}

// Two workers refresh one token at once (two tabs): the first in lock
// order gets tokens; the second gets tokens too within the reuse interval,
// or, after it, ends the session. Never nothing, never two chains silently.
async function opRefreshPair(w, tx) {
	const s = pickSession(liveSessionForRefresh);
	if (!s)
		return;
	useUser(tx, s.user);
	const token = s.refresh;
	const quiet = sessionOp(tx, s);
	const us = userSnap(s.user);
	let claimedSignal;
	const claimed = new Promise((resolve) => { claimedSignal = resolve; });
	let resolve;
	const partner = new Promise((res) => { resolve = res; });
	const p = { token, session: s, claimed: false, claimedSignal, resolve };
	S.pairQueue.push(p);
	await Promise.race([claimed, sleep(300)]);
	if (!p.claimed) {
		const i = S.pairQueue.indexOf(p);
		if (i >= 0)
			S.pairQueue.splice(i, 1);
		bump(stats.outcomes, 'refresh pair: no partner came');
		return;
	}
	let mine;
	let mineError = null;
	try {
		mine = await w.call('refresh_session', AUTH, REFRESH_SQL, [token], { users: [s.user] });
	} catch (e) {
		mineError = e;
	}
	const theirs = await partner;
	const rows = [...(mine ? mine.rows : []), ...(theirs.rows || [])];
	if (mineError || theirs.error) {
		// what was issued is the session's all the same
		const toks = rows.map((row) => addAccessToken(s, row));
		advanceChain(s, null, false);
		if (toks.length) {
			s.refresh = rows[0].refresh_token;
			rotated(s, token);
		}
		if (mineError)
			throw mineError;
		return;                 // the partner's error is counted by the partner
	}
	bump(stats.outcomes, `refresh pair: ${rows.length} of 2 issued tokens`);
	for (const row of rows)
		if (row.session_id !== s.id || row.user_id !== s.user.id)
			violation('refresh_session issued tokens in another session', { expected: s.id, got: row.session_id });
	const revokedBefore = s.revoked;
	const undisturbed = () => quiet() && userQuiet(s.user, us) && !revokedBefore;
	if (rows.length === 0 && undisturbed())
		violation('two refreshes of a live token at once: neither issued tokens', { session: s.id });
	const toks = rows.map((row) => addAccessToken(s, row));
	advanceChain(s, null, false);
	if (rows.length) {
		s.refresh = rows[0].refresh_token;
		rotated(s, token);
	} else {
		s.revoked = true;       // nothing issued for a live token: the session ended
	}
	if (!undisturbed())
		return;
	// both issued: both new access tokens are current or previous, and valid;
	// one issued: the other presentation was taken for reuse, the session ended
	for (const tok of toks) {
		const sent = Date.now();
		const v = await w.call('validate_session', AUTH, VALIDATE_SQL, [tok.token], { users: [s.user] });
		const done = Date.now();
		if (!undisturbed())
			break;              // another worker reached the session meanwhile (a logout, say)
		if (rows.length === 2 && v.rows.length === 0 && done < tok.exp - 5)
			violation('after two refreshes at once, a token either issued does not validate',
				{ session: s.id, token: tok === toks[0] ? 'mine' : 'the partner\'s', row: await sessionRow(s, tok) });
		if (rows.length === 1 && v.rows.length && sent < tok.exp)
			violation('after a refresh taken for reuse, the session still validates', { session: s.id, row: await sessionRow(s, tok) });
	}
	if (rows.length === 1)
		s.revoked = true;
}

// A rotated token presented again at once (within the interval, as two
// tabs would): tokens again, in the same session.
async function opReuseWithin(w, tx) {
	const s = pickSession(liveSessionForRefresh);
	if (!s)
		return;
	useUser(tx, s.user);
	const token = s.refresh;
	const quiet = sessionOp(tx, s);
	const us = userSnap(s.user);
	const t0 = Date.now();
	const r1 = await w.call('refresh_session', AUTH, REFRESH_SQL, [token], { users: [s.user] });
	if (r1.rows.length === 0) {
		if (!s.revoked && quiet() && userQuiet(s.user, us))
			violation('refresh of the live refresh token of a live session returned no row', { session: s.id });
		return;
	}
	advanceChain(s, addAccessToken(s, r1.rows[0]), quiet());
	s.refresh = r1.rows[0].refresh_token;
	rotated(s, token);
	const r2 = await w.call('refresh_session', AUTH, REFRESH_SQL, [token], { users: [s.user] });
	const t1 = Date.now();
	bump(stats.outcomes, `rotated token presented again within the interval: ${r2.rows.length ? 'tokens' : 'no row'}`);
	if (r2.rows.length === 0) {
		// measured: both calls ran inside the interval, so this was no reuse
		if (t1 - t0 < reuseIntervalMs - 50 && quiet() && userQuiet(s.user, us))
			violation('a rotated token presented again within orion.refresh_reuse_interval got no row', { session: s.id, ms: t1 - t0 });
		s.revoked = true;       // taken for reuse: the session ended
		return;
	}
	const row = r2.rows[0];
	if (row.session_id !== s.id || row.user_id !== s.user.id)
		violation('refresh_session issued tokens in another session', { expected: s.id, got: row.session_id });
	advanceChain(s, addAccessToken(s, row), quiet());
}

// A rotated token presented again after the interval: a copy is in use,
// so no tokens, and the whole session ends.
async function opReuseAfter(w, tx) {
	const now = Date.now();
	S.rotatedPool = S.rotatedPool.filter((x) => x.session.user.state !== 'deleted');
	const candidates = S.rotatedPool.filter((x) => now - x.at > reuseIntervalMs + 250 && x.session.busy === 0);
	if (!candidates.length)
		return;
	const c = pick(candidates);
	S.rotatedPool.splice(S.rotatedPool.indexOf(c), 1);
	const s = c.session;
	useUser(tx, s.user);
	const quiet = sessionOp(tx, s);
	const us = userSnap(s.user);
	const r = await w.call('refresh_session', AUTH, REFRESH_SQL, [c.token], { users: [s.user] });
	bump(stats.outcomes, 'rotated token presented again after the interval');
	if (r.rows.length)
		violation('a rotated token presented again after orion.refresh_reuse_interval got tokens', { session: s.id });
	const wasRevoked = s.revoked;
	s.revoked = true;
	if (wasRevoked || !quiet() || !userQuiet(s.user, us))
		return;
	const v = s.current ? await w.call('validate_session', AUTH, VALIDATE_SQL, [s.current.token], { users: [s.user] }) : { rows: [] };
	if (v.rows.length)
		violation('after reuse was detected, the session\'s access token still validates', { session: s.id });
	if (s.refresh) {
		const f = await w.call('refresh_session', AUTH, REFRESH_SQL, [s.refresh], { users: [s.user] });
		if (f.rows.length)
			violation('after reuse was detected, the session\'s refresh token still works', { session: s.id });
	}
}

async function opLogout(w, tx) {
	const s = pickSession(() => true);
	if (!s)
		return;
	useUser(tx, s.user);
	const byRefresh = !s.current || rnd() < 0.5;
	const token = byRefresh ? pick(s.refreshTokens) : s.current.token;
	const quiet = sessionOp(tx, s);
	const us = userSnap(s.user);
	const revokedBefore = s.revoked;
	const r = await w.call('logout', AUTH, 'SELECT orion.logout($1) AS ended', [token], { users: [s.user] });
	const ended = r.rows[0].ended;
	bump(stats.outcomes, `logout: ${ended}`);
	if (ended && revokedBefore)
		violation('logout ended a session that had already ended', { session: s.id });
	if (!ended && !revokedBefore && quiet() && userQuiet(s.user, us))
		violation('logout of a live session returned false', { session: s.id, byRefresh });
	if (ended)
		tx.effect(() => { s.revoked = true; });
}

// One op at a time per user that may verify the address (an email
// verification, a password reset), so that "verified
// already" cannot happen unless orion is wrong.
function holdVerifying(tx, u) {
	u.verifying = true;
	tx.hold(() => { u.verifying = false; });
}

// Email verification: a token requested and used in one transaction, by
// one worker at a time per user (so that "verified already" cannot happen
// unless orion is wrong); used once, it must not work again.
async function opVerifyEmail(w, tx) {
	const u = pickUser((x) => x.state === 'live' && !x.verified && !x.verifying);
	if (!u)
		return;
	useUser(tx, u);
	holdVerifying(tx, u);
	const snap = userSnap(u);
	const r = await w.call('request_email_verification', AUTH,
		'SELECT orion.request_email_verification($1) AS token', [u.id], { users: [u] });
	const token = r.rows[0].token;
	if (!/^orion_v_[A-Za-z0-9_-]{43}$/.test(token || ''))
		violation('request_email_verification returned no token', token);
	if (rnd() < 0.2) {
		bump(stats.outcomes, 'email verification requested, not used');
		return;
	}
	const v = await w.call('verify_email', AUTH, 'SELECT orion.verify_email($1) AS user_id', [token], { users: [u] });
	const got = v.rows[0].user_id;
	if (got === null) {
		bump(stats.outcomes, 'verify_email of a fresh token: NULL (user deleted meanwhile)');
		if (userQuiet(u, snap))
			violation('a fresh verification token of a live user verified nothing', u.email);
		return;
	}
	if (got !== u.id)
		violation('verify_email verified another user', { expected: u.id, got });
	bump(stats.outcomes, 'verify_email: verified');
	const again = await w.call('verify_email', AUTH, 'SELECT orion.verify_email($1) AS user_id', [token], { users: [u] });
	if (again.rows[0].user_id !== null)
		violation('an email verification token worked twice', u.email);
	tx.effect(() => { u.verified = true; });
}

// Password reset by token, requested by address and used at once. Every
// session of the user ends and only the new password works. While a reset
// is under way the user is not quiet (userQuiet), so that the logins,
// validations and refreshes of others that it overtakes are not judged by
// the old model. A request may answer NULL for a live user (rate-limited, or
// busy: another call held the user's row), so NULL is counted, not judged;
// regress and isolation tests pin those answers down.
async function opResetPassword(w, tx) {
	const u = pickUser((x) => x.state === 'live' && x.resetting === 0 && !x.verifying);
	if (!u)
		return;
	useUser(tx, u);
	holdVerifying(tx, u);
	const snap = userSnap(u);
	u.resetting++;
	const epoch = ++u.resetEpoch;
	tx.hold(() => { u.resetting--; });
	// quiet but for this reset
	const quiet = () => userQuiet(u, { ...snap, resetEpoch: epoch }) && u.resetting === 1;
	const email = rnd() < 0.3 ? u.email.toUpperCase() : u.email;
	const r = await w.call('request_password_reset', AUTH, 'SELECT orion.request_password_reset($1) AS token',
		[email], { users: [u] });
	const token = r.rows[0].token;
	if (token === null) {
		// NULL: rate-limited, deleted, or busy (another call held the row)
		bump(stats.outcomes, 'request_password_reset: NULL (rate-limited, busy or deleted)');
		return;
	}
	if (!/^orion_p_[A-Za-z0-9_-]{43}$/.test(token))
		violation('request_password_reset returned no token', token);
	const password = `reset ${w.index} ${randInt(0, 1e9)}`;
	const v = await w.call('reset_password', AUTH, 'SELECT orion.reset_password($1, $2) AS user_id',
		[token, password], { users: [u] });
	const got = v.rows[0].user_id;
	if (got === null) {
		bump(stats.outcomes, 'reset_password of a fresh token: NULL (user deleted meanwhile)');
		if (quiet())
			violation('a fresh reset token of a live user reset nothing', u.email);
		return;
	}
	if (got !== u.id)
		violation('reset_password reset another user', { expected: u.id, got });
	bump(stats.outcomes, 'reset_password: reset');
	const again = await w.call('reset_password', AUTH, 'SELECT orion.reset_password($1, $2) AS user_id',
		[token, `${password}!`], { users: [u] });
	if (again.rows[0].user_id !== null)
		violation('a password reset token worked twice', u.email);
	tx.effect(() => {
		u.password = password;
		u.verified = true;
		for (const s of u.sessions)
			s.revoked = true;
	});
}

// Sign-in link, requested by address and used at once: a new session, as
// a login's (it does not verify the address). Fragile users may be locked,
// and a locked account stays so.
async function opSignInLink(w, tx) {
	const u = pickUser();
	if (!u)
		return;
	useUser(tx, u);
	const snap = userSnap(u);
	const r = await w.call('request_sign_in_link', AUTH, 'SELECT orion.request_sign_in_link($1) AS token',
		[u.email], { users: [u] });
	const token = r.rows[0].token;
	if (token === null) {
		// NULL: rate-limited, deleted, or busy (another call held the row)
		bump(stats.outcomes, 'request_sign_in_link: NULL (rate-limited, busy or deleted)');
		return;
	}
	if (!/^orion_m_[A-Za-z0-9_-]{43}$/.test(token))
		violation('request_sign_in_link returned no token', token);
	const s = await w.call('sign_in_with_link', AUTH, 'SELECT * FROM orion.sign_in_with_link($1, $2, $3)',
		[token, `198.51.100.${w.index + 1}`, `orion-load/${w.index}`], { users: [u] });
	if (s.rows.length === 0) {
		bump(stats.outcomes, 'sign_in_with_link: no row (locked or deleted)');
		if (!u.fragile && userQuiet(u, snap))
			violation('a fresh sign-in link of a live, never-locked user signed nothing in', u.email);
		return;
	}
	const row = s.rows[0];
	if (row.user_id !== u.id)
		violation('sign_in_with_link signed in another user', { expected: u.id, got: row.user_id });
	bump(stats.outcomes, 'sign_in_with_link: signed in');
	const again = await w.call('sign_in_with_link', AUTH, 'SELECT * FROM orion.sign_in_with_link($1)',
		[token], { users: [u] });
	if (again.rows.length)
		violation('a sign-in link worked twice', u.email);
	tx.effect(() => {
		addSession(u, row);
	});
}

// TOTP, the whole life of a factor in one transaction: enrolled, confirmed
// (ten recovery codes), a login that hands out a challenge, a wrong code,
// the next step's code or a recovery code (a session), the same again
// (nothing), disabled. The user's row stays locked from enrollment to the
// end, and the factor is gone by COMMIT, so no other worker's login ever
// meets an active factor and the model only learns of the new session.
// Fragile users are left out: a lock would refuse the right code.
async function opTotp(w, tx) {
	const u = pickUser((x) => x.state === 'live' && !x.fragile && x.resetting === 0);
	if (!u)
		return;
	useUser(tx, u);
	const snap = userSnap(u);
	const own = tx.autocommit;
	if (own)
		await w.begin();
	let session = null;
	try {
		const e = await w.call('enroll_totp', AUTH, 'SELECT secret, uri FROM orion.enroll_totp($1)', [u.id], { users: [u] });
		const { secret, uri } = e.rows[0];
		if (!/^[A-Z2-7]{32}$/.test(secret) || !uri.startsWith('otpauth://totp/') || !uri.includes(`secret=${secret}&`))
			violation('enroll_totp returned no secret or URI', { secret, uri });
		const c = await w.call('confirm_totp', AUTH, 'SELECT orion.confirm_totp($1, orion.totp_code($2)) AS codes',
			[u.id, secret], { users: [u] });
		const codes = c.rows[0].codes;
		if (!Array.isArray(codes) || codes.length !== 10)
			violation('confirm_totp with the current code returned no ten recovery codes', codes);
		const l = await w.call('login (TOTP active)', AUTH, 'SELECT * FROM orion.login($1, $2, $3, $4)',
			[u.email, u.password, `203.0.113.${w.index + 1}`, `orion-load/${w.index}`], { users: [u] });
		if (l.rows.length === 0) {
			// the password changed by a reset that committed before the enrollment locked the row
			bump(stats.outcomes, 'login with TOTP active: no row (password reset meanwhile)');
			if (userQuiet(u, snap))
				violation('login of a quiet user with TOTP active returned no row', u.email);
		} else {
			const row = l.rows[0];
			if (row.user_id !== u.id || row.access_token !== null || row.session_id !== null
				|| !/^orion_c_[A-Za-z0-9_-]{43}$/.test(row.mfa_challenge || ''))
				violation('login with TOTP active did not answer with only a challenge', row);
			const challenge = row.mfa_challenge;
			const wrong = await w.call('verify_totp (wrong code)', AUTH,
				"SELECT * FROM orion.verify_totp($1, CASE orion.totp_code($2) WHEN '000000' THEN '111111' ELSE '000000' END)",
				[challenge, secret], { users: [u] });
			if (wrong.rows.length)
				violation('verify_totp accepted a wrong code', u.email);
			const byRecovery = rnd() < 0.3;
			const v = await w.call('verify_totp', AUTH,
				byRecovery ? 'SELECT * FROM orion.verify_totp($1, $2, $3, $4)'
					: "SELECT * FROM orion.verify_totp($1, orion.totp_code($2, now() + interval '30 s'), $3, $4)",
				[challenge, byRecovery ? pick(codes) : secret, `203.0.113.${w.index + 1}`, `orion-load/${w.index}`],
				{ users: [u] });
			const token = (v.rows[0] || {}).access_token || '';
			if (v.rows.length !== 1 || v.rows[0].user_id !== u.id || !(w.jwt ? isJwt(token) : /^orion_s_/.test(token)))
				violation('verify_totp with a right code opened no session', { email: u.email, byRecovery });
			else {
				session = v.rows[0];
				bump(stats.outcomes, `verify_totp: signed in by ${byRecovery ? 'a recovery code' : 'a code'}`);
			}
			const again = await w.call('verify_totp (again)', AUTH, 'SELECT * FROM orion.verify_totp($1, $2)',
				[challenge, byRecovery ? codes[0] : '123456'], { users: [u] });
			if (again.rows.length)
				violation('an MFA challenge worked twice', u.email);
		}
		const d = await w.call('disable_totp', AUTH, 'SELECT orion.disable_totp($1) AS was_active', [u.id], { users: [u] });
		if (d.rows[0].was_active !== true)
			violation('disable_totp of an active factor said it was not', u.email);
		if (own) {
			await w.q('COMMIT');
			w.txnStart = null;
		}
	} catch (err) {
		if (own)
			await w.rollback();
		throw err;
	}
	if (session)
		tx.effect(() => addSession(u, session));
}

// Flags. 'load-rollout', 'load-admins' and 'load-null' are changed by
// workers during the run; the others never are.
function expectedFlag(f, u, context) {
	if (f.key === 'load-missing' || !f.enabled)
		return false;
	if (f.key === 'load-rollout')
		return f.pct === 100 ? true : f.pct === 0 ? false : 'half';
	if (f.key === 'load-admins')
		return !!u && u.role === 'admin';
	if (f.key === 'load-null')
		return true;
	if (f.key === 'load-half')
		return 'half';
	if (f.key === 'load-country')
		return !!(context.properties && context.properties.country === 'NO');
	throw new Error(`no expectation for ${f.key}`);
}

async function opFlag(w, tx, evaluate) {
	const f = pick(S.flags);
	const u = rnd() < 0.9 ? pickUser() : null;
	if (u)
		useUser(tx, u);
	const context = f.key === 'load-country' && rnd() < 0.8 ? { properties: { country: pick(['NO', 'SE']) } } : {};
	const fs = { updating: f.updating, epoch: f.epoch };
	const us = u ? userSnap(u) : null;
	const expect = expectedFlag(f, u, context);
	const name = evaluate ? 'evaluate_flag' : 'flag_enabled';
	const r = await w.call(name, pick(SERVICE_ROLES), `SELECT orion.${name}($1, $2, $3) AS v`,
		[f.key, u ? u.id : null, JSON.stringify(context)], { users: u ? [u] : [] });
	let got = r.rows[0].v;
	if (evaluate) {
		const j = got;
		got = j.enabled;
		if (j.key !== f.key || typeof j.enabled !== 'boolean')
			violation('evaluate_flag answered for another flag or without enabled', j);
		if (f.key === 'load-missing' && (j.reason !== 'ERROR' || j.errorCode !== 'FLAG_NOT_FOUND'))
			violation('evaluate_flag of an unknown flag: not ERROR/FLAG_NOT_FOUND', j);
	}
	bump(stats.outcomes, `${name}: ${got}`);
	if (f.updating !== 0 || fs.updating !== 0 || f.epoch !== fs.epoch)
		return;                 // the flag changed meanwhile: either answer is right
	if (f.key === 'load-admins' && u && !userQuiet(u, us))
		return;
	if (expect === 'half') {
		if (!u)
			return;
		const key = `${f.key}|${u.id}`;
		if (S.halfAnswers.has(key) && S.halfAnswers.get(key) !== got)
			violation('a 50% rollout changed its answer for one user', { flag: f.key, user: u.id });
		S.halfAnswers.set(key, got);
		return;
	}
	if (got !== expect) {
		// what the table says now, and what this connection answers again
		const row = (await control.query('SELECT enabled, rollout, config FROM orion_feature_flags.feature_flags WHERE key = $1', [f.key])).rows[0];
		const again = await w.call(name, pick(SERVICE_ROLES), `SELECT orion.${name}($1, $2, $3) AS v`,
			[f.key, u ? u.id : null, JSON.stringify(context)], { users: u ? [u] : [] });
		const againValue = evaluate ? again.rows[0].v.enabled : again.rows[0].v;
		const persistent = w.txnStart === null && againValue === got;
		violation(persistent ? 'a flag answered against its committed state, and again at the next statement (stale cache)'
			: w.txnStart === null ? 'a flag answered against its committed state once'
				: 'a flag answered against its committed state, inside a transaction of several calls', {
			flag: f.key, model: { enabled: f.enabled, pct: f.pct, version: f.version, updating: f.updating },
			table: row, user: u && u.id, role: u && u.role, context, expected: expect, got, again: againValue,
			unit: w.unitKind,
		});
	}
}

async function opFlagUpdate(w, tx) {
	const f = pick(S.flags.filter((x) => x.mutable));
	const enabled = rnd() < 0.7;
	const pct = f.key === 'load-rollout' ? pick([0, 50, 100]) : f.pct;
	f.updating++;
	f.epoch++;
	tx.hold(() => { f.updating--; });
	// the row's version orders the updates as they committed (the row lock
	// serialises them), whatever order their answers reach the workers in
	const r = await w.call('UPDATE feature_flags', FLAGS,
		`UPDATE orion_feature_flags.feature_flags
		    SET enabled = $2, rollout = $3, updated_at = now(),
		        config = jsonb_build_object('version', coalesce((config->>'version')::int, 0) + 1)
		  WHERE key = $1 RETURNING (config->>'version')::int AS version`,
		[f.key, enabled, f.rollout(pct)], {});
	if (r.rowCount !== 1) {
		violation('a flag update changed no row', f.key);
		return;
	}
	const version = r.rows[0].version;
	tx.effect(() => {
		if (version > f.version) {
			f.version = version;
			f.enabled = enabled;
			f.pct = pct;
		}
	});
}

// AB testing: 'load-ab-mutable' has its weights changed, and is stopped and
// started, during the run; the other two never change, so their answer is
// a function of the user alone.
function recordVariant(t, u, variant, stored) {
	const key = `${t.key}|${u.id}`;
	if (!t.variants.includes(variant))
		violation('a variant that is not the test\'s', { test: t.key, variant });
	if (!t.mutable) {
		const fixed = S.fixedVariant.get(key);
		if (fixed !== undefined && fixed !== variant)
			violation('a test whose weights never change gave one user two variants', { test: t.key, user: u.id, was: fixed, now: variant });
		S.fixedVariant.set(key, variant);
	}
	if (stored) {
		const had = S.assignments.get(key);
		if (had !== undefined && had !== variant)
			violation('assign_variant changed a stored assignment', { test: t.key, user: u.id, was: had, now: variant });
		if (u.state === 'live')
			S.assignments.set(key, variant);
	}
}

function testSnap(t) {
	return { updating: t.updating, epoch: t.epoch };
}

// A test that runs at full allocation always answers; a stopped one never
// does, whatever is stored (checked when no update of the test overlapped).
async function checkRunning(w, name, t, ts, u, v) {
	if (ts.updating !== 0 || t.updating !== 0 || t.epoch !== ts.epoch)
		return;
	if ((v === null) !== t.active)
		return;
	// what the table says now, and what this connection answers again
	const row = (await control.query('SELECT active, description AS version FROM orion_ab_testing.ab_tests WHERE key = $1', [t.key])).rows[0];
	const again = (await w.call('peek_variant', AB, 'SELECT orion.peek_variant($1, $2) AS v', [t.key, u.id], { users: [u] })).rows[0].v;
	const how = w.txnStart !== null ? ', inside a transaction of several calls'
		: (again === null) === (v === null) ? ', and again at the next statement (stale cache)' : ' once';
	violation(v === null ? `${name} of a running test at full allocation returned NULL${how}` : `${name} answered for a stopped test${how}`,
		{ test: t.key, model: { active: t.active, version: t.version }, table: row, user: u.id, got: v, again, unit: w.unitKind });
}

async function opAssign(w, tx) {
	const t = pick(S.tests);
	const u = pickUser();
	if (!u)
		return;
	useUser(tx, u);
	const us = userSnap(u);
	const ts = testSnap(t);
	const had = S.assignments.get(`${t.key}|${u.id}`);
	const r = await w.call('assign_variant', AB, 'SELECT orion.assign_variant($1, $2) AS v', [t.key, u.id], { users: [u] });
	const v = r.rows[0].v;
	await checkRunning(w, 'assign_variant', t, ts, u, v);
	if (v === null)
		return;
	if (had !== undefined && had !== v && userQuiet(u, us))
		violation('assign_variant changed a stored assignment', { test: t.key, user: u.id, was: had, now: v });
	recordVariant(t, u, v, false);
	tx.effect(() => recordVariant(t, u, v, true));
}

async function opPeek(w, tx) {
	const t = pick(S.tests);
	const u = pickUser();
	if (!u)
		return;
	useUser(tx, u);
	const us = userSnap(u);
	const ts = testSnap(t);
	const had = S.assignments.get(`${t.key}|${u.id}`);
	const r = await w.call('peek_variant', pick(SERVICE_ROLES), 'SELECT orion.peek_variant($1, $2) AS v', [t.key, u.id], { users: [u] });
	const v = r.rows[0].v;
	await checkRunning(w, 'peek_variant', t, ts, u, v);
	if (v === null)
		return;
	if (had !== undefined && had !== v && userQuiet(u, us))
		violation('peek_variant disagrees with the stored assignment', { test: t.key, user: u.id, stored: had, peeked: v });
	recordVariant(t, u, v, false);
}

async function opTrack(w, tx) {
	const t = pick(S.tests);
	const u = pickUser();
	if (!u)
		return;
	useUser(tx, u);
	const us = userSnap(u);
	const had = S.assignments.get(`${t.key}|${u.id}`);
	const r = await w.call('track_conversion', AB, 'SELECT orion.track_conversion($1, $2, $3, $4) AS ok',
		[t.key, u.id, pick(['purchase', 'signup', 'click']), rnd() < 0.5 ? null : (rnd() * 100).toFixed(2)], { users: [u] });
	const ok = r.rows[0].ok;
	bump(stats.outcomes, `track_conversion: ${ok}`);
	if (had !== undefined && !ok && userQuiet(u, us))
		violation('track_conversion of an assigned user returned false', { test: t.key, user: u.id });
}

// New weights, and the test stopped or started; the row's version (in
// description) orders the updates as they committed.
async function opAbUpdate(w, tx) {
	const t = S.tests.find((x) => x.mutable);
	const variants = t.variants.map((key) => ({ key, name: key, weight: randInt(1, 5) }));
	const active = rnd() < 0.7;
	t.updating++;
	t.epoch++;
	tx.hold(() => { t.updating--; });
	const r = await w.call('UPDATE ab_tests', AB,
		`UPDATE orion_ab_testing.ab_tests
		    SET variants = $2, active = $3, updated_at = now(),
		        description = (coalesce(description, '0')::int + 1)::text
		  WHERE key = $1 RETURNING description::int AS version`,
		[t.key, JSON.stringify(variants), active], {});
	if (r.rowCount !== 1) {
		violation('an AB test update changed no row', t.key);
		return;
	}
	const version = r.rows[0].version;
	tx.effect(() => {
		if (version > t.version) {
			t.version = version;
			t.active = active;
		}
	});
}

// Notifications
async function opSend(w, tx) {
	const u = pickUser();
	if (!u)
		return;
	useUser(tx, u);
	const channel = pick(CHANNELS);
	const r = await w.call('send_notification', NOTIFY,
		'SELECT orion.send_notification($1, $2, $3, $4, $5, $6) AS id',
		[u.id, 'load', channel, `Hello ${u.id.slice(0, 8)}`, 'A message under load', JSON.stringify({ worker: w.index })],
		{ users: [u] });
	const id = r.rows[0].id;
	tx.onAbort(() => S.rolledBackNoteIds.push(id));
	tx.effect(() => {
		const n = { id, user: u, channel, read: false, busy: 0, epoch: 0, gone: u.state === 'deleted' && !u.anonymised };
		S.notes.set(id, n);
		u.notes.push(n);
	});
}

async function opSendMany(w, tx) {
	const users = [];
	for (let i = randInt(2, 6); i > 0; i--) {
		const u = pickUser();
		if (u)
			users.push(u);
	}
	if (!users.length)
		return;
	users.forEach((u) => useUser(tx, u));
	const ids = users.map((u) => u.id);
	if (rnd() < 0.3)
		ids.push(ids[0]);        // a duplicate counts once
	if (rnd() < 0.3)
		ids.push(null);          // a NULL is skipped
	const r = await w.call('send_notifications', NOTIFY,
		'SELECT orion.send_notifications($1::uuid[], $2, $3, $4, $5) AS n',
		[ids, 'load-many', pick(CHANNELS), 'To several', 'One message, many users'], { users });
	const distinct = new Set(ids.filter((x) => x !== null)).size;
	if (Number(r.rows[0].n) !== distinct)
		violation('send_notifications stored another count than its distinct users', { expected: distinct, got: r.rows[0].n });
}

async function opMarkRead(w, tx) {
	if (!S.notes.size)
		return opSend(w, tx);
	const u = pickUser((x) => x.notes.length > 0);
	if (!u)
		return;
	const n = pick(u.notes);
	useUser(tx, u);
	const quietAtStart = n.busy === 0;
	n.busy++;
	const epoch = ++n.epoch;
	tx.hold(() => { n.busy--; });
	const us = userSnap(u);
	const readBefore = n.read;
	const goneBefore = n.gone;
	const r = await w.call('mark_read', NOTIFY, 'SELECT orion.mark_read($1) AS ok', [n.id], { users: [u] });
	const ok = r.rows[0].ok;
	bump(stats.outcomes, `mark_read: ${ok}`);
	if (ok && (readBefore || goneBefore))
		violation(`mark_read returned true for a notification ${goneBefore ? 'deleted with its user' : 'already read'}`, n.id);
	if (!ok && !readBefore && !goneBefore && quietAtStart && n.epoch === epoch && userQuiet(u, us))
		violation('mark_read of an unread notification returned false', n.id);
	if (ok)
		tx.effect(() => { n.read = true; });
}

function newerThan(a, b) {
	const ca = BigInt(a.created_us);
	const cb = BigInt(b.created_us);
	return ca > cb || (ca === cb && a.id > b.id);
}

const LIST_SQL = `SELECT id, user_id, read, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us
                    FROM orion.list_notifications($1, $2, $3, $4)`;

async function opList(w, tx) {
	const u = pickUser((x) => x.state === 'live' && x.notes.length > 0) || pickUser();
	if (!u)
		return;
	useUser(tx, u);
	const us = userSnap(u);
	const unreadOnly = rnd() < 0.3;
	const maxRows = pick([3, 20, 1000]);
	const known = u.notes.filter((n) => !n.gone && (!unreadOnly || (!n.read && n.busy === 0)));
	const r = await w.call('list_notifications', NOTIFY, LIST_SQL, [u.id, unreadOnly, maxRows, null], { users: [u] });
	checkPage(u, r.rows, maxRows, unreadOnly, null);
	if (maxRows === 1000 && userQuiet(u, us) && r.rows.length < 1000) {
		const got = new Set(r.rows.map((x) => x.id));
		const missing = known.filter((n) => !got.has(n.id) && !(unreadOnly && (n.read || n.busy)));
		if (missing.length)
			violation('list_notifications left out committed notifications of the user', { user: u.id, missing: missing.map((n) => n.id).slice(0, 3), unreadOnly });
	}
	if (r.rows.length === maxRows && maxRows < 1000) {
		const last = r.rows[r.rows.length - 1];
		const r2 = await w.call('list_notifications', NOTIFY, LIST_SQL, [u.id, unreadOnly, maxRows, last.id], { users: [u] });
		checkPage(u, r2.rows, maxRows, unreadOnly, last);
		const first = new Set(r.rows.map((x) => x.id));
		if (r2.rows.some((x) => first.has(x.id)))
			violation('the next page of list_notifications repeats a notification', { user: u.id });
	}
}

function checkPage(u, rows, maxRows, unreadOnly, before) {
	if (rows.length > maxRows)
		violation('list_notifications returned more than max_rows', { user: u.id, maxRows, got: rows.length });
	for (let i = 0; i < rows.length; i++) {
		const x = rows[i];
		if (x.user_id !== u.id)
			violation('list_notifications returned another user\'s notification', { user: u.id, got: x.user_id });
		if (unreadOnly && x.read)
			violation('list_notifications(unread_only) returned a read notification', x.id);
		if (i > 0 && !newerThan(rows[i - 1], x))
			violation('list_notifications is not newest first', { user: u.id });
		if (before && !newerThan(before, x))
			violation('a next page of list_notifications is not older than its anchor', { user: u.id });
	}
}

async function opUnreadCount(w, tx) {
	const u = pickUser();
	if (!u)
		return;
	useUser(tx, u);
	const r = await w.call('unread_count', NOTIFY, 'SELECT orion.unread_count($1) AS n', [u.id], { users: [u] });
	const n = Number(r.rows[0].n);
	if (!Number.isInteger(n) || n < 0)
		violation('unread_count is not a count', r.rows[0].n);
}

// A delivery worker: claim a batch, report each (sent, failed and retried,
// failed for good), or leave some unreported as a crashed worker would.
async function opClaimReport(w, tx) {
	const channel = pick(['email', 'sms', 'push', 'webhook']);
	const r = await w.call('claim_notifications', NOTIFY,
		'SELECT id, user_id, channel, status, attempts FROM orion.claim_notifications($1, $2)',
		[channel, randInt(1, 10)], {});
	for (const row of r.rows) {
		if (row.channel !== channel || row.status !== 'sending' || row.attempts < 1)
			violation('claim_notifications returned a row not claimed for its channel', row);
		// a claim not reported is taken over after 5 minutes, not before
		const state = S.claimed.get(row.id);
		if (state && !S.releasing.has(row.id) && (state.final || Date.now() - state.at < 270000))
			violation(`a notification was claimed again while ${state.final ? 'already reported' : 'still claimed'}`, row.id);
		S.claimed.set(row.id, { final: false, at: Date.now() });
	}
	bump(stats.outcomes, 'notifications claimed', r.rows.length);
	for (const row of r.rows) {
		if (rnd() < 0.1)
			continue;           // never reported: claimable again only after 5 minutes
		const u = S.usersById.get(row.user_id);
		const us = u ? userSnap(u) : null;
		const how = rnd();
		const delivered = how < 0.6;
		const retry = how < 0.85;
		S.releasing.add(row.id);
		let ok;
		try {
			const rep = await w.call('report_delivery', NOTIFY, 'SELECT orion.report_delivery($1, $2, $3, $4) AS ok',
				[row.id, delivered, delivered ? null : 'SMTP 451 try later', retry], { users: u ? [u] : [] });
			ok = rep.rows[0].ok;
		} finally {
			S.releasing.delete(row.id);
		}
		if (ok && (delivered || !retry))
			S.claimed.set(row.id, { final: true });
		else if (ok)
			S.claimed.delete(row.id);
		if (!ok && u && userQuiet(u, us))
			violation('report_delivery of a claim this worker holds returned false', row.id);
	}
}

// Users are deleted preferably while other workers are using them.
async function opDelete(w, tx) {
	const busy = S.users.filter((u) => u.state === 'live' && u.inUse > 0);
	const u = busy.length && rnd() < 0.8 ? pick(busy) : pickUser();
	if (!u || S.liveCount < MIN_LIVE_USERS / 2)
		return;
	const deletedBefore = u.state === 'deleted';
	const othersAtStart = u.deleting;
	u.deleting++;
	const epoch = ++u.delEpoch;
	tx.hold(() => { u.deleting--; });
	const viaView = rnd() < 0.25;
	const r = viaView
		? await w.call('DELETE FROM orion_user.users', USERSVC, 'DELETE FROM orion_user.users WHERE id = $1', [u.id], { users: [u] })
		: await w.call('delete_user', USERSVC, 'SELECT orion.delete_user($1) AS ok', [u.id], { users: [u] });
	const ok = viaView ? r.rowCount === 1 : r.rows[0].ok;
	bump(stats.outcomes, `user deletions: ${ok ? 'deleted' : 'no such user'}`);
	if (ok && deletedBefore)
		violation('a deleted user was deleted again', u.id);
	if (!ok && !deletedBefore && othersAtStart === 0 && u.delEpoch === epoch)
		violation('delete_user found no row for a user that exists', u.id);
	if (ok)
		tx.effect(() => {
			if (u.state === 'deleted')
				violation('a user was deleted twice', u.id);
			u.state = 'deleted';
			u.deletedBy++;
			u.anonymised = w.anonymises;
			S.liveCount--;
			for (const s of u.sessions)
				s.revoked = true;
			for (const n of u.notes)
				if (!w.anonymises)
					n.gone = true;
			for (const t of S.tests)
				S.assignments.delete(`${t.key}|${u.id}`);
		});
}

async function opExpire(w) {
	if (rnd() < 0.7) {
		const r = await w.call('expire_sessions', ADMIN, 'SELECT orion.expire_sessions($1) AS n', [randInt(1, 500)], {});
		bump(stats.outcomes, 'rows removed by expire_sessions', Number(r.rows[0].n));
	} else {
		const r = await w.call('run_maintenance', ADMIN, 'SELECT * FROM orion.run_maintenance($1)', [randInt(1, 500)], {});
		bump(stats.outcomes, 'sessions removed by run_maintenance', Number(r.rows[0].sessions));
	}
}

async function opOrphans(w) {
	const r = await w.call('find_orphans', ADMIN, 'SELECT table_name, orphans FROM orion.find_orphans()', [], {});
	for (const row of r.rows) {
		// counted once per orphan row: the most seen so far in that table
		const n = Number(row.orphans);
		const seen = S.orphansSeen.get(row.table_name) || 0;
		if (n > seen) {
			violation('find_orphans() found orphans during the run', `${row.table_name}: ${n}`);
			bump(stats.violations, 'find_orphans() found orphans during the run', n - seen - 1);
			S.orphansSeen.set(row.table_name, n);
		}
	}
}

// Heavy calls for the statement-timeout units: long enough that a timeout
// of a few milliseconds sometimes cancels them midway.
const HEAVY_OPS = [
	async function heavyAssign(w, tx) {
		const t = pick(S.tests);
		const users = [];
		for (let i = 0; i < 60; i++) {
			const u = pickUser();
			if (u && !users.includes(u))
				users.push(u);
		}
		users.forEach((u) => useUser(tx, u));
		const ts = testSnap(t);
		const r = await w.call('assign_variant (60 users, one statement)', AB,
			'SELECT u::text AS user_id, orion.assign_variant($1, u) AS v FROM unnest($2::uuid[]) u',
			[t.key, users.map((u) => u.id)], { users });
		for (const row of r.rows) {
			const u = S.usersById.get(row.user_id);
			await checkRunning(w, 'assign_variant (60 users, one statement)', t, ts, u, row.v);
			if (row.v === null)
				continue;
			recordVariant(t, u, row.v, false);
			tx.effect(() => recordVariant(t, u, row.v, true));
		}
	},
	async function heavySend(w, tx) {
		const users = [];
		for (let i = 0; i < 60; i++) {
			const u = pickUser();
			if (u && !users.includes(u))
				users.push(u);
		}
		users.forEach((u) => useUser(tx, u));
		await w.call('send_notifications (60 users)', NOTIFY,
			'SELECT orion.send_notifications($1::uuid[], $2, $3, $4, $5) AS n',
			[users.map((u) => u.id), 'load-bulk', 'email', 'Bulk', 'Bulk message'], { users });
	},
	async function heavyFlags(w) {
		await w.call('flag_enabled (every user, one statement)', USERSVC,
			'SELECT count(*) FILTER (WHERE orion.flag_enabled($1, id)) FROM orion_user.users', [pick(S.flags).key], {});
	},
	async function heavyValidate(w) {
		const toks = [];
		for (let i = 0; i < 200 && S.accessTokens.length; i++)
			toks.push(pick(S.accessTokens).token);
		await w.call('validate_session (200 tokens, one statement)', NOTIFY,
			'SELECT count(*) FROM unnest($1::text[]) t, orion.validate_session(t)', [toks], {});
	},
	opLogin,
];

function op(name, weight, fn, inTxn = true) {
	return { name, weight, fn, inTxn };
}

const ALL_OPS = [
	op('register', 5, opRegister),
	op('login', 8, opLogin),
	op('validate', 18, opValidate),
	op('refresh', 7, opRefresh),
	op('refresh pair', 1.5, opRefreshPair, false),
	op('reuse within', 1, opReuseWithin, false),
	op('reuse after', 1.5, opReuseAfter, false),
	op('logout', 2.5, opLogout),
	op('verify email', 2, opVerifyEmail),
	op('reset password', 1, opResetPassword),
	op('sign-in link', 1.5, opSignInLink),
	op('totp', 1, opTotp),
	op('rotate signing key', 0.15, opRotateKey, false),
	op('flag_enabled', 10, (w, tx) => opFlag(w, tx, false)),
	op('evaluate_flag', 5, (w, tx) => opFlag(w, tx, true)),
	op('flag update', 1.5, opFlagUpdate),
	op('assign', 7, opAssign),
	op('peek', 5, opPeek),
	op('track', 4, opTrack),
	op('ab update', 0.7, opAbUpdate),
	op('send', 6, opSend),
	op('send many', 2, opSendMany),
	op('mark_read', 4, opMarkRead),
	op('list', 5, opList),
	op('unread_count', 2, opUnreadCount),
	op('claim and report', 2.5, opClaimReport, false),
	op('delete', 2.5, opDelete),
	op('expire', 0.6, opExpire),
	op('find_orphans', 0.6, opOrphans),
];
const TXN_OPS = ALL_OPS.filter((o) => o.inTxn);
const REGISTER_FIRST = [op('register', 1, opRegister)];

function pickOp(ops) {
	let total = 0;
	for (const o of ops)
		total += o.weight;
	let x = rnd() * total;
	for (const o of ops) {
		x -= o.weight;
		if (x < 0)
			return o;
	}
	return ops[ops.length - 1];
}

// ---------------------------------------------------------------------------
// Setup, listener, final checks, report
// ---------------------------------------------------------------------------

async function setup() {
	const r = await control.query(
		"SELECT (extract(epoch FROM current_setting('orion.refresh_reuse_interval')::interval) * 1000)::int AS ms, current_setting('orion.access_token_ttl') AS ttl");
	reuseIntervalMs = r.rows[0].ms;
	// the JWT workers' tokens need a signing key from the start
	await control.query("SELECT orion.rotate_signing_key('EdDSA')");
	const rollout = {
		'load-rollout': (pct) => JSON.stringify({ percentage: pct }),
		'load-admins': () => JSON.stringify({ percentage: 100, targeting: [{ attribute: 'role', operator: 'equals', value: 'admin' }] }),
		'load-null': () => null,
		'load-half': () => JSON.stringify({ percentage: 50 }),
		'load-country': () => JSON.stringify({ strategies: [{ name: 'flexibleRollout', parameters: { rollout: '100', stickiness: 'default', groupId: 'load-country' }, constraints: [{ contextName: 'country', operator: 'IN', values: ['NO'] }] }] }),
	};
	for (const [key, mutable, pct] of [['load-rollout', true, 50], ['load-admins', true, 100], ['load-null', true, 100],
		['load-half', false, 50], ['load-country', false, 100]]) {
		const f = { key, mutable, enabled: true, pct, updating: 0, epoch: 0, version: 0, rollout: rollout[key] };
		await control.query('INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES ($1, $1, true, $2)', [key, f.rollout(pct)]);
		S.flags.push(f);
	}
	S.flags.push({ key: 'load-missing', mutable: false, enabled: false, pct: 0, updating: 0, epoch: 0 });
	for (const [key, variants, weights, mutable] of [['load-ab-two', ['control', 'treatment'], [1, 1], false],
		['load-ab-three', ['a', 'b', 'c'], [1, 1, 2], false], ['load-ab-mutable', ['red', 'blue'], [1, 1], true]]) {
		const json = variants.map((k, i) => ({ key: k, name: k, weight: weights[i] }));
		const t = await control.query('INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES ($1, $1, $2, true) RETURNING id', [key, JSON.stringify(json)]);
		S.tests.push({ key, id: t.rows[0].id, variants, mutable, active: true, version: 0, updating: 0, epoch: 0 });
	}
	return r.rows[0].ttl;
}

async function startListener() {
	const l = new pg.Client({ user: APP_ROLE, database: DATABASE, application_name: 'orion-load-listener' });
	l.on('error', (e) => violation('the listener lost its connection', e.message));
	await l.connect();
	let markerSeen = null;
	l.on('notification', ({ channel, payload }) => {
		bump(S.listenerEvents, channel);
		if (channel === 'orion_notifications') {
			try {
				S.announcedNoteIds.add(JSON.parse(payload).id);
			} catch (e) {
				violation('an orion_notifications payload is not JSON', payload);
			}
		} else if (channel === 'orion_cache_invalidate') {
			S.announcedKeys.add(payload);
		} else if (channel === 'orion_load_marker' && markerSeen) {
			markerSeen();
		}
	});
	await l.query('LISTEN orion_notifications');
	await l.query('LISTEN orion_cache_invalidate');
	await l.query('LISTEN orion_load_marker');
	// Everything committed before a marker is queued before it.
	l.drain = async () => {
		const seen = new Promise((resolve) => { markerSeen = resolve; });
		await control.query("NOTIFY orion_load_marker, 'end'");
		let timer;
		const late = new Promise((resolve) => { timer = setTimeout(() => resolve(false), 60000); });
		const ok = await Promise.race([seen.then(() => true), late]);
		clearTimeout(timer);
		if (!ok)
			violation('the listener did not receive the end marker within 60 s', '');
	};
	return l;
}

const invariants = [];
function invariant(name, bad, detail) {
	invariants.push({ name, bad: Number(bad), detail });
}

async function finalChecks() {
	const one = async (sql, params) => Number((await control.query(sql, params)).rows[0].n);
	const liveIds = S.users.filter((u) => u.state === 'live').map((u) => u.id);
	const deleted = S.users.filter((u) => u.state === 'deleted');
	const deletedIds = deleted.map((u) => u.id);

	const opened = S.sessions.filter((s) => s.request && s.user.state !== 'deleted');
	invariant('every session a login opened carries its own worker\'s IP address and user agent', await one(
		`SELECT count(*) AS n FROM orion_auth.sessions s
		   JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS m(id, ip, agent) ON m.id = s.id
		  WHERE s.ip_address IS DISTINCT FROM m.ip OR s.user_agent IS DISTINCT FROM m.agent`,
		[opened.map((s) => s.id), opened.map((s) => s.request.ip), opened.map((s) => s.request.agent)]),
		`${opened.length} sessions`);

	invariant('one assignment per (user, test)', await one(
		`SELECT count(*) AS n FROM (SELECT user_id, test_id FROM orion_ab_testing.ab_test_assignments
		  GROUP BY user_id, test_id HAVING count(*) > 1) d`));

	const orphans = (await control.query('SELECT table_name, orphans FROM orion.find_orphans()')).rows;
	invariant('orion.find_orphans() is empty', orphans.reduce((a, r) => a + Number(r.orphans), 0),
		orphans.filter((r) => Number(r.orphans)).map((r) => `${r.table_name}: ${r.orphans}`).join(', '));

	for (const [table, col] of [['orion_auth.sessions', 'user_id'], ['orion_auth.refresh_tokens', 'user_id'],
		['orion_ab_testing.ab_test_assignments', 'user_id'], ['orion_ab_testing.ab_test_conversions', 'user_id']]) {
		invariant(`no row of ${table} names a user that does not exist`, await one(
			`SELECT count(*) AS n FROM ${table} x WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = x.${col})`));
	}
	invariant('no notification names a user that does not exist (anonymised ones excepted)', await one(
		`SELECT count(*) AS n FROM orion_notifications.notifications x
		  WHERE x.user_id <> $1 AND NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = x.user_id)`, [NIL_UUID]));
	invariant('no used email verification token of an address left unverified', await one(
		`SELECT count(*) AS n FROM orion_auth.one_time_tokens t JOIN orion_auth.users u ON u.id = t.user_id
		  WHERE t.purpose = 'email_verification' AND t.used_at IS NOT NULL
		    AND lower(u.email) = lower(t.email) AND NOT u.email_verified`));
	const verifiedIds = S.users.filter((u) => u.state === 'live' && u.verified).map((u) => u.id);
	invariant('every address the client saw verified is verified', await one(
		'SELECT count(*) AS n FROM orion_auth.users WHERE id = ANY ($1::uuid[]) AND NOT email_verified', [verifiedIds]));
	invariant('one live email verification token per user at most', await one(
		`SELECT count(*) AS n FROM (SELECT user_id FROM orion_auth.one_time_tokens
		  WHERE used_at IS NULL AND revoked_at IS NULL GROUP BY user_id, purpose HAVING count(*) > 1) d`));
	invariant('no live session older than its user\'s password reset by token', await one(
		`SELECT count(*) AS n FROM orion_auth.one_time_tokens t JOIN orion_auth.sessions s ON s.user_id = t.user_id
		  WHERE t.purpose = 'password_reset' AND t.used_at IS NOT NULL AND s.revoked_at IS NULL AND s.created_at < t.used_at`));
	invariant('every used sign-in link started a session or was refused as locked, audited', await one(
		`SELECT count(*) AS n FROM orion_auth.one_time_tokens t
		  WHERE t.purpose = 'sign_in_link' AND t.used_at IS NOT NULL
		    AND NOT EXISTS (SELECT FROM orion_auth.audit_logs a WHERE a.user_id = t.user_id
		                       AND a.action IN ('auth.login', 'auth.login_failed') AND a.new_data->>'method' = 'sign_in_link')`));
	invariant('no TOTP factor or recovery code left (each was disabled in its own transaction)', await one(
		`SELECT (SELECT count(*) FROM orion_auth.totp_factors) + (SELECT count(*) FROM orion_auth.recovery_codes) AS n`));
	invariant('every used MFA challenge started a session by a second factor', await one(
		`SELECT count(*) AS n FROM orion_auth.one_time_tokens t
		  WHERE t.purpose = 'mfa_challenge' AND t.used_at IS NOT NULL
		    AND NOT EXISTS (SELECT FROM orion_auth.audit_logs a WHERE a.user_id = t.user_id
		                       AND a.action = 'auth.login' AND a.new_data->>'method' IN ('totp', 'recovery_code'))`));
	invariant('anonymised notifications keep no metadata', await one(
		'SELECT count(*) AS n FROM orion_notifications.notifications WHERE user_id = $1 AND metadata IS NOT NULL', [NIL_UUID]));
	invariant('deleted users have no session, refresh token, notification, assignment or conversion left', await one(
		`SELECT (SELECT count(*) FROM orion_auth.sessions WHERE user_id = ANY($1::uuid[]))
		      + (SELECT count(*) FROM orion_auth.refresh_tokens WHERE user_id = ANY($1::uuid[]))
		      + (SELECT count(*) FROM orion_notifications.notifications WHERE user_id = ANY($1::uuid[]))
		      + (SELECT count(*) FROM orion_ab_testing.ab_test_assignments WHERE user_id = ANY($1::uuid[]))
		      + (SELECT count(*) FROM orion_ab_testing.ab_test_conversions WHERE user_id = ANY($1::uuid[])) AS n`, [deletedIds]));
	invariant('deleted users are gone', await one(
		'SELECT count(*) AS n FROM orion_auth.users WHERE id = ANY($1::uuid[])', [deletedIds]));
	invariant('every user registered and not deleted exists', await one(
		`SELECT count(*) AS n FROM unnest($1::uuid[]) AS d(user_id)
		  WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = d.user_id)`, [liveIds]));
	invariant('one user.deleted audit entry per deleted user', await one(
		`SELECT count(*) AS n FROM unnest($1::uuid[]) AS d(user_id)
		  WHERE (SELECT count(*) FROM orion_auth.audit_logs a
		          WHERE a.action = 'user.deleted' AND a.resource_id = d.user_id::text) <> 1`, [deletedIds]));

	// tokens: validate every access token ever handed out
	const tokens = S.accessTokens.map((t) => t.token);
	const owner = new Map(S.accessTokens.map((t) => [t.token, t.session]));
	const valid = (await control.query(
		'SELECT t, v.user_id, v.session_id FROM unnest($1::text[]) t, LATERAL orion.validate_session(t) v', [tokens])).rows;
	let ofDeleted = 0;
	let ofOther = 0;
	let ofRevoked = 0;
	for (const row of valid) {
		const s = owner.get(row.t);
		if (s.user.state === 'deleted')
			ofDeleted++;
		else if (s.revoked)
			ofRevoked++;
		if (row.user_id !== s.user.id || row.session_id !== s.id)
			ofOther++;
	}
	invariant('no access token of a deleted user validates', ofDeleted, `${deletedIds.length} deleted users`);
	invariant('no access token of a revoked session validates', ofRevoked);
	invariant('every token that validates names its own user and session', ofOther);
	invariant('no live session of a user that does not exist', await one(
		`SELECT count(*) AS n FROM orion_auth.sessions s
		  WHERE s.revoked_at IS NULL AND NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = s.user_id)`));

	invariant('every rotated refresh token has a successor in its session, or its session is revoked', await one(
		`SELECT count(*) AS n FROM orion_auth.refresh_tokens r JOIN orion_auth.sessions s ON s.id = r.session_id
		  WHERE r.revoked_reason = 'rotated' AND s.revoked_at IS NULL
		    AND NOT EXISTS (SELECT FROM orion_auth.refresh_tokens n
		                     WHERE n.session_id = r.session_id AND n.id <> r.id AND n.created_at >= r.revoked_at)`));
	invariant('no refresh token left unrevoked in a revoked session', await one(
		`SELECT count(*) AS n FROM orion_auth.refresh_tokens r JOIN orion_auth.sessions s ON s.id = r.session_id
		  WHERE s.revoked_at IS NOT NULL AND r.revoked IS NOT TRUE`));
	invariant('every refresh token belongs to a session of its own user', await one(
		`SELECT count(*) AS n FROM orion_auth.refresh_tokens r LEFT JOIN orion_auth.sessions s ON s.id = r.session_id
		  WHERE s.id IS NULL OR s.user_id <> r.user_id`));

	// assignments as the workers were told
	const stored = (await control.query(
		`SELECT t.key, a.user_id, a.variant FROM orion_ab_testing.ab_test_assignments a
		   JOIN orion_ab_testing.ab_tests t ON t.id = a.test_id`)).rows;
	const storedMap = new Map(stored.map((r) => [`${r.key}|${r.user_id}`, r.variant]));
	let differ = 0;
	let missing = 0;
	for (const [key, variant] of S.assignments) {
		const userId = key.slice(key.indexOf('|') + 1);
		if (S.usersById.get(userId).state !== 'live')
			continue;
		if (!storedMap.has(key))
			missing++;
		else if (storedMap.get(key) !== variant)
			differ++;
	}
	invariant('stored assignments are the variants the workers were told', differ);
	invariant('every committed assignment of a live user is stored', missing);
	invariant('every conversion is under its user\'s assigned variant', await one(
		`SELECT count(*) AS n FROM orion_ab_testing.ab_test_conversions c
		  WHERE NOT EXISTS (SELECT FROM orion_ab_testing.ab_test_assignments a
		                     WHERE a.test_id = c.test_id AND a.user_id = c.user_id AND a.variant = c.variant)`));

	// events
	const committedNotes = [...S.notes.keys()];
	invariant('every committed notification was announced on orion_notifications',
		committedNotes.filter((id) => !S.announcedNoteIds.has(id)).length, `${committedNotes.length} known`);
	invariant('no notification of a rolled-back transaction was announced',
		S.rolledBackNoteIds.filter((id) => S.announcedNoteIds.has(id)).length, `${S.rolledBackNoteIds.length} rolled back`);
	invariant('every deleted user was announced on orion_cache_invalidate',
		deletedIds.filter((id) => !S.announcedKeys.has(`user:profile:${id}`)).length);

	const counts = (await control.query(`
		SELECT 'orion_auth.users' AS t, count(*) AS n FROM orion_auth.users
		UNION ALL SELECT 'orion_auth.sessions', count(*) FROM orion_auth.sessions
		UNION ALL SELECT 'orion_auth.sessions (revoked)', count(*) FROM orion_auth.sessions WHERE revoked_at IS NOT NULL
		UNION ALL SELECT 'orion_auth.refresh_tokens', count(*) FROM orion_auth.refresh_tokens
		UNION ALL SELECT 'orion_auth.refresh_tokens (rotated)', count(*) FROM orion_auth.refresh_tokens WHERE revoked_reason = 'rotated'
		UNION ALL SELECT 'orion_auth.audit_logs', count(*) FROM orion_auth.audit_logs
		UNION ALL SELECT 'orion_notifications.notifications', count(*) FROM orion_notifications.notifications
		UNION ALL SELECT 'orion_notifications.notifications (anonymised)', count(*) FROM orion_notifications.notifications WHERE user_id = '${NIL_UUID}'
		UNION ALL SELECT 'orion_ab_testing.ab_test_assignments', count(*) FROM orion_ab_testing.ab_test_assignments
		UNION ALL SELECT 'orion_ab_testing.ab_test_conversions', count(*) FROM orion_ab_testing.ab_test_conversions`)).rows;
	return { counts, tokens: tokens.length, valid: valid.length, deleted: deletedIds.length };
}

function table(title, map, sortByCount = true) {
	console.log(`\n${title}`);
	const rows = [...map.entries()];
	if (sortByCount)
		rows.sort((a, b) => b[1] - a[1]);
	else
		rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
	if (!rows.length)
		console.log('  (none)');
	for (const [k, v] of rows)
		console.log(`  ${String(v).padStart(9)}  ${k}`);
}

async function main() {
	control = new pg.Pool({ max: 3, application_name: 'orion-load-control' });
	const ttl = await setup();
	const listener = await startListener();
	console.log(`orion client load: ${CONNECTIONS} connections, ${SECONDS} s, seed ${SEED}, npm pg ${require(`${process.env.ORION_PG_MODULE || 'pg'}/package.json`).version}, ` +
		`refresh_reuse_interval ${reuseIntervalMs} ms, access_token_ttl ${ttl}`);

	const watchdog = setTimeout(() => {
		console.error(`orion client load: still running ${SECONDS + 180} s after its start: a hang (a lock wait that never ends?)`);
		process.exit(3);
	}, (SECONDS + 180) * 1000);

	const started = Date.now();
	deadline = started + SECONDS * 1000;
	const workers = [];
	for (let i = 0; i < CONNECTIONS; i++)
		workers.push(new Worker(i));
	await Promise.all(workers.map((w) => w.run()));
	const elapsed = (Date.now() - started) / 1000;

	await listener.drain();
	await listener.end();
	const fin = await finalChecks();
	clearTimeout(watchdog);
	await control.end();

	const totalCalls = [...stats.calls.values()].reduce((a, b) => a + b, 0);
	table('operations (successful calls)', stats.calls);
	console.log(`  ${String(totalCalls).padStart(9)}  in all, ${(totalCalls / elapsed).toFixed(0)} per second over ${elapsed.toFixed(1)} s`);
	table('units of work', stats.units);
	table('answers of note', stats.outcomes, false);
	table('faults injected', stats.faults);
	if (POOLER) {
		// the point of the run: server connections carried several workers' transactions
		const shared = [...S.backendWorkers.values()].map((x) => x.size);
		console.log(`\nthrough the pooler: transactions ran on ${shared.length} server backends, each carrying ` +
			`those of up to ${Math.max(0, ...shared)} workers (${shared.filter((n) => n > 1).length} backends shared)`);
		if (Math.max(0, ...shared) < 2)
			violation('no server connection carried transactions of two workers: the pooler did not pool', shared);
	}
	table('expected errors, by kind', stats.expected);
	for (const s of stats.deadlockSamples)
		console.log(`    ${s.call} (${s.unit}): ${s.message}${s.detail ? ` DETAIL: ${s.detail.replace(/\n/g, ' | ')}` : ''}${s.where ? ` WHERE: ${s.where.split('\n')[0]}` : ''}`);
	table('UNEXPECTED errors, by SQLSTATE and call', stats.unexpected);
	for (const s of stats.unexpectedSamples)
		console.log(`    worker ${s.worker}, ${s.call}: ${s.code || '-'} ${s.message}${s.detail ? ` DETAIL: ${s.detail}` : ''}${s.where ? ` WHERE: ${s.where.split('\n')[0]}` : ''}`);
	table('events heard by a LISTENing client', S.listenerEvents);
	table('violations seen during the run', stats.violations);
	for (const v of stats.violationSamples)
		console.log(`    ${v.what}: ${JSON.stringify(v.detail)}`);
	console.log('\nrows at the end');
	for (const r of fin.counts)
		console.log(`  ${String(r.n).padStart(9)}  ${r.t}`);
	console.log(`  ${String(S.users.length).padStart(9)}  users registered, ${fin.deleted} deleted; ${fin.tokens} access tokens handed out, ${fin.valid} still validate`);
	console.log('\ninvariants at the end');
	for (const i of invariants)
		console.log(`  ${i.bad === 0 ? 'ok      ' : `VIOLATED (${i.bad})`}  ${i.name}${i.detail ? ` [${i.detail}]` : ''}`);

	const unexpected = [...stats.unexpected.values()].reduce((a, b) => a + b, 0);
	const violations = [...stats.violations.values()].reduce((a, b) => a + b, 0);
	const broken = invariants.filter((i) => i.bad !== 0).length;
	const verdict = totalCalls === 0 ? 'nothing ran' : `${unexpected} unexpected errors, ${violations} violations during the run, ${broken} invariants violated`;
	console.log(`\norion client load: ${verdict}`);
	process.exitCode = totalCalls > 0 && unexpected === 0 && violations === 0 && broken === 0 ? 0 : 1;
}

process.on('unhandledRejection', (e) => {
	console.error('orion client load: harness error:', e);
	process.exit(2);
});

main().catch((e) => {
	console.error('orion client load: harness error:', e);
	process.exit(2);
});
