import { sql } from 'kysely';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentList, type TestAlertRequest } from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import { loadConfig } from '../../core/config';
import type { WebhookBody } from '../../core/incidents/outbox';
import { signWebhook } from '../../core/incidents/webhook';
import { openData } from '../../core/db/open';
import { createLogger } from '../../core/logger';
import { createAndLogin, signIn, type SignedIn } from '../support/auth';
import { onTestDatabase } from '../support/core';
import { liaisonCore, type LiaisonCore } from '../support/liaison';
import { num, one, rows } from '../support/rows';
import { waitFor } from './ingest-helpers';

const SECRET = 'dispatch-shared-secret-0123456789';

/** A port nothing listens on (yet): the webhook receiver is "down" until it binds it. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('alert lifecycle: one log, one acknowledgement rule, replay by cursor, outbox, isolation', () => {
  let lc: LiaisonCore;
  let core: CoreHandle;
  let admin: SignedIn;
  let operator: SignedIn;
  let d2: SignedIn;
  let backup: SignedIn;
  let hookPort: number;
  const sock = (u: SignedIn, opts?: { lastAlertId?: string; lastSeq?: number }) => lc.sock(u, opts);
  const send = (t: TestAlertRequest) => lc.send(t);
  const incidentOf = async (alertId: string) =>
    IncidentList.parse(await (await operator.api('/api/v1/incidents?limit=2000')).json()).incidents.find((i) =>
      i.alertIds.includes(alertId),
    )!;

  beforeAll(async () => {
    hookPort = await freePort();
    lc = await liaisonCore((cfg) => ({
      ...cfg,
      incidents: { mergeWindowS: 300, webhook: { url: `http://127.0.0.1:${hookPort}/hook`, secret: SECRET, drainTimeoutS: 2 } },
    }));
    ({ core, admin, operator, d2, backup } = lc);
  });
  afterAll(async () => {
    await lc?.close();
  });

  it('writes the alert, its incident, their log events and the audit record in one transaction', async () => {
    const id = await send({ district: '2', cameraId: 'cam-tx' });
    const events = await rows(
      core.sql,
      sql<{ kind: string; incident_id: string | null }>`SELECT kind, incident_id FROM lifecycle_events WHERE alert_id = ${id} ORDER BY seq`,
    );
    expect(events.map((e) => e.kind)).toEqual(['alert.raised', 'incident.created']);
    expect(await one(core.sql, sql`SELECT count(*) AS n FROM audit WHERE action = 'alert.test' AND target = ${`alert:${id}`}`)).toEqual({
      n: 1,
    });
    expect(await one(core.sql, sql`SELECT count(*) AS n FROM incident_alerts WHERE alert_id = ${id}`)).toEqual({ n: 1 });
  });

  it('acknowledged within the window: no escalation; not acknowledged: the escalation liaison is told, and the event says who and why', async () => {
    const [op, sup, two] = [await sock(operator), await sock(backup), await sock(d2)];
    const acked = await send({ district: '2', cameraId: 'cam-esc-acked' });
    const ignored = await send({ district: '2', cameraId: 'cam-esc-ignored' });
    await waitFor('d2 got both', () => [acked, ignored].every((id) => two.raised.some((a) => a.id === id)), 5000);
    expect(await two.s.timeout(5000).emitWithAck('alert:ack', { alertId: acked })).toEqual({ ok: true });
    const e = await waitFor('escalation of the ignored alert', () => op.escalated.find((x) => x.alertId === ignored), 10_000);
    expect(e.cause).toBe('timeout');
    expect(e.told?.rooms).toEqual(expect.arrayContaining(['district:2', 'escalation']));
    expect(e.told?.liaisons).toEqual(expect.arrayContaining(['d2', 'sup']));
    await waitFor('the escalation liaison was told', () => sup.escalated.some((x) => x.alertId === ignored), 5000);
    expect(sup.raised.some((a) => a.id === ignored)).toBe(true);
    // Past the acknowledged alert's deadline too: it never escalated.
    await new Promise((r) => setTimeout(r, 500));
    expect(op.escalated.some((x) => x.alertId === acked)).toBe(false);
    expect(
      await one(core.sql, sql`SELECT count(*) AS n FROM lifecycle_events WHERE alert_id = ${acked} AND kind = 'alert.escalated'`),
    ).toEqual({
      n: 0,
    });
  });

  it('acknowledging the incident acknowledges its alerts and stops their escalation', async () => {
    const op = await sock(operator);
    const a = await send({ district: '2', cameraId: 'cam-inc-ack', zoneId: 'z' });
    const b = await send({ district: '2', cameraId: 'cam-inc-ack', zoneId: 'z' });
    const inc = await incidentOf(a);
    expect(inc.alertIds).toEqual([a, b]);
    expect(core.lifecycle.push.pendingEscalations()).toEqual(expect.arrayContaining([a, b]));
    const res = await operator.api(`/api/v1/incidents/${inc.id}`, { method: 'PATCH', body: JSON.stringify({ state: 'acknowledged' }) });
    expect(res.status).toBe(200);
    await waitFor(
      'both alerts acknowledged on the operator console',
      () => [a, b].every((id) => op.acked.some((x) => x.alertId === id && x.by === 'op')),
      5000,
    );
    expect(core.lifecycle.push.pendingEscalations()).not.toContain(a);
    expect(core.lifecycle.push.pendingEscalations()).not.toContain(b);
    await new Promise((r) => setTimeout(r, 2000));
    expect(op.escalated.filter((x) => x.alertId === a || x.alertId === b)).toEqual([]);
    const audit = await one(
      core.sql,
      sql<{
        detail: string;
      }>`SELECT detail FROM audit WHERE action = 'incident.update' AND target = ${`incident:${inc.id}`} ORDER BY seq DESC LIMIT 1`,
    );
    expect(JSON.parse(audit!.detail)).toMatchObject({ state: 'acknowledged', acknowledgedAlerts: [a, b] });
  });

  it('replays raises, clears and acks after the cursor; an unknown cursor gets the current state, never silence', async () => {
    const first = await sock(d2);
    const seen = await send({ district: '2', cameraId: 'cam-rp0' });
    await waitFor('seen', () => first.raised.some((a) => a.id === seen), 5000);
    const cursor = first.maxSeq;
    first.s.close();
    const cleared = await send({ district: '2', cameraId: 'cam-rp1' });
    expect((await admin.api(`/api/v1/test-alert/${cleared}/clear`, { method: 'POST' })).status).toBe(200);
    const ackedByOp = await send({ district: '2', cameraId: 'cam-rp2' });
    expect((await operator.api(`/api/v1/alerts/${ackedByOp}/ack`, { method: 'POST' })).status).toBe(200);
    const foreign = await send({ district: '3', cameraId: 'cam-rp3' });

    const again = await sock(d2, { lastSeq: cursor });
    await waitFor('replayed the ack', () => again.acked.some((a) => a.alertId === ackedByOp), 5000);
    expect(again.raised.map((a) => a.id)).toEqual([cleared, ackedByOp]);
    expect(again.updated.find((a) => a.id === cleared)?.endedAt).not.toBeNull();
    expect(again.acked.find((a) => a.alertId === ackedByOp)).toMatchObject({ by: 'op', role: 'operator' });
    expect(again.raised.some((a) => a.id === foreign || a.id === seen)).toBe(false);
    expect(again.incidents.map((i) => i.alertIds[0])).toEqual(expect.arrayContaining([cleared, ackedByOp]));
    expect(again.maxSeq).toBeGreaterThan(cursor);

    // What `again` had seen before the resync began: it keeps receiving (the alerts' escalations
    // fall due meanwhile, sooner on a slower database), and those may come after the resync's read.
    const seenBefore = again.maxSeq;
    const lost = await sock(d2, { lastSeq: 10 ** 9 });
    const sync = await waitFor('resync', () => lost.resyncs[0], 5000);
    expect(sync.cursor).toBeGreaterThanOrEqual(seenBefore);
    expect(sync.alerts.find((a) => a.id === cleared)?.endedAt).not.toBeNull();
    expect(sync.acks.some((a) => a.alertId === ackedByOp)).toBe(true);
    expect(sync.alerts.every((a) => a.scope.district === '2')).toBe(true);
    // An older client's unknown alert id, as any role: the same resync.
    const opLost = await sock(operator, { lastAlertId: 'no-such-alert' });
    await waitFor('operator resync', () => opLost.resyncs.length === 1, 5000);
    expect(opLost.resyncs[0]!.alerts.some((a) => a.id === foreign)).toBe(true);
  });

  it('a throwing bus listener or log reader does not crash the core or stop the others', async () => {
    const seen: string[] = [];
    const off1 = core.bus.on('alert:raised', () => {
      throw new Error('SQLITE_BUSY: database is locked (planted)');
    });
    const off2 = core.bus.on('alert:raised', (a) => void seen.push(a.id));
    const off3 = core.lifecycle.log.subscribe('planted failing reader', () => {
      throw new Error('disk I/O error (planted)');
    });
    const failures = core.bus.failures;
    try {
      const op = await sock(operator);
      const id = await send({ district: '2', cameraId: 'cam-throw' });
      expect(seen).toContain(id);
      expect(core.bus.failures).toBe(failures + 1);
      await waitFor('delivered despite the failing reader', () => op.raised.some((a) => a.id === id), 5000);
      expect((await admin.api('/api/v1/health')).status).toBe(200);
    } finally {
      off1();
      off2();
      off3();
    }
  });

  it('webhook receiver down, then back: every event arrives, once per idempotency key, in order per incident', async () => {
    // The receiver has been down since the core started: everything so far waits in the outbox.
    await send({ district: '2', cameraId: 'cam-hook', zoneId: 'z' });
    await send({ district: '2', cameraId: 'cam-hook', zoneId: 'z' });
    expect(await core.lifecycle.outbox!.pending()).toBeGreaterThan(0);
    expect(await num(core.sql, sql`SELECT max(attempts) AS n FROM webhook_outbox`)).toBeGreaterThanOrEqual(1);
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(hookPort, '127.0.0.1', r));
    try {
      await waitFor('outbox drained', async () => (await core.lifecycle.outbox!.pending()) === 0, 60_000);
      const outbox = await rows(
        core.sql,
        sql<{
          idem_key: string;
          incident_id: string;
          event_seq: number;
        }>`SELECT idem_key, incident_id, event_seq FROM webhook_outbox ORDER BY id`,
      );
      const keys = received.map((r) => String(r.headers['idempotency-key']));
      expect(new Set(keys).size).toBe(keys.length);
      expect([...keys].sort()).toEqual(outbox.map((r) => r.idem_key).sort());
      const bodies = received.map((r) => JSON.parse(r.body) as WebhookBody);
      for (const r of received)
        expect(r.headers['x-sentinel-signature']).toBe(signWebhook(SECRET, String(r.headers['x-sentinel-timestamp']), r.body));
      const byIncident = new Map<string, number[]>();
      for (const b of bodies) byIncident.set(b.incident.id, [...(byIncident.get(b.incident.id) ?? []), b.seq]);
      for (const seqs of byIncident.values()) expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(bodies.some((b) => b.event === 'incident.created')).toBe(true);
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});

describe('escalation timers are rebuilt from the log at start', () => {
  it('an alert raised before a restart, still unacknowledged, gets its timer back and escalates; an acknowledged one does not', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-rebuild-'));
    // One database for both starts: the second core rebuilds its timers from what the first stored.
    const cfg = await onTestDatabase({
      ...loadConfig({ port: 0, dataDir, assetsDir: '/nonexistent-assets' }, {}),
      push: { escalateAfterS: 2 },
    });
    let core = await startCore(cfg, { log: createLogger('silent') });
    let open: string;
    let acked: string;
    try {
      const admin = await signIn(core);
      const op = await createAndLogin(core.url, admin, { username: 'op', password: 'operator-password-1', role: 'operator' });
      const send = async (cameraId: string) =>
        (
          (await (await admin.api('/api/v1/test-alert', { method: 'POST', body: JSON.stringify({ cameraId, district: '9' }) })).json()) as {
            id: string;
          }
        ).id;
      open = await send('cam-rebuild-open');
      acked = await send('cam-rebuild-acked');
      expect((await op.api(`/api/v1/alerts/${acked}/ack`, { method: 'POST' })).status).toBe(200);
    } finally {
      await core.close();
    }
    core = await startCore(cfg, { log: createLogger('silent') });
    try {
      expect(core.lifecycle.push.pendingEscalations()).toEqual([open]);
      await waitFor(
        'escalated after the restart',
        async () => await one(core.sql, sql`SELECT 1 AS found FROM lifecycle_events WHERE alert_id = ${open} AND kind = 'alert.escalated'`),
        10_000,
      );
      const e = await core.lifecycle.service.escalation(open);
      expect(e).toMatchObject({ cause: 'timeout', alertId: open });
      expect(await core.lifecycle.service.escalation(acked)).toBeNull();
    } finally {
      await core.close();
    }
  });
});

describe('shutdown with a webhook receiver that never answers', () => {
  it('stops draining after drainTimeoutS and keeps the undelivered events for the next start', async () => {
    // A receiver that accepts the request and never answers: the old in-memory queue hung shutdown here.
    const hanging = createServer(() => undefined);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-drain-'));
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hook`;
    const cfg = await onTestDatabase(loadConfig({ port: 0, dataDir, assetsDir: '/nonexistent-assets' }, {}));
    const core = await startCore(
      { ...cfg, incidents: { mergeWindowS: 300, webhook: { url, secret: SECRET, drainTimeoutS: 1 } } },
      { log: createLogger('silent') },
    );
    try {
      const admin = await signIn(core);
      expect((await admin.api('/api/v1/test-alert', { method: 'POST', body: JSON.stringify({ cameraId: 'cam-drain' }) })).status).toBe(201);
      expect(await core.lifecycle.outbox!.pending()).toBeGreaterThan(0);
      const closed = core.close().then(() => 'closed' as const);
      const hung = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000).unref());
      expect(await Promise.race([closed, hung])).toBe('closed');
      // The core is closed: a fresh connection to its database sees what the next start will.
      const db = await openData(cfg);
      try {
        expect(await num(db, sql`SELECT count(*) AS n FROM webhook_outbox WHERE delivered_at IS NULL`)).toBeGreaterThan(0);
      } finally {
        await db.close();
      }
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((r) => hanging.close(() => r()));
    }
  });
});
