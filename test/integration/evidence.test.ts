import { onTestDatabase } from '../support/core';
import { one } from '../support/rows';
import { sql } from 'kysely';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Camera, IncidentEvidence } from '../../contract';
import { ffmpegDuration } from '../../analytics/recording/clips';
import type { AlertStore } from '../../core/alerts/store';
import { startCore, type CoreHandle } from '../../core/app';
import { AutoEvidence, evidenceRefs } from '../../core/cameras/evidence';
import { loadConfig } from '../../core/config';
import { HoldStore } from '../../core/recording/holds';
import type { DomainEvents } from '../../core/events/bus';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { signIn, type SignedIn } from '../support/auth';
import { assets, freePort, quietLog, skipReason, vtest, waitFor } from './ingest-helpers';

type ClipReady = DomainEvents['clip:ready'][0];
type ClipFailed = DomainEvents['clip:failed'][0];

/** Whether this process may mount a tmpfs (root in a container may still be refused). */
function canMount(): string | null {
  if (process.getuid?.() !== 0) return 'not root: cannot mount a small tmpfs to fill';
  const probe = mkdtempSync(join(tmpdir(), 'sentinel-mnt-probe-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(probe, { recursive: true, force: true });
    return `mount is not permitted here (${(r.stderr || r.error?.message || '').trim()})`;
  }
  spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return null;
}

const PRE_S = 2;
const POST_S = 3;

// Automatic evidence end to end: a real core recording a real RTSP camera with real ffmpeg;
// alerts published the way analytics publishes them (AlertStore: stored, then on the bus).
describe.skipIf(skipReason !== null)(`automatic evidence${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sim: RunningSim;
  let core: CoreHandle;
  let admin: SignedIn;
  let cam: Camera;
  let alerts: AlertStore;
  let dataDir: string;
  const ready: ClipReady[] = [];
  const failed: ClipFailed[] = [];
  const incidentOf = async (alertId: string): Promise<string | undefined> =>
    (await one(core.sql, sql<{ incident_id: string }>`SELECT incident_id FROM incident_alerts WHERE alert_id = ${alertId}`))?.incident_id;

  const raise = async (startedAt: Date) =>
    (
      await alerts.create({
        kind: 'crowding',
        cameraId: cam.id,
        cameraName: cam.name,
        zoneId: 'zone-1',
        zoneName: 'Platform',
        score: 0.9,
        startedAt,
        snapshotPath: null,
        trackIds: [1],
        detail: {},
        scope: { placement: null, district: null, lines: [], routes: [] },
      })
    ).alert;

  beforeAll(async () => {
    sim = await startSimulator({ port: await freePort(), streams: [{ name: 'platform', file: vtest }] });
    dataDir = mkdtempSync(join(tmpdir(), 'sentinel-evidence-'));
    const cfg = loadConfig({ dataDir, port: 0, assetsDir: assets ?? undefined }, {});
    core = await startCore(
      await onTestDatabase({
        ...cfg,
        analytics: { ...cfg.analytics, enabled: false },
        recording: { ...cfg.recording, segmentSeconds: 1, alertClip: { enabled: true, preRollS: PRE_S, postRollS: POST_S } },
      }),
      { log: quietLog },
    );
    core.bus.on('clip:ready', (e) => ready.push(e));
    core.bus.on('clip:failed', (e) => failed.push(e));
    alerts = core.lifecycle.alerts;
    admin = await signIn(core);
    const res = await admin.api('/api/v1/cameras', {
      method: 'POST',
      body: JSON.stringify({ name: 'Evidence platform', url: sim.url('platform') }),
    });
    expect(res.status).toBe(201);
    cam = Camera.parse(await res.json());
    const segments = () => core.services.cameras.segments.list(cam.id);
    await waitFor('5 s of recording', async () => (await segments()).length >= 5, 40_000, 200);
  });
  afterAll(async () => {
    await core?.close();
    await sim?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('cuts each alert its clip with the configured pre- and post-roll, hashes it and links it to the incident', async () => {
    const t = new Date(Date.now() - 500);
    const alert = await raise(t);
    // Held at once, before the clip exists.
    const holds = await waitFor(
      'the hold',
      async () => {
        const h = await new HoldStore(core.sql).forAlert(alert.id);
        return h.length > 0 && h;
      },
      1000,
      5,
    );
    expect(ready.find((e) => e.alertId === alert.id)).toBeUndefined();
    expect(holds).toMatchObject([
      { cameraId: cam.id, fromMs: t.getTime() - PRE_S * 1000, toMs: t.getTime() + POST_S * 1000, liftedAt: null },
    ]);
    const ev = await waitFor('clip:ready', () => ready.find((e) => e.alertId === alert.id), 30_000, 100);
    expect(failed).toEqual([]);
    const clip = (await core.services.cameras.clips.get(ev.clipId))!;
    expect(clip.cameraId).toBe(cam.id);
    expect(createHash('sha256').update(readFileSync(clip.path)).digest('hex')).toBe(ev.sha256);
    expect(clip.sha256).toBe(ev.sha256);
    // The window asked for is 5 s; copying starts on the keyframe at or before it (1 s GOP).
    const dur = await ffmpegDuration('ffmpeg', clip.path);
    expect(dur).toBeGreaterThan(PRE_S + POST_S - 0.6);
    expect(dur).toBeLessThan(PRE_S + POST_S + 1.6);
    expect(Date.parse(clip.startAt)).toBeLessThanOrEqual(t.getTime() - PRE_S * 1000 + 600);
    expect(Date.parse(clip.startAt)).toBeGreaterThan(t.getTime() - PRE_S * 1000 - 2000);

    const incidentId = await waitFor('the incident', () => incidentOf(alert.id), 5000);
    const res = await admin.api(`/api/v1/incidents/${incidentId}/evidence`);
    expect(res.status).toBe(200);
    const body = IncidentEvidence.parse(await res.json());
    expect(body.clips).toMatchObject([{ alertId: alert.id, state: 'ready', clipId: ev.clipId, sha256: ev.sha256, error: null }]);
    expect(body.holds).toMatchObject([{ kind: 'alert', ref: alert.id, liftedAt: null }]);
  });

  it('retention keeps held footage, deletes the rest, and lifts a hold (audited) once the alert is reviewed and closed', async () => {
    const service = core.services.cameras;
    const alert = (await one(core.sql, sql<{ id: string }>`SELECT id FROM alerts ORDER BY seq LIMIT 1`))!.id;
    const hold = (await new HoldStore(core.sql).forAlert(alert))[0]!;
    const ev = new AutoEvidence(
      core.sql,
      core.bus,
      service.clips,
      evidenceRefs(core.lifecycle, core.services.review),
      { preRollMs: 0, postRollMs: 0, segmentSeconds: 1 },
      quietLog,
      core.services.audit,
    );

    // Unreviewed, incident open: the hold stays and its segments survive a sweep that
    // would delete everything by age.
    const before = await service.segments.list(cam.id);
    const overlaps = (s: { startMs: number; endMs: number }) => s.endMs > hold.fromMs && s.startMs < hold.toMs;
    const heldSegs = before.filter(overlaps);
    const freeSegs = before.filter((s) => !overlaps(s));
    expect(heldSegs.length).toBeGreaterThan(0);
    expect(freeSegs.length).toBeGreaterThan(0);
    const r = await service.segments.sweep({ maxAgeMs: 0, maxBytes: 1e12 }, Date.now() + 60_000, await ev.releaseAndListHeld());
    expect(r.keptHeld).toBe(heldSegs.length);
    for (const s of heldSegs) expect(existsSync(s.path)).toBe(true);
    for (const s of freeSegs) expect(existsSync(s.path)).toBe(false);
    const left = (await service.segments.list(cam.id)).map((s) => s.id);
    expect(left).toEqual(expect.arrayContaining(heldSegs.map((s) => s.id)));
    // The console's "recording goes back to": the oldest kept segment, i.e. the held footage
    // (the depth is cached for the health reports: re-read, as the retention job does after its sweep).
    await service.refreshDepth();
    const camRes = Camera.parse(await (await admin.api(`/api/v1/cameras/${cam.id}`)).json());
    expect(camRes.health.recordingSince).toBe(new Date(heldSegs[0]!.startMs).toISOString());

    // Reviewed (acknowledged) and closed: the next sweep lifts the hold as the system, audited.
    expect((await admin.api(`/api/v1/alerts/${alert}/ack`, { method: 'POST' })).status).toBe(200);
    const incidentId = (await incidentOf(alert))!;
    const patch = await admin.api(`/api/v1/incidents/${incidentId}`, { method: 'PATCH', body: JSON.stringify({ state: 'resolved' }) });
    expect(patch.status).toBe(200);
    const held = await ev.releaseAndListHeld();
    expect(held.find((h) => h.id === hold.id)).toBeUndefined();
    expect(await new HoldStore(core.sql).get(hold.id)).toMatchObject({ liftedBy: 'system' });
    const rec = (await core.services.audit.trail.list({ limit: 50 })).find(
      (a) => a.action === 'evidence.hold_lift' && a.target === `hold:${hold.id}`,
    );
    expect(rec).toMatchObject({ actor: 'system' });
    await service.segments.sweep({ maxAgeMs: 0, maxBytes: 1e12 }, Date.now() + 60_000, held);
    for (const s of heldSegs) expect(existsSync(s.path)).toBe(false);
  });

  it('a person lifts a manual hold only with a reason, and the lift is audited', async () => {
    const now = Date.now();
    const put = await admin.api('/api/v1/evidence/holds', {
      method: 'POST',
      body: JSON.stringify({ cameraId: cam.id, from: now - 5000, to: now, ref: 'CPD-2026-0042', reason: 'police request' }),
    });
    expect(put.status).toBe(201);
    const h = (await put.json()) as { id: number };
    const noReason = await admin.api(`/api/v1/evidence/holds/${h.id}/lift`, { method: 'POST', body: JSON.stringify({ reason: '' }) });
    expect(noReason.status).toBe(400);
    const lift = await admin.api(`/api/v1/evidence/holds/${h.id}/lift`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'case closed' }),
    });
    expect(lift.status).toBe(200);
    expect(await lift.json()).toMatchObject({ id: h.id, liftReason: 'case closed' });
    expect(
      (await admin.api(`/api/v1/evidence/holds/${h.id}/lift`, { method: 'POST', body: JSON.stringify({ reason: 'again' }) })).status,
    ).toBe(409);
    const actions = (await core.services.audit.trail.list({ limit: 50 })).filter((a) => a.target === `hold:${h.id}`).map((a) => a.action);
    expect(actions.sort()).toEqual(['evidence.hold_lift', 'evidence.hold_place']);
  });

  const mountSkip = canMount();
  it.skipIf(mountSkip !== null)(
    `a disk filling up while a clip is cut keeps the alert and reports the error on the incident${mountSkip ? ` (skipped: ${mountSkip})` : ''}`,
    async () => {
      // The camera's clip folder becomes a 1 MiB tmpfs, almost full before the cut starts.
      const clipDir = join(dataDir, 'clips', cam.id);
      mkdirSync(clipDir, { recursive: true });
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', clipDir], { encoding: 'utf8' });
      expect(m.status, m.stderr).toBe(0);
      try {
        writeFileSync(join(clipDir, 'filler'), Buffer.alloc(1024 * 1024 - 24 * 1024));
        const alert = await raise(new Date(Date.now() - 500));
        const ev = await waitFor('clip:failed', () => failed.find((e) => e.alertId === alert.id), 30_000, 100);
        expect(ev.error).toMatch(/space/i);
        // The alert is kept, its footage stays held, and no half-written clip is left.
        expect((await alerts.get(alert.id))?.alert.id).toBe(alert.id);
        expect(await new HoldStore(core.sql).forAlert(alert.id)).toMatchObject([{ liftedAt: null }]);
        const left = spawnSync('ls', [clipDir], { encoding: 'utf8' }).stdout.trim().split('\n');
        expect(left).toEqual(['filler']);
        const incidentId = await waitFor('the incident', () => incidentOf(alert.id), 5000);
        const body = IncidentEvidence.parse(await (await admin.api(`/api/v1/incidents/${incidentId}/evidence`)).json());
        expect(body.clips.find((c) => c.alertId === alert.id)).toMatchObject({
          state: 'failed',
          clipId: null,
          error: expect.stringMatching(/space/i),
        });
      } finally {
        spawnSync('umount', ['-l', clipDir]);
      }
    },
  );
});
