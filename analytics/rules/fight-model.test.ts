import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Zone } from '../../contract/zones';
import { InferencePool } from '../inference/pool';
import { AnalyticsPipeline, type PipelineDetection } from '../pipeline/pipeline';
import { scoreCandidates } from './fight-model';
import { writeTinyClipClassifier } from './tiny-clip-model';
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
function frame(red: [number, number, number, number] | null): Uint8Array {
  const buf = new Uint8Array(W * H * 3).fill(100);
  if (red) {
    for (let y = red[1]; y < red[3]; y++) {
      for (let x = red[0]; x < red[2]; x++) {
        const o = (y * W + x) * 3;
        buf[o] = 20;
        buf[o + 1] = 20;
        buf[o + 2] = 230;
      }
    }
  }
  return buf;
}

let dir: string;
let pool: InferencePool;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-clip-'));
  const { manifest, path } = writeTinyClipClassifier(dir);
  pool = await InferencePool.start({ manifest, modelPath: path, workers: 1, intraOpThreads: 1, log: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(frames: Array<{ dets: PipelineDetection[]; bgr: Uint8Array }>): Promise<RuleEvent[]> {
  const p = new AnalyticsPipeline([watch], { fight: 'model' });
  const events: RuleEvent[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    const out = p.process({ t: i * 200, width: W, height: H, bgr: f.bgr, detections: f.dets });
    expect(out.events).toEqual([]); // the heuristic is off in model mode
    const scores = await scoreCandidates(pool, 'cam', f.bgr, W, i * 200, p.fightCandidates(out, W, H));
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
