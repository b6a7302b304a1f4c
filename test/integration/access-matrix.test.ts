import { onTestDatabase } from '../support/core';
import { one } from '../support/rows';
import { sql } from 'kysely';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraList, PUBLIC, ROLES, roleAllows, routes, type Camera, type LiaisonScope, type Role, type RouteName } from '../../contract';
import { ROUTE_RULES, routesWithoutRule } from '../../core/access';
import { startCore, type CoreHandle } from '../../core/app';
import { UserStore } from '../../core/auth/store';
import { discoverAssetsDir, loadConfig } from '../../core/config';
import { createLogger } from '../../core/logger';
import { connected, ensureUser, signedIn, TEST_ADMIN, type SignedIn } from '../support/auth';
import { Session } from '../../contract';

/**
 * The role x scope matrix, generated from the contract's route table: every route, called by
 * every role (and by liaisons scoped to a district and to a line), on a resource inside and
 * outside the liaison's scope. A route with no visibility rule (core/access/route-rules.ts)
 * fails here. Real core, on the run's database, real geodata (a station's district comes from it).
 */
const ASSETS = process.env.SENTINEL_ASSETS || discoverAssetsDir() || undefined;
// Skips when the assets pack is absent: a station's district comes from its Chicago geodata.
const hasGeo = ASSETS !== undefined && existsSync(join(ASSETS, 'chicago'));

interface Actor {
  name: string;
  role: Role;
  scope?: Partial<LiaisonScope>;
  /** Which of the two places this actor may see (liaisons only). */
  sees: { A: boolean; B: boolean };
}
// Camera A: Lake (Red line), police district 1. Camera B: O'Hare (Blue line), district 16.
const ACTORS: Actor[] = [
  ...(['operator', 'technician', 'reviewer', 'admin'] as const).map((role) => ({ name: role, role, sees: { A: true, B: true } })),
  { name: 'liaison-district-1', role: 'liaison', scope: { districts: ['1'] }, sees: { A: true, B: false } },
  { name: 'liaison-blue-line', role: 'liaison', scope: { lines: ['Blue'] }, sees: { A: false, B: true } },
];

const PASSWORD = 'matrix-test-password-long';

