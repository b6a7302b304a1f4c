import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestFrame } from '../../analytics/ingest/frame-pool';
import { IngestSupervisor } from '../../analytics/ingest/supervisor';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { freePort, quietLog, skipReason, vtest, waitFor } from './ingest-helpers';

interface Seen {
  seq: number;
  ts: number;
  /** Wall clock when the frame came off the pipe. */
  at: number;
}

/** Blocks this thread (the reader of every pipe) the way a long synchronous task would. */
function stallEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing is read from ffmpeg meanwhile
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Real simulator serving vtest.avi (10 fps) and a real ffmpeg; analysed at 5 fps, so the stream's
// own clock steps 200 ms per frame.
describe.skipIf(skipReason !== null)(`ingest analysis clock${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sim: RunningSim;
  const sups: IngestSupervisor[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ port: await freePort(), streams: [{ name: 'platform', file: vtest }] });
  });
  afterAll(async () => {
    await Promise.all(sups.map((s) => s.stop()));
    await sim?.close();
  });

  const start = (): { sup: IngestSupervisor; seen: Seen[] } => {
    const sup = new IngestSupervisor({
      cameraId: `clock${sups.length}`,
      url: sim.url('platform'),
      fps: 5,
      maxWidth: 416,
      maxHeight: 416,
      stallTimeoutMs: 8000,
      log: quietLog,
    });
    sups.push(sup);
    const seen: Seen[] = [];
    // Every frame the supervisor cuts from the pipe, also those the slot later drops as superseded.
    const put = sup.slot.put.bind(sup.slot);
    sup.slot.put = (f: IngestFrame): void => {
      seen.push({ seq: f.seq, ts: f.ts, at: Date.now() });
      put(f);
    };
    // A consumer that releases every frame, as the analytics runner does.
    sup.slot.subscribe((f) => f.release());
    sup.start();
    return { sup, seen };
  };

  it('stamps frames with the stream clock (200 ms steps at 5 fps), also for a backlog read after the reader stalled', async () => {
    const { sup, seen } = start();
    await waitFor('live', () => sup.health().state === 'live', 15_000);
    await sleep(2500);
    const beforeStall = seen.length;
    stallEventLoop(1500);
    await sleep(3000);
    // Stopping makes ffmpeg flush the frame its fps filter holds, early: not part of the stream's cadence.
    const stoppedAt = seen.length;
    await sup.stop();

    // Skip the first second: a connect can hand over a short burst while the clock anchors.
    const steady = seen.slice(0, stoppedAt).filter((s) => s.seq > (seen[0]?.seq ?? 0) + 5);
    expect(steady.length).toBeGreaterThan(20);
    const steps = steady.slice(1).map((s, i) => (s.ts - steady[i]!.ts) / (s.seq - steady[i]!.seq));
    // A step shorter than 200 ms is the anchor converging: a frame came off the pipe sooner after
    // capture than every one before it (a loaded machine delays the first frames), and the clock
    // never runs ahead of the wall clock. A longer one would be a lost or invented frame.
    for (const step of steps) {
      expect(step).toBeGreaterThan(0);
      expect(step).toBeLessThanOrEqual(202);
    }
    const exact = steps.filter((s) => Math.abs(s - 200) <= 2).length;
    expect(exact / steps.length).toBeGreaterThan(0.8);

    // The stall made a backlog: frames came off the pipe back to back, yet keep their 200 ms steps.
    const after = seen.slice(beforeStall, stoppedAt);
    const burst = after.slice(1).filter((s, i) => s.at - after[i]!.at < 50);
    expect(burst.length).toBeGreaterThanOrEqual(3);
    for (const s of burst) {
      const prev = seen[seen.indexOf(s) - 1]!;
      expect(s.ts - prev.ts).toBeGreaterThanOrEqual(150);
    }
    // Never ahead of the wall clock, except by the millisecond that keeps stamps strictly
    // increasing when two frames are read within one millisecond (both clamped to "now").
    seen.forEach((s, i) => expect(s.ts).toBeLessThanOrEqual(i > 0 ? Math.max(s.at, seen[i - 1]!.ts + 1) : s.at));
  });

  it('keeps the clock strictly increasing across an ffmpeg restart', async () => {
    const { sup, seen } = start();
    await waitFor('live', () => sup.health().state === 'live', 15_000);
    await sleep(1500);
    await sim.stopStream('platform');
    await waitFor('state to leave live', () => sup.health().state !== 'live', 8000);
    const lastBefore = seen.at(-1)!;
    await sim.startStream('platform');
    await waitFor('live again', () => sup.health().state === 'live', 15_000);
    await sleep(1500);
    await sup.stop();
    expect(sup.health().reconnects).toBeGreaterThanOrEqual(1);
    const afterRestart = seen.filter((s) => s.seq > lastBefore.seq);
    expect(afterRestart.length).toBeGreaterThan(3);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.ts).toBeGreaterThan(seen[i - 1]!.ts);
    // The new session is anchored to the wall clock again, not continued from the old one.
    expect(afterRestart[0]!.ts - lastBefore.ts).toBeGreaterThan(500);
  });

  it('reuses frame buffers once the consumer releases them', async () => {
    const { sup, seen } = start();
    await waitFor('live', () => sup.health().state === 'live', 15_000);
    await waitFor('40 frames', () => seen.length >= 40, 20_000);
    await sup.stop();
    const stats = sup.bufferStats();
    expect(stats.allocated).toBeLessThanOrEqual(6);
    expect(stats.reused).toBeGreaterThanOrEqual(seen.length - 6);
  });
});
