import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/node/logger';
import type { Zone } from '../../contract/zones';
import { discoverAssetsDir } from '../../core/config';
import { toGrey } from '../../analytics/pipeline/pipeline';
import { ClipFightRule } from '../../analytics/rules/fight-clip';
import type { RuleEvent } from '../../analytics/rules/types';
import { FightWorker } from '../../analytics/inference/fight-worker';

// The trained fight classifier in its worker thread must decide exactly what it decides on the
// main thread: one real fight clip of the shared set (2 s, played three times; decoded by ffmpeg
// at 5 fps, 320 px wide, as the ingest does), fed to both frame by frame.
const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
const CLIP = assets ? join(assets, 'media', 'fight-surv', 'fight', 'fi024.mp4') : '';
const ffmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const why = !existsSync(CLIP) ? 'media/fight-surv/fight/fi024.mp4 not found' : !ffmpeg ? 'ffmpeg not found' : null;
const W = 320;
const H = 240;
const log = createLogger('silent');

function frames(): Uint8Array[] {
  const r = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-stream_loop', '2', '-i', CLIP, '-vf', `fps=5,scale=${W}:${H}`, '-pix_fmt', 'bgr24', '-f', 'rawvideo', 'pipe:1'],
    { maxBuffer: 1 << 30 },
  );
  const out: Uint8Array[] = [];
  for (let o = 0; o + W * H * 3 <= r.stdout.length; o += W * H * 3) out.push(new Uint8Array(r.stdout.subarray(o, o + W * H * 3)));
  return out;
}

const strip = (e: RuleEvent) => ({ type: e.type, key: e.key, t: e.t, score: e.score, trackIds: e.trackIds });

describe.skipIf(why !== null)(`fight classifier worker${why ? ` [skipped: ${why}]` : ''}`, () => {
  const zone: Zone = { id: 'scene', kind: 'watch' };
  const inZone = new Map([['scene', [3, 4]]]);

  it('raises the same fight alert at the same frame as the rule on the main thread', async () => {
    const fs = frames();
    expect(fs.length).toBeGreaterThanOrEqual(28);
    const local = new ClipFightRule(zone);
    const expected = fs.flatMap((bgr, i) =>
      local.evaluate({
        t: i * 200,
        width: W,
        height: H,
        tracks: [],
        inZone,
        grey: toGrey(bgr, W, H),
        prevGrey: null,
        speedKmh: null,
        objects: [],
      }),
    );
    expect(expected.filter((e) => e.type === 'raise')).toHaveLength(1);

    const worker = new FightWorker(log);
    try {
      worker.setZones('cam-1', [zone, { id: 'door', kind: 'operator' }]);
      expect(worker.watches('cam-1')).toBe(true);
      const got: RuleEvent[] = [];
      for (const [i, bgr] of fs.entries()) {
        const data = bgr.slice().buffer;
        const a = await worker.evaluate('cam-1', { t: i * 200, width: W, height: H, data, inZone });
        expect(data.byteLength).toBe(0); // transferred, not copied
        expect(a.buffer?.byteLength).toBe(W * H * 3); // and handed back for reuse
        got.push(...a.events);
      }
      expect(got.map(strip)).toEqual(expected.map(strip));
      expect(got[0]?.zone.id).toBe('scene');
    } finally {
      await worker.close();
    }
  });

  it('keeps cameras apart, skips cameras without a watch zone, and survives a crashed worker', async () => {
    const fs = frames().slice(0, 30);
    const worker = new FightWorker(log);
    try {
      worker.setZones('a', [zone]);
      worker.setZones('b', [zone]);
      const run = async (key: string, from: number, to: number) => {
        const ev: RuleEvent[] = [];
        for (let i = from; i < to; i++)
          ev.push(...(await worker.evaluate(key, { t: i * 200, width: W, height: H, data: fs[i]!.slice().buffer, inZone })).events);
        return ev;
      };
      // Interleaved cameras: each has its own windows, so both raise as a lone camera would.
      const a = run('a', 0, 30);
      const b = run('b', 0, 30);
      const [ea, eb] = await Promise.all([a, b]);
      expect(ea.filter((e) => e.type === 'raise')).toHaveLength(1);
      expect(eb.map(strip)).toEqual(ea.map(strip));
      // A camera without a watch zone sends nothing to the worker.
      worker.setZones('c', [{ id: 'door', kind: 'operator' }]);
      expect(worker.watches('c')).toBe(false);
      const before = worker.frames;
      expect((await worker.evaluate('c', { t: 0, width: W, height: H, data: fs[0]!.slice().buffer, inZone })).events).toEqual([]);
      expect(worker.frames).toBe(before);
      // A crash: frames answer (no events), a new worker takes the next frame.
      await worker.kill();
      const after = await worker.evaluate('a', { t: 40 * 200, width: W, height: H, data: fs[0]!.slice().buffer, inZone });
      expect(after.events).toEqual([]);
      expect(worker.crashes).toBe(1);
      // The new worker starts the camera's windows afresh and finds the fight again.
      const again = [];
      for (let i = 0; i < 30; i++)
        again.push(
          ...(await worker.evaluate('a', { t: 60_000 + i * 200, width: W, height: H, data: fs[i]!.slice().buffer, inZone })).events,
        );
      expect(again.filter((e) => e.type === 'raise')).toHaveLength(1);
    } finally {
      await worker.close();
    }
  });
});
