import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, roleAllows, ROLES, routes, SESSION_COOKIE, type Camera, type Role, type RouteName } from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import { UserStore } from '../../core/auth/store';
import { discoverAssetsDir, loadConfig } from '../../core/config';
import { createLogger } from '../../core/logger';
import { ensureUser, TEST_ADMIN } from '../support/auth';
import { onTestDatabase } from '../support/core';
import { num, one, rows, tableNames } from '../support/rows';
import { REPO_ROOT } from '../support/serve';

/**
 * Property-based fuzzing from the contract: every route of the route table, called as every
 * role (and signed out, and with broken credentials), with generated bad path parameters,
 * query strings, bodies, headers and oversize payloads, over real HTTP to a real core on a
 * real database (the run's: SQLite or Postgres). Three properties hold for every request:
 *  - no 5xx (but for 503 `unavailable`, the deliberate answer of a camera with no frame yet);
 *  - no stack trace in any reply, and no server file path in a refusal (a signed-in user's
 *    health answer names the assets directory on purpose, so only refusals are checked for paths);
 *  - a refused request (4xx) changes nothing in the database: a digest of every table is the
 *    same before and after (sessions' last-seen time excepted, and the audit tables, where
 *    a refusal such as a failed sign-in is meant to be recorded).
 * The number of requests is printed and recorded in docs/security.md.
 */
const ASSETS = process.env.SENTINEL_ASSETS || discoverAssetsDir() || undefined;
/** Runs per route; SENTINEL_FUZZ_RUNS raises it for a longer hunt. */
const RUNS = Number(process.env.SENTINEL_FUZZ_RUNS ?? 24);
const PASSWORD = 'fuzz-test-password-long';

type Who = Role | 'signed-out';
const WHO: Who[] = [...ROLES, 'signed-out'];

/** Tables written by the audit trail on purpose (refusals are audited) are compared apart. */
const AUDIT_TABLES = new Set(['audit', 'audit_checkpoints']);

