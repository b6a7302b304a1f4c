import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Zone } from '../../contract/zones';
import { openVerifiedModel } from '../inference/open';
import { InferencePool } from '../inference/pool';
import { openRegistry } from '../inference/registry';
import { AnalyticsPipeline, type PipelineDetection } from '../pipeline/pipeline';
import { cropClip, scoreCandidates } from './fight-model';
import { TINY_CLIP_FRAMES, writeTinyClipClassifier, writeTinyTemporalClipClassifier } from './tiny-clip-model';
import type { RuleEvent } from './types';

/**
 * The fight model slot end to end through a real InferencePool (onnxruntime-node in a worker
 * thread) with a tiny generated clip classifier: the pipeline in `model` mode proposes the
 * pairs, the model scores their crops, the rule decides.
 */
const W = 320;
const H = 240;
const person = (cx: number, feetY: number, h = 100): PipelineDetection => ({
  label: 'person',
  score: 0.9,
  box: [cx - h / 5, feetY - h, cx + h / 5, feetY],
});
const watch: Zone = { id: 'car', kind: 'watch' };

/** Grey frame; `red` paints the box red (what the tiny model calls a fight). */
function frame(red: [number, number, number, number] | null, level = 230): Uint8Array {
  const buf = new Uint8Array(W * H * 3).fill(100);
  if (red) {
    for (let y = red[1]; y < red[3]; y++) {
      for (let x = red[0]; x < red[2]; x++) {
        const o = (y * W + x) * 3;
        buf[o] = 20;
        buf[o + 1] = 20;
        buf[o + 2] = level;
      }
    }
  }
  return buf;
}

let dir: string;
let pool: InferencePool;
let temporal: InferencePool;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-clip-'));
  const { manifest, path } = writeTinyClipClassifier(dir);
  pool = await InferencePool.start({ manifest, modelPath: path, workers: 1, intraOpThreads: 1, log: pino({ level: 'silent' }) });
  const t = writeTinyTemporalClipClassifier(dir);
  temporal = await InferencePool.start({
    manifest: t.manifest,
    modelPath: t.path,
    workers: 1,
    intraOpThreads: 1,
    log: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await pool?.close();
  await temporal?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(frames: Array<{ dets: PipelineDetection[]; bgr: Uint8Array }>, model = pool): Promise<RuleEvent[]> {
  const p = new AnalyticsPipeline([watch], { fight: 'model' });
  const events: RuleEvent[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    const out = p.process({ t: i * 200, width: W, height: H, bgr: f.bgr, detections: f.dets });
    expect(out.events).toEqual([]); // the heuristic is off in model mode
    const scores = await scoreCandidates(model, 'cam', f.bgr, W, i * 200, p.fightCandidates(out, W, H));
    events.push(...p.applyFightScores(i * 200, scores));
  }
  return events;
}

describe('fight model slot (tiny generated classifier)', () => {
  it('raises a fight when the model scores the close pair high for 6 frames, and clears after', async () => {
    const pair = [person(150, 200), person(180, 200)];
    const frames = [
      ...Array.from({ length: 10 }, () => ({ dets: pair, bgr: frame([100, 80, 230, 220]) })),
      ...Array.from({ length: 20 }, () => ({ dets: pair, bgr: frame(null) })),
    ];
    const ev = await run(frames);
    expect(ev.map((e) => e.type)).toEqual(['raise', 'clear']);
    expect(ev[0]).toMatchObject({ kind: 'fight', trackIds: [1, 2], detail: { method: 'model', label: 'possible fight' } });
    expect(ev[0]!.score).toBeGreaterThan(0.9);
  });

  it('raises nothing when the model scores low, or for people far apart (no candidate pair)', async () => {
    const calm = Array.from({ length: 15 }, () => ({ dets: [person(150, 200), person(180, 200)], bgr: frame(null) }));
    expect(await run(calm)).toEqual([]);
    const apart = Array.from({ length: 15 }, () => ({ dets: [person(40, 200), person(280, 200)], bgr: frame([0, 0, W, H]) }));
    expect(await run(apart)).toEqual([]);
  });
});

describe('fight model slot with a T-frame input (tiny generated [1,3,T,32,32] classifier)', () => {
  const pair = [person(150, 200), person(180, 200)];
  const box: [number, number, number, number] = [100, 80, 230, 220];

  it('stacks the same box of each frame top to bottom, as the pool takes a clip', () => {
    const frames = [frame(null), frame(box)];
    const c = cropClip(frames, W, [100, 80, 110, 90]);
    expect(c).toMatchObject({ width: 10, height: 20 });
    const px = new Uint8Array(c.data);
    expect([...px.subarray(0, 3)]).toEqual([100, 100, 100]); // first frame's crop: grey
    expect([...px.subarray(10 * 10 * 3, 10 * 10 * 3 + 3)]).toEqual([20, 20, 230]); // second's: red
  });

  it('raises while the pair keeps turning redder, and clears once it stops changing', async () => {
    // The red level rises 20 a frame for 11 frames, then stays: a clip of T = 4 frames then
    // spans a rise of 60 (fight logit +1), and none once the level is steady.
    const frames = Array.from({ length: 40 }, (_, i) => ({ dets: pair, bgr: frame(box, 20 + 20 * Math.min(i, 11)) }));
    const ev = await run(frames, temporal);
    expect(ev.map((e) => e.type)).toEqual(['raise', 'clear']);
    expect(ev[0]).toMatchObject({ kind: 'fight', trackIds: [1, 2], detail: { method: 'model' } });
    // The first clip is complete at frame T-1; six high clips are needed to raise.
    expect(ev[0]!.t).toBe((TINY_CLIP_FRAMES - 1 + 5) * 200);
  });

  it('raises nothing for a pair that stays red (each clip has no change), where the one-frame model does', async () => {
    const red = Array.from({ length: 20 }, () => ({ dets: pair, bgr: frame(box) }));
    expect(await run(red, temporal)).toEqual([]);
    expect((await run(red, pool)).map((e) => e.type)).toEqual(['raise']);
  });

  it('passes the verification the console runs before it swaps a fight model in (a T-frame test inference)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'sentinel-clip-verify-'));
    try {
      const { manifest } = writeTinyTemporalClipClassifier(d);
      writeFileSync(join(d, 'tiny-temporal-fight.json'), JSON.stringify(manifest));
      const registry = openRegistry({ manifestDir: d, modelsDir: d, assetsDir: null });
      const r = await openVerifiedModel(
        registry,
        'tiny-temporal-fight',
        'classify-clip',
        { workers: 1, intraOpThreads: 1, maxFrameAgeMs: 5000 },
        pino({ level: 'silent' }),
      );
      expect(r.state).toBe('ready');
      if (r.state === 'ready') await r.pool.close();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('scores nothing until T frames were seen, and a pause restarts the clip', async () => {
    const cands = [{ zoneId: 'car', a: 1, b: 2, box }];
    const got: number[] = [];
    for (let i = 0; i < TINY_CLIP_FRAMES; i++)
      got.push((await scoreCandidates(temporal, 'pause-cam', frame(i === TINY_CLIP_FRAMES - 1 ? box : null), W, i * 200, cands)).length);
    expect(got).toEqual([0, 0, 0, 1]);
    // 5 s later: a new clip, nothing until it has T frames again.
    expect(await scoreCandidates(temporal, 'pause-cam', frame(null), W, 5000, cands)).toEqual([]);
  });
});
