import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiErrorBody, Incident, IncidentList } from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import { loadConfig } from '../../core/config';
import { signWebhook } from '../../core/incidents/webhook';
import { createLogger } from '../../core/logger';
import type { Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../contract';
import { connected, createAndLogin, signedIn, signIn, type SignedIn } from '../support/auth';
import { startServe, tempDir, type RunningServe } from '../support/serve';
import { onTestDatabase } from '../support/core';
import { rows, serveSql } from '../support/rows';
import { waitFor } from './ingest-helpers';

const SECRET = 'dispatch-shared-secret-0123456789';

describe('incidents: merge, states, CAP 1.2, signed webhook', () => {
  let core: CoreHandle;
  let admin: SignedIn;
  let op: SignedIn;
  let receiver: Server;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];

  const send = async (t: object): Promise<string> => {
    const res = await admin.api('/api/v1/test-alert', { method: 'POST', body: JSON.stringify(t) });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const incidents = async () => IncidentList.parse(await (await op.api('/api/v1/incidents')).json()).incidents;

  beforeAll(async () => {
    // A real HTTP server standing in for the dispatch system.
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-inc-'));
    const cfg = await onTestDatabase(loadConfig({ port: 0, dataDir, assetsDir: '/nonexistent-assets' }, {}));
    core = await startCore(
      {
        ...cfg,
        incidents: {
          mergeWindowS: 300,
          webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, secret: SECRET, drainTimeoutS: 5 },
        },
      },
      { log: createLogger('silent') },
    );
    admin = await signIn(core);
    op = await createAndLogin(core.url, admin, { username: 'op', password: 'operator-password-1', role: 'operator' });
  });
  afterAll(async () => {
    await core?.close();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it('merges alerts from the same camera and zone; two cameras with the same zone id open two incidents', async () => {
    const a = await send({ cameraId: 'cam-1', cameraName: 'Clark/Lake platform', district: '1', kind: 'crowding' });
    const b = await send({ cameraId: 'cam-1', cameraName: 'Clark/Lake platform', district: '1', kind: 'crowding' });
    // "zone-1" is the zone editor's default: the same id on two cameras is two places.
    const c = await send({ cameraId: 'cam-2', cameraName: 'Bus 1234', zoneId: 'zone-1', district: '4', kind: 'barrier' });
    const d = await send({ cameraId: 'cam-3', cameraName: 'Bus 5678', zoneId: 'zone-1', district: '5', kind: 'barrier' });
    const list = await incidents();
    const first = list.find((i) => i.alertIds.includes(a))!;
    expect(first.alertIds).toEqual([a, b]);
    expect(first).toMatchObject({ state: 'new', kind: 'crowding', title: 'Crowding at Clark/Lake platform', timeToAcknowledgeS: null });
    const onC = list.find((i) => i.alertIds.includes(c))!;
    const onD = list.find((i) => i.alertIds.includes(d))!;
    expect(onC.id).not.toBe(onD.id);
    expect(onC.alertIds).toEqual([c]);
    expect(onD).toMatchObject({ alertIds: [d], title: 'Protected-area breach at Bus 5678', scope: { district: '5' } });
  });

  it("a merged incident's reach is the union of its alerts' scopes: the second district's liaison sees it", async () => {
    const d7 = await createAndLogin(core.url, admin, {
      username: 'd7',
      password: 'liaison-password-7',
      role: 'liaison',
      scope: { districts: ['7'] },
    });
    const a6 = await send({ cameraId: 'cam-six', cameraName: 'Cermak', district: '6', kind: 'crowding' });
    // One platform camera whose alerts are placed in district 6, then (a boundary station) 7.
    const x = await send({ cameraId: 'cam-edge', cameraName: 'Garfield', zoneId: 'platform', district: '6', kind: 'crowding' });
    const y = await send({
      cameraId: 'cam-edge',
      cameraName: 'Garfield',
      zoneId: 'platform',
      district: '7',
      lines: ['Green'],
      kind: 'crowding',
    });
    const merged = (await incidents()).find((i) => i.alertIds.includes(x))!;
    expect(merged.alertIds).toEqual([x, y]);
    expect(merged.reach).toEqual({ districts: ['6', '7'], lines: ['Green'], routes: [], cameras: ['cam-edge'] });
    const seen = IncidentList.parse(await (await d7.api('/api/v1/incidents')).json()).incidents;
    expect(seen.map((i) => i.id)).toContain(merged.id);
    expect((await d7.api(`/api/v1/incidents/${merged.id}`)).status).toBe(200);
    // ...and nothing of district 6 alone.
    expect(seen.some((i) => i.alertIds.includes(a6))).toBe(false);
  });

  it('moves through states with a timestamp each; refuses an impossible transition; records notes and assignee', async () => {
    const id = (await incidents()).find((i) => i.cameraId === 'cam-1')!.id;
    const patch = (body: object) => op.api(`/api/v1/incidents/${id}`, { method: 'PATCH', body: JSON.stringify(body) });
    const ack = Incident.parse(await (await patch({ state: 'acknowledged', assignee: 'op' })).json());
    expect(ack.acknowledgedAt).not.toBeNull();
    expect(ack.timeToAcknowledgeS).toBeGreaterThanOrEqual(0);
    const disp = Incident.parse(await (await patch({ state: 'dispatched', note: 'Units 1021 and 1022 en route' })).json());
    expect(disp.dispatchedAt).not.toBeNull();
    const back = await patch({ state: 'new' });
    expect(back.status).toBe(409);
    expect(ApiErrorBody.parse(await back.json()).error).toMatchObject({ field: 'state' });
    const res = Incident.parse(await (await patch({ state: 'resolved', link: { kind: 'clip', ref: 'clip-42' } })).json());
    expect(res.resolvedAt).not.toBeNull();
    expect(res.events.map((e) => [e.kind, e.state])).toEqual([
      ['created', 'new'],
      ['alert', null],
      ['state', 'acknowledged'],
      ['assign', null],
      ['state', 'dispatched'],
      ['note', null],
      ['state', 'resolved'],
      ['link', null],
    ]);
    expect(res.links).toContainEqual({ kind: 'clip', ref: 'clip-42' });
    // A reviewer reads incidents but cannot change them.
    const rev = await createAndLogin(core.url, admin, { username: 'rev', password: 'reviewer-password-1', role: 'reviewer' });
    expect((await rev.api(`/api/v1/incidents/${id}`)).status).toBe(200);
    expect((await rev.api(`/api/v1/incidents/${id}`, { method: 'PATCH', body: JSON.stringify({ note: 'x' }) })).status).toBe(403);
  });

  it('exports an incident as CAP 1.2 XML', async () => {
    const inc = (await incidents()).find((i) => i.cameraId === 'cam-1')!;
    const res = await op.api(`/api/v1/incidents/${inc.id}/cap.xml`);
    expect(res.headers.get('content-type')).toContain('application/xml');
    const xml = await res.text();
    expect(xml).toContain('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">');
    expect(xml).toContain(`<identifier>sentinel-${inc.id}</identifier>`);
    expect(xml).toMatch(/<sent>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-00:00<\/sent>/);
    expect(xml).toContain('<msgType>Update</msgType>');
    expect(xml).toContain('<responseType>AllClear</responseType>');
    expect(xml).toContain('<valueName>CPDDistrict</valueName>');
    // Every element CAP requires for an alert is present, in order.
    const order = [
      'identifier',
      'sender',
      'sent',
      'status',
      'msgType',
      'scope',
      'info',
      'category',
      'event',
      'urgency',
      'severity',
      'certainty',
      'area',
      'areaDesc',
    ];
    const at = order.map((t) => xml.indexOf(`<${t}>`));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
  });

  it('posts each incident change to the webhook, signed with HMAC-SHA256 over timestamp and body', async () => {
    await waitFor('webhook deliveries', () => received.length >= 6, 10_000);
    for (const r of received) {
      const ts = String(r.headers['x-sentinel-timestamp']);
      expect(r.headers['x-sentinel-signature']).toBe(signWebhook(SECRET, ts, r.body));
      expect(r.headers['x-sentinel-signature']).not.toBe(signWebhook('wrong-secret-0123456789', ts, r.body));
    }
    const events = received.map((r) => JSON.parse(r.body) as { event: string; incident: Incident });
    expect(events[0]).toMatchObject({ event: 'incident.created', incident: { cameraId: 'cam-1', state: 'new' } });
    expect(events.some((e) => e.event === 'incident.updated' && e.incident.state === 'dispatched')).toBe(true);
  });
});

describe('durability: the core killed with SIGKILL during a burst of alerts', () => {
  let core: RunningServe | null = null;
  const dataDir = tempDir();
  afterAll(async () => {
    await core?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses none of the alerts it reported created (restart and count)', async () => {
    core = await startServe({ dataDir });
    const reported: string[] = [];
    const burst = Array.from(
      { length: 2000 },
      (_, i) =>
        core!
          .api('/api/v1/test-alert', { method: 'POST', body: JSON.stringify({ cameraId: `burst-${i}`, district: String((i % 25) + 1) }) })
          .then(async (r) => {
            if (r.status === 201) reported.push(((await r.json()) as { id: string }).id);
          })
          .catch(() => undefined), // in flight when the core died: not reported, so not owed
    );
    await waitFor('some alerts created', () => reported.length >= 50, 30_000);
    core.proc.kill('SIGKILL');
    await Promise.all(burst);
    await core.stop();
    expect(reported.length).toBeGreaterThanOrEqual(50);
    // The kill landed mid-burst: some requests never got their answer.
    expect(reported.length).toBeLessThan(burst.length);
    const before = reported.length;

    core = await startServe({ dataDir });
    try {
      // Every alert joined its own incident (one camera each): count through the API.
      const list = IncidentList.parse(await (await core.api('/api/v1/incidents?limit=2000')).json());
      const have = new Set(list.incidents.flatMap((i) => i.alertIds));
      expect(reported.filter((id) => !have.has(id))).toEqual([]);
      expect(reported.length).toBe(before);
    } finally {
      // The next test starts its own core in `core`: this one would be left running.
      await core.stop();
      core = null;
    }
  });

  it('20 liaison sockets through a burst of 200 alerts with acks and clears, SIGKILL, restart: every client ends in the state the log says', async () => {
    const dir = tempDir();
    try {
      core = await startServe({ dataDir: dir });
      const admin = core.admin!;
      const liaisons = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          createAndLogin(core!.url, admin, {
            username: `l${i + 1}`,
            password: `liaison-password-${i + 1}`,
            role: 'liaison',
            scope: { districts: [String(i + 1)] },
          }),
        ),
      );
      const views = liaisons.map(() => new ClientView());
      const attach = (url: string) =>
        Promise.all(
          liaisons.map(async (l, i) => {
            const s = signedIn(url, l.session).socket(views[i]!.maxSeq ? { lastSeq: views[i]!.maxSeq } : {});
            views[i]!.attach(s);
            await connected(s);
            return s;
          }),
        );
      let sockets = await attach(core.url);
      const reported: string[] = [];
      // 200 alerts from 20 cameras raising at once, each its next alert as soon as the last is
      // answered, so acks and clears land among the raises. (200 requests sent together would
      // put every ack behind all the raises already queued for the log's lock on Postgres,
      // core/db/sql.ts, and the kill would come before any ack or clear.)
      const burst = Array.from({ length: 20 }, async (_, lane) => {
        for (let i = lane; i < 200; i += 20) {
          try {
            const r = await core!.api('/api/v1/test-alert', {
              method: 'POST',
              body: JSON.stringify({ cameraId: `kill-${i}`, district: String((i % 20) + 1) }),
            });
            if (r.status !== 201) continue;
            const { id } = (await r.json()) as { id: string };
            reported.push(id);
            // Killed the moment the 40th is reported, not at the next poll.
            if (reported.length === 40) core!.proc.kill('SIGKILL');
            // Every third alert its liaison acknowledges, every fourth the admin clears.
            if (i % 3 === 0) sockets[i % 20]!.emit('alert:ack', { alertId: id }, () => undefined);
            if (i % 4 === 0) await core!.api(`/api/v1/test-alert/${id}/clear`, { method: 'POST' });
          } catch {
            // In flight when the core died: not reported, so not owed; this camera is done.
            return;
          }
        }
      });
      await waitFor('some alerts created', () => reported.length >= 40, 30_000);
      core.proc.kill('SIGKILL');
      await Promise.all(burst);
      await core.stop();
      for (const s of sockets) s.close();
      expect(reported.length).toBeLessThan(200);

      core = await startServe({ dataDir: dir });
      sockets = await attach(core.url);
      // What the log says each liaison's view must be, read on a second connection beside the running core.
      const db = await serveSql(core);
      try {
        const log = await rows(
          db,
          sql<{
            kind: string;
            alert_id: string;
            rooms: string;
            payload: string;
          }>`SELECT kind, alert_id, rooms, payload FROM lifecycle_events WHERE alert_id IS NOT NULL ORDER BY seq`,
        );
        const expected = (district: string) => {
          const state = new Map<string, { endedAt: string | null; acks: string[] }>();
          for (const r of log) {
            if (!(JSON.parse(r.rooms) as string[]).includes(`district:${district}`)) continue;
            const p = JSON.parse(r.payload) as { endedAt?: string | null; by?: string };
            if (r.kind === 'alert.raised' || r.kind === 'alert.updated' || r.kind === 'alert.cleared')
              state.set(r.alert_id, { endedAt: p.endedAt ?? null, acks: state.get(r.alert_id)?.acks ?? [] });
            if (r.kind === 'alert.acknowledged') state.get(r.alert_id)?.acks.push(p.by!);
          }
          return state;
        };
        const logged = new Set(log.filter((r) => r.kind === 'alert.raised').map((r) => r.alert_id));
        expect(reported.filter((id) => !logged.has(id))).toEqual([]);
        // The burst did acknowledge and clear before the kill (the views below must show both).
        const kinds = await rows(
          db,
          sql<{
            kind: string;
            n: number;
          }>`SELECT kind, count(*) AS n FROM lifecycle_events WHERE kind IN ('alert.acknowledged', 'alert.cleared') GROUP BY kind`,
        );
        expect(kinds.map((k) => k.kind).sort()).toEqual(['alert.acknowledged', 'alert.cleared']);
        for (const [i, v] of views.entries()) {
          const want = expected(String(i + 1));
          await waitFor(`liaison l${i + 1} caught up`, () => v.alerts.size === want.size, 15_000);
          expect(v.snapshot()).toEqual(new Map([...want].map(([id, w]) => [id, { endedAt: w.endedAt, acks: [...w.acks].sort() }])));
          // Replay resumed exactly after the cursor: no alert was raised twice at this client.
          expect([...v.raises.values()].filter((n) => n > 1)).toEqual([]);
        }
        // Nothing owed was lost: every alert reported created reached its liaison.
        expect(reported.every((id) => views.some((v) => v.alerts.has(id)))).toBe(true);
      } finally {
        await db.close();
        for (const s of sockets) s.close();
      }
    } finally {
      await core?.stop();
      core = null;
      rmSync(dir, { recursive: true, force: true });
    }
    // 20 users created, signed in and enrolled (liaisons must use a second factor), and two core starts.
  }, 120_000);
});