describe('fuzzing every route from the contract (fast-check)', () => {
  let core: CoreHandle;
  let store: UserStore;
  const tokens = new Map<Role, string>();
  const userIds = new Map<Role, string>();
  /** Real ids per path-parameter name, so some requests reach deep into handlers. */
  const known: Record<string, string[]> = { id: [], name: ['stations', 'lines'], fontstack: ['Noto Sans Regular'], range: ['0-255'] };
  let dataDir: string;
  let requests = 0;
  const statuses = new Map<number, number>();

  const mintTokens = async (): Promise<void> => {
    for (const role of ROLES) tokens.set(role, (await store.createSession(userIds.get(role)!, '127.0.0.1')).token);
  };

  /**
   * SHA-256 of every table's rows (sessions without their last-seen time), taken as a sorted
   * set: Postgres returns an unordered scan in storage order, which an update of a row (a
   * session's last-seen time) changes without changing any content.
   */
  const digest = async (): Promise<{ main: string; tables: Record<string, string> }> => {
    const tables: Record<string, string> = {};
    for (const name of await tableNames(core.sql)) {
      if (AUDIT_TABLES.has(name)) continue;
      const cols = sql.raw(name === 'sessions' ? 'token_hash, user_id, created_at, expires_at, ip' : '*');
      const all = await rows(core.sql, sql<Record<string, unknown>>`SELECT ${cols} FROM ${sql.table(name)}`);
      const h = createHash('sha256');
      for (const row of all.map((r) => JSON.stringify(r)).sort()) h.update(row);
      tables[name] = h.digest('hex');
    }
    return { main: createHash('sha256').update(JSON.stringify(tables)).digest('hex'), tables };
  };

  /**
   * Waits until nothing writes in the background any more (an alert's automatic evidence clip,
   * its lifecycle events), so a change seen across a refused request is the request's own.
   */
  const settle = async (): Promise<void> => {
    let last = await digest();
    let changed: string[] = [];
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const pending = await num(core.sql, sql`SELECT COUNT(*) AS n FROM alert_clips WHERE state = 'pending'`);
      const now = await digest();
      changed = Object.keys(now.tables).filter((t) => now.tables[t] !== last.tables[t]);
      if (changed.length === 0 && pending === 0) return;
      last = now;
    }
    throw new Error(`the database did not settle within 15 s: ${changed.join(', ') || 'a clip'} still being written in the background`);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sentinel-fuzz-'));
    const cfg = await onTestDatabase(loadConfig({ port: 0, dataDir, ...(ASSETS ? { assetsDir: ASSETS } : {}) }, {}));
    core = await startCore(
      {
        ...cfg,
        // The limiter and the sign-in backoff would answer 429 to most of the run (they have their own tests).
        auth: {
          ...cfg.auth,
          freeFailures: 100,
          mfaRequiredRoles: [],
          rateLimit: { signInPerMinute: 100_000, writesPerMinute: 100_000 },
        },
        // An alert's automatic clip would be cut in the background for half a minute (its post-roll).
        recording: {
          ...cfg.recording,
          postRollS: 0,
          preRollS: 0,
          segmentSeconds: 1,
          alertClip: { ...cfg.recording.alertClip, enabled: false },
        },
        analytics: { ...cfg.analytics, enabled: false },
        // The setup's unacknowledged alert would escalate a minute in, writing in the background.
        push: { ...cfg.push, escalateAfterS: 3600 },
      },
      { log: createLogger('silent') },
    );
    store = new UserStore(core.sql, { ttlMs: 3_600_000, idleMs: 3_600_000 });
    await ensureUser(core.sql, { ...TEST_ADMIN, role: 'admin' });
    userIds.set('admin', (await store.byUsername(TEST_ADMIN.username))!.id);
    for (const role of ROLES.filter((r) => r !== 'admin')) {
      await ensureUser(core.sql, {
        username: `fuzz-${role}`,
        password: PASSWORD,
        role,
        ...(role === 'liaison' ? { scope: { districts: ['1'], lines: ['Red'], routes: [], escalation: false } } : {}),
      });
      userIds.set(role, (await store.byUsername(`fuzz-${role}`))!.id);
    }
    await mintTokens();
    known.id!.push(...userIds.values());

    // A camera, an alert and its incident: real ids for the parameters.
    const admin = (path: string, body: unknown) =>
      fetch(new URL(path, core.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.get('admin')}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const cam = await admin('/api/v1/cameras', {
      name: 'fuzz camera',
      url: 'rtsp://user:secret@127.0.0.1:9/none',
      mount: { kind: 'station', stationId: '41660' },
      analyticsEnabled: false,
      recordingEnabled: false,
    });
    if (cam.status === 201) known.id!.push(((await cam.json()) as Camera).id);
    const alert = await admin('/api/v1/test-alert', { district: '1', lines: ['Red'] });
    if (alert.status === 201) {
      const id = ((await alert.json()) as { id: string }).id;
      known.id!.push(id);
      const incidentOf = () => one(core.sql, sql<{ incident_id: string }>`SELECT incident_id FROM incident_alerts WHERE alert_id = ${id}`);
      for (let i = 0; i < 100 && !(await incidentOf()); i++) await new Promise((r) => setTimeout(r, 50));
      const inc = await incidentOf();
      if (inc) known.id!.push(inc.incident_id);
    }
    await settle();
    // "Changes nothing" means something only if the digest sees the rows the setup wrote.
    const seen = await digest();
    expect(Object.keys(seen.tables)).toEqual(
      expect.arrayContaining(['alerts', 'cameras', 'incidents', 'lifecycle_events', 'sessions', 'users']),
    );
  }, 60_000);

  afterAll(async () => {
    await core?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    const byStatus = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
    console.log(`fuzz: ${requests} requests over ${Object.keys(routes).length} routes (${byStatus.join(', ')})`);
  });

  // ---- generators -----------------------------------------------------------------------

  const nasty = fc.constantFrom(
    '',
    ' ',
    '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '..%2F..%2F..%2Fsentinel.db',
    '%00',
    "' OR 1=1 --",
    'null',
    'undefined',
    '__proto__',
    'constructor',
    '-1',
    '0',
    '1e309',
    'NaN',
    '9007199254740993',
    '%F0%9F%92%A5',
    '%E0%A4%A',
    '<script>alert(1)</script>',
  );
  const segment = (param: string) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...(known[param]?.length ? known[param]! : ['x'])) },
      { weight: 2, arbitrary: nasty },
      { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent) },
      { weight: 1, arbitrary: fc.integer({ min: 200, max: 5000 }).map((n) => 'a'.repeat(n)) },
    );
  const QUERY_KEYS = [
    'limit',
    'beforeSeq',
    'from',
    'to',
    'kind',
    'cameraId',
    'lat',
    'lon',
    'actor',
    'action',
    'state',
    'month',
    'since',
    'q',
  ];
  const queryValue = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.integer().map(String),
    fc.double().map(String),
    fc.constantFrom('2026-13-45T99:99:99Z', '1970-01-01T00:00:00Z', 'true', '[]', '{}', 'a'.repeat(3000)),
    nasty,
  );
  const query = fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 12 })), queryValue), { maxLength: 5 })
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));

  /** The keys of a route's body schema (zod object shape), to build wrong-typed near misses. */
  const bodyKeys = (name: RouteName): string[] => {
    const body = (routes[name] as { body?: { shape?: Record<string, unknown> } }).body;
    return body?.shape ? Object.keys(body.shape) : [];
  };
  const json = fc.jsonValue({ maxDepth: 3 });
  type Body = { text: string; contentType: string | null };
  const body = (name: RouteName): fc.Arbitrary<Body> => {
    const keys = bodyKeys(name);
    const nearMiss = keys.length
      ? fc.dictionary(fc.constantFrom(...keys, '__proto__', 'extra'), json, { maxKeys: keys.length + 1 })
      : fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 3 });
    return fc.oneof(
      { weight: 4, arbitrary: nearMiss.map((v) => ({ text: JSON.stringify(v), contentType: 'application/json' })) },
      { weight: 2, arbitrary: json.map((v) => ({ text: JSON.stringify(v) ?? 'null', contentType: 'application/json' })) },
      { weight: 1, arbitrary: fc.string({ maxLength: 50 }).map((t) => ({ text: t, contentType: 'application/json' })) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          // Deep nesting, a huge string, a body over the 1 MiB limit, a prototype key, wrong content types.
          { text: `${'['.repeat(20_000)}${']'.repeat(20_000)}`, contentType: 'application/json' },
          { text: JSON.stringify({ [keys[0] ?? 'name']: 'x'.repeat(900_000) }), contentType: 'application/json' },
          { text: JSON.stringify({ pad: 'x'.repeat(1_200_000) }), contentType: 'application/json' },
          { text: '{"__proto__":{"role":"admin"},"constructor":{"prototype":{"x":1}}}', contentType: 'application/json' },
          { text: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' },
          { text: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--', contentType: 'multipart/form-data; boundary=x' },
          { text: '<xml/>', contentType: 'text/xml' },
          { text: '{"a":1}', contentType: null },
          { text: '', contentType: 'application/json' },
        ),
      },
    );
  };
  type Cred = 'valid' | 'none' | 'garbage-bearer' | 'garbage-cookie' | 'cookie-no-csrf' | 'huge-header' | 'basic';
  const cred = fc.oneof(
    { weight: 12, arbitrary: fc.constant<Cred>('valid') },
    { weight: 1, arbitrary: fc.constantFrom<Cred>('none', 'garbage-bearer', 'garbage-cookie', 'cookie-no-csrf', 'huge-header', 'basic') },
  );

  const STACK = /\n\s+at\s|\bat\s[\w.<>$]+\s\(|node:internal|\.(?:ts|js|mjs|cjs):\d+:\d+/;
  const PATHS = [REPO_ROOT, tmpdir(), '/node_modules/', ...(ASSETS ? [ASSETS] : [])];

  // ---- the property, per route -----------------------------------------------------------

  for (const name of Object.keys(routes) as RouteName[]) {
    const route = routes[name];
    const params = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const hasBody = route.method !== 'GET';
    it(`${name}: ${route.method} ${route.path}`, async () => {
      // Mostly roles the route admits (so requests reach its validation and handler), some that it refuses.
      const admitted = route.roles === 'public' ? WHO : WHO.filter((w) => w !== 'signed-out' && roleAllows(route.roles, w));
      const arb = fc.record({
        who: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...admitted) }, { weight: 1, arbitrary: fc.constantFrom(...WHO) }),
        cred,
        params: fc.tuple(...params.map(segment), fc.constant('')),
        query: fc.option(query, { nil: undefined }),
        body: hasBody ? fc.option(body(name), { nil: undefined, freq: 6 }) : fc.constant(undefined),
      });
      await fc.assert(
        fc.asyncProperty(arb, async (req) => {
          let path: string = route.path;
          params.forEach((p, i) => (path = path.replace(`:${p}`, req.params[i] as string)));
          if (req.query) path += `?${req.query}`;
          const token = req.who === 'signed-out' ? undefined : tokens.get(req.who);
          const headers: Record<string, string> = {};
          if (token && req.cred === 'valid') headers.authorization = `Bearer ${token}`;
          if (req.cred === 'garbage-bearer') headers.authorization = `Bearer ${token ? `${token}x` : 'not-a-token'}`;
          if (req.cred === 'basic') headers.authorization = 'Basic dGVzdDp0ZXN0';
          if (req.cred === 'garbage-cookie') headers.cookie = `${SESSION_COOKIE}=%%%; =;;${SESSION_COOKIE}`;
          if (req.cred === 'cookie-no-csrf' && token) headers.cookie = `${SESSION_COOKIE}=${token}`;
          if (req.cred === 'huge-header') headers['x-fuzz'] = 'h'.repeat(20_000);
          if (req.cred !== 'cookie-no-csrf' && token) headers[CSRF_HEADER] = '1';
          if (req.body?.contentType) headers['content-type'] = req.body.contentType;

          const before = await digest();
          let res: Response;
          try {
            res = await fetch(new URL(path, core.url), {
              method: route.method,
              headers,
              ...(req.body !== undefined ? { body: req.body.text } : {}),
              redirect: 'manual',
            });
          } catch (err) {
            throw new Error(`${route.method} ${path}: the request failed outright (${(err as Error).message})`);
          }
          const text = await res.text();
          requests++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const what = `${route.method} ${path.slice(0, 200)} as ${req.who}/${req.cred} -> ${res.status}: ${text.slice(0, 300)}`;
          // 503 `unavailable` is a deliberate answer (a camera with no frame yet, a provider not
          // configured), in the one error shape; any other 5xx is a fault.
          const deliberate = res.status === 503 && /^\{"error":\{"code":"unavailable"/.test(text);
          if (!deliberate) expect(res.status, what).toBeLessThan(500);
          expect(STACK.test(text), `stack trace in reply: ${what}`).toBe(false);
          if (res.status >= 400) {
            for (const p of PATHS) expect(text.includes(p), `file path ${p} in refusal: ${what}`).toBe(false);
            const after = await digest();
            if (after.main !== before.main) {
              const changed = Object.keys(after.tables).filter((t) => after.tables[t] !== before.tables[t]);
              throw new Error(`refused request changed table(s) ${changed.join(', ')}: ${what}`);
            }
          } else if (route.method !== 'GET') {
            // An accepted write (a near miss that was valid, a sign-out): fresh sessions for the
            // next runs, and whatever it started in the background done before the next request.
            await mintTokens();
            await settle();
          }
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
    }, 120_000);
  }

  it('tried enough requests to mean something', () => {
    expect(requests).toBeGreaterThanOrEqual(Object.keys(routes).length * RUNS);
  });
});