describe.skipIf(!hasGeo)('visibility: every route x every role and scope (generated from the route table)', () => {
  let core: CoreHandle;
  let admin: SignedIn;
  let store: UserStore;
  const userIds = new Map<string, string>();
  const fx = {
    A: {} as Record<'camera' | 'clip' | 'alert' | 'incident', string>,
    B: {} as Record<'camera' | 'clip' | 'alert' | 'incident', string>,
  };

  const tokenFor = async (actor: Actor): Promise<string> => (await store.createSession(userIds.get(actor.name)!, '127.0.0.1')).token;
  const call = (token: string, method: string, path: string, body?: unknown) =>
    fetch(new URL(path, core.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  const newCamera = async (place: 'A' | 'B'): Promise<string> => {
    const mount = place === 'A' ? { kind: 'station', stationId: '41660' } : { kind: 'station', stationId: '40890' };
    const res = await admin.api('/api/v1/cameras', {
      method: 'POST',
      body: JSON.stringify({
        name: `cam ${place} ${Math.random()}`,
        url: 'rtsp://127.0.0.1:9/none',
        mount,
        analyticsEnabled: false,
        recordingEnabled: false,
      }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as Camera).id;
  };

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-access-'));
    const cfg = loadConfig({ port: 0, dataDir, assetsDir: ASSETS! }, {});
    // No post-roll: a clip request on a camera that records nothing answers at once.
    core = await startCore(
      await onTestDatabase({ ...cfg, recording: { ...cfg.recording, postRollS: 0, preRollS: 0, segmentSeconds: 1 } }),
      { log: createLogger('silent') },
    );
    store = new UserStore(core.sql, { ttlMs: 3_600_000, idleMs: 3_600_000 });
    await ensureUser(core.sql, { ...TEST_ADMIN, role: 'admin' });
    for (const a of ACTORS) {
      const username = a.role === 'admin' ? TEST_ADMIN.username : `m-${a.name}`;
      if (a.role !== 'admin')
        await ensureUser(core.sql, {
          username,
          password: PASSWORD,
          role: a.role,
          ...(a.scope ? { scope: { districts: [], lines: [], routes: [], escalation: false, ...a.scope } } : {}),
        });
      userIds.set(a.name, (await store.byUsername(username))!.id);
    }
    const s = await store.createSession(userIds.get('admin')!, null);
    admin = signedIn(
      core.url,
      Session.parse({ user: await store.get(userIds.get('admin')!), token: s.token, expiresAt: s.expiresAt.toISOString() }),
    );
    for (const place of ['A', 'B'] as const) {
      const camera = await newCamera(place);
      const clip = `clip-${place}`;
      await sql`INSERT INTO clips (id, camera_id, path, snapshot_path, start_ms, end_ms, duration_s, bytes, sha256, snapshot_sha256, created_at)
        VALUES (${clip}, ${camera}, ${`/nonexistent/${clip}.mp4`}, NULL, 0, 1000, 1, 1, ${'0'.repeat(64)}, NULL, ${new Date().toISOString()})`.execute(
        core.sql.as(),
      );
      const scope = place === 'A' ? { district: '1', lines: ['Red'] } : { district: '16', lines: ['Blue'] };
      const res = await admin.api('/api/v1/test-alert', {
        method: 'POST',
        body: JSON.stringify({ cameraId: camera, cameraName: `cam ${place}`, ...scope }),
      });
      expect(res.status).toBe(201);
      const alert = ((await res.json()) as { id: string }).id;
      const incidentOf = () =>
        one(core.sql, sql<{ incident_id: string }>`SELECT incident_id FROM incident_alerts WHERE alert_id = ${alert}`);
      for (let i = 0; i < 100 && !(await incidentOf()); i++) await new Promise((r) => setTimeout(r, 50));
      const incident = (await incidentOf())!.incident_id;
      fx[place] = { camera, clip, alert, incident };
    }
  }, 60_000);
  afterAll(async () => {
    await core?.close();
  });

  it('every route in the table has a visibility rule', () => {
    expect(routesWithoutRule()).toEqual([]);
    // And no rule names a route that is gone.
    expect(Object.keys(ROUTE_RULES).filter((k) => !(k in routes))).toEqual([]);
  });

  const names = Object.keys(routes) as RouteName[];
  for (const name of names) {
    const route = routes[name];
    if (route.roles === PUBLIC) continue;
    it(`${name}: ${route.method} ${route.path}`, async () => {
      const rule = ROUTE_RULES[name];
      expect(rule, `no visibility rule for ${name}`).toBeDefined();
      const unsafe = route.method !== 'GET';
      for (const actor of ACTORS) {
        for (const place of ['A', 'B'] as const) {
          // Destructive routes get a fresh resource each time, so later cases still have theirs.
          let id = 'no-such-id';
          if (rule && 'param' in rule)
            id = route.method === 'DELETE' && rule.from === 'camera' ? await newCamera(place) : fx[place][rule.from];
          const path = route.path
            .replace(':id', encodeURIComponent(id))
            .replace(':zoneId', 'z')
            .replace(':name', 'stations')
            .replace(':fontstack', 'Noto')
            .replace(':range', '0-255.pbf');
          // An invalid body (unknown key) where one is read: the access checks come first.
          const res = await call(await tokenFor(actor), route.method, path, unsafe ? { __matrix: true } : undefined);
          const text = await res.text();
          const label = `${actor.name} ${route.method} ${path} -> ${res.status} ${text.slice(0, 200)}`;
          // 503 "unavailable" is an honest answer here (the cameras have no stream); never a crash.
          expect(res.status === 503 ? 'unavailable' : res.status < 500, label).toBe(
            res.status === 503 ? (JSON.parse(text) as { error: { code: string } }).error.code : true,
          );
          if (!roleAllows(route.roles, actor.role)) {
            expect(res.status, label).toBe(403);
            continue;
          }
          expect([401, 403], label).not.toContain(res.status);
          if (rule && 'param' in rule) {
            const hidden = res.status === 404 && text.includes(`with id ${id}`);
            expect(hidden, label).toBe(!actor.sees[place]);
          }
        }
      }
    });
  }

  it('list routes return only what the user may see', async () => {
    for (const actor of ACTORS) {
      const token = await tokenFor(actor);
      if (roleAllows(routes.cameras.roles, actor.role)) {
        const ids = CameraList.parse(await (await call(token, 'GET', routes.cameras.path)).json()).cameras.map((c) => c.id);
        expect(ids.includes(fx.A.camera), actor.name).toBe(actor.sees.A);
        expect(ids.includes(fx.B.camera), actor.name).toBe(actor.sees.B);
      }
      const alerts = ((await (await call(token, 'GET', routes.alerts.path)).json()) as { alerts: { alert: { id: string } }[] }).alerts.map(
        (a) => a.alert.id,
      );
      expect(alerts.includes(fx.A.alert), actor.name).toBe(actor.sees.A);
      expect(alerts.includes(fx.B.alert), actor.name).toBe(actor.sees.B);
      if (roleAllows(routes.incidents.roles, actor.role)) {
        const incs = ((await (await call(token, 'GET', routes.incidents.path)).json()) as { incidents: { id: string }[] }).incidents.map(
          (i) => i.id,
        );
        expect(incs.includes(fx.A.incident), actor.name).toBe(actor.sees.A);
        expect(incs.includes(fx.B.incident), actor.name).toBe(actor.sees.B);
      }
    }
  });

  it('sockets get camera records and health only for cameras the user may see', async () => {
    for (const actor of ACTORS) {
      const s = await store.createSession(userIds.get(actor.name)!, null);
      const who = signedIn(
        core.url,
        Session.parse({ user: await store.get(userIds.get(actor.name)!), token: s.token, expiresAt: s.expiresAt.toISOString() }),
      );
      const socket = who.socket();
      const snapshot = new Promise<Camera[]>((resolve) => socket.once('cameras:snapshot', resolve));
      const upserts: string[] = [];
      socket.on('camera:upsert', (c) => upserts.push(c.id));
      await connected(socket);
      const ids = (await snapshot).map((c) => c.id);
      expect(ids.includes(fx.A.camera), actor.name).toBe(actor.sees.A);
      expect(ids.includes(fx.B.camera), actor.name).toBe(actor.sees.B);
      for (const place of ['A', 'B'] as const) {
        const res = await admin.api(`/api/v1/cameras/${fx[place].camera}`, {
          method: 'PATCH',
          body: JSON.stringify({ name: `cam ${place} renamed for ${actor.name}` }),
        });
        expect(res.status).toBe(200);
      }
      // A marker the actor always sees proves the events before it have arrived.
      const marker = await newCamera(actor.sees.A ? 'A' : 'B');
      await expect.poll(() => upserts.includes(marker)).toBe(true);
      expect(upserts.includes(fx.A.camera), actor.name).toBe(actor.sees.A);
      expect(upserts.includes(fx.B.camera), actor.name).toBe(actor.sees.B);
      socket.close();
    }
  });
});

it('the matrix covers every role', () => {
  expect(new Set(ACTORS.map((a) => a.role))).toEqual(new Set(ROLES));
});
