import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraState } from '../../contract/cameras';
import { tiedChildren } from '../../analytics/ingest/process';
import { IngestSupervisor, type SupervisorOptions } from '../../analytics/ingest/supervisor';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { alive, freePort, garbageServer, quietLog, secondFootage, skipReason, vtest, waitFor } from './ingest-helpers';

// Against a real gst-rtsp-server serving the real footage, and real ffmpeg decoders.
describe.skipIf(skipReason !== null)(`ingest from a real RTSP server${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sim: RunningSim;
  let port: number;
  const sups: IngestSupervisor[] = [];
  const creds = { username: 'op@cta', password: 'p:a@ss%20w' };

  const supervisor = (over: Partial<SupervisorOptions> & { url: string }): IngestSupervisor => {
    const s = new IngestSupervisor({
      cameraId: `cam${sups.length}`,
      fps: 5,
      maxWidth: 416,
      maxHeight: 416,
      stallTimeoutMs: 4000,
      log: quietLog,
      ...over,
    });
    sups.push(s);
    return s;
  };
  const startSim = () =>
    startSimulator({
      port,
      streams: [
        { name: 'platform', file: vtest },
        { name: 'secure', file: secondFootage, auth: creds },
      ],
    });

  beforeAll(async () => {
    port = await freePort();
    sim = await startSim();
  });
  afterAll(async () => {
    await Promise.all(sups.map((s) => s.stop()));
    await sim?.close();
  });

  it('delivers BGR24 frames at the configured analysis rate, scaled to fit the model size', async () => {
    const s = supervisor({ url: sim.url('platform') });
    s.start();
    await waitFor('live', () => s.health().state === 'live', 15_000);
    const f = await s.slot.next();
    // 768x576 fitted into 416x416 keeping 4:3.
    expect([f.width, f.height]).toEqual([416, 312]);
    expect(f.data.byteLength).toBe(416 * 312 * 3);
    expect(s.health()).toMatchObject({ sourceWidth: 768, sourceHeight: 576 });
    const seen: number[] = [];
    const off = s.slot.subscribe((fr) => seen.push(fr.ts));
    await new Promise((r) => setTimeout(r, 4000));
    off();
    // 4 s at 5 fps: 20 frames, give or take network jitter at the window's edges.
    expect(seen.length).toBeGreaterThanOrEqual(16);
    expect(seen.length).toBeLessThanOrEqual(24);
    expect(s.health().fpsIn).toBeGreaterThan(3.5);
    expect(s.health().fpsIn).toBeLessThan(6.5);
    const other = supervisor({ url: sim.url('platform'), fps: 2 });
    other.start();
    await waitFor('second camera live', () => other.health().state === 'live', 15_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(other.health().fpsIn).toBeLessThan(3);
    await other.stop();
  });

  it('leaves live within 5 s when the stream is dropped and is live again within 5 s of its return', async () => {
    const s = supervisor({ url: sim.url('platform') });
    const states: CameraState[] = [];
    s.on('health', (h) => states.push(h.state));
    s.start();
    await waitFor('live', () => s.health().state === 'live', 15_000);
    const t0 = Date.now();
    await sim.stopStream('platform');
    await waitFor('state to leave live', () => s.health().state !== 'live', 5000);
    expect(Date.now() - t0).toBeLessThan(5000);
    // Stay down long enough for the backoff to grow past the 5 s we allow for recovery.
    await new Promise((r) => setTimeout(r, 7000));
    expect(s.health().state).not.toBe('live');
    expect(s.health().lastError).toBeTruthy();
    const t1 = Date.now();
    await sim.startStream('platform');
    await waitFor('live again', () => s.health().state === 'live', 5000);
    expect(Date.now() - t1).toBeLessThan(5000);
    expect(s.health().reconnects).toBeGreaterThanOrEqual(1);
    expect(states).toContain('offline');
    await s.stop();
  });

  it('survives the whole RTSP server going away and coming back', async () => {
    const s = supervisor({ url: sim.url('platform') });
    s.start();
    await waitFor('live', () => s.health().state === 'live', 15_000);
    await sim.close();
    await waitFor('state to leave live', () => s.health().state !== 'live', 5000);
    await new Promise((r) => setTimeout(r, 2000));
    sim = await startSim();
    const t1 = Date.now();
    await waitFor('live again', () => s.health().state === 'live', 8000);
    expect(Date.now() - t1).toBeLessThan(5000);
    await s.stop();
  });

  it('works with credentials containing @ : % and reports a 401 clearly when they are wrong', async () => {
    const good = supervisor({ url: sim.url('secure'), ...creds });
    const bad = supervisor({ url: sim.url('secure'), username: creds.username, password: 'Xyzzy-9' });
    good.start();
    bad.start();
    await waitFor('authenticated camera live', () => good.health().state === 'live', 15_000);
    await waitFor('401 reported', () => bad.health().lastError?.includes('401'), 15_000);
    expect(bad.health().state).toBe('offline');
    expect(bad.health().lastError).not.toContain('Xyzzy-9');
    await Promise.all([good.stop(), bad.stop()]);
  });

  it('gives a source that sends garbage a clear state while another camera stays live', async () => {
    const { port: gport, server } = await garbageServer();
    const ok = supervisor({ url: sim.url('platform') });
    const junk = supervisor({ url: `rtsp://127.0.0.1:${gport}/cam` });
    ok.start();
    junk.start();
    await waitFor('garbage camera offline with an error', () => junk.health().state === 'offline' && junk.health().lastError, 15_000);
    await waitFor('good camera live', () => ok.health().state === 'live', 15_000);
    const before = ok.health().frames;
    await new Promise((r) => setTimeout(r, 1500));
    expect(ok.health().frames).toBeGreaterThan(before);
    expect(ok.health().state).toBe('live');
    await Promise.all([ok.stop(), junk.stop()]);
    server.close();
  });

  it('leaves no ffmpeg process behind after stop', async () => {
    const others = new Set(tiedChildren());
    const s = supervisor({ url: sim.url('platform') });
    s.start();
    await waitFor('live', () => s.health().state === 'live', 15_000);
    const mine = tiedChildren().filter((p) => !others.has(p));
    expect(mine.length).toBe(1);
    await s.stop();
    expect(s.health().state).toBe('disabled');
    expect(mine.filter(alive).map((p) => `${p}: ${readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ')}`)).toEqual([]);
  });
});