/** A liaison client's view of the lifecycle: the alerts it holds, their acks, the highest sequence seen. */
class ClientView {
  readonly alerts = new Map<string, { endedAt: string | null; acks: Set<string> }>();
  readonly raises = new Map<string, number>();
  maxSeq = 0;
  attach(s: Socket<ServerToClientEvents, ClientToServerEvents>): void {
    const seq = (n: number) => (this.maxSeq = Math.max(this.maxSeq, n));
    s.on('alert:raised', (a, n) => {
      this.raises.set(a.id, (this.raises.get(a.id) ?? 0) + 1);
      this.alerts.set(a.id, { endedAt: a.endedAt, acks: this.alerts.get(a.id)?.acks ?? new Set() });
      seq(n);
    });
    s.on('alert:updated', (a, n) => {
      this.alerts.set(a.id, { endedAt: a.endedAt, acks: this.alerts.get(a.id)?.acks ?? new Set() });
      seq(n);
    });
    s.on('alert:acked', (a, n) => {
      this.alerts.get(a.alertId)?.acks.add(a.by);
      seq(n);
    });
    s.on('incident:upsert', (_i, n) => seq(n));
    s.on('alert:escalated', (_e, n) => seq(n));
    s.on('alerts:resync', (p) => {
      this.alerts.clear();
      for (const a of p.alerts)
        this.alerts.set(a.id, { endedAt: a.endedAt, acks: new Set(p.acks.filter((x) => x.alertId === a.id).map((x) => x.by)) });
      this.maxSeq = p.cursor;
    });
  }
  snapshot(): Map<string, { endedAt: string | null; acks: string[] }> {
    return new Map([...this.alerts].map(([id, a]) => [id, { endedAt: a.endedAt, acks: [...a.acks].sort() }]));
  }
}
