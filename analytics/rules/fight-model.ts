import type { Zone } from '../../contract/zones';
import { clipFrames } from '../inference/manifest';
import type { InferencePool } from '../inference/pool';
import type { Box, Track } from '../tracking/tracker';
import { FIGHT_DEFAULTS } from './fight';
import type { RuleEvent } from './types';

/**
 * The fight model slot: a clip classifier (`task: classify-clip` in its manifest, which also
 * gives its input size, layout and colour order) scores the picture around each pair of
 * people close together in a watch zone; a label matching /fight|violen|assault/ is the
 * fight score. A manifest with a T-frame input (`[1,3,T,H,W]` NCTHW or `[1,T,H,W,3]` NTHWC)
 * gets the pair's box cut from each of the last T analysed frames, so the model sees the
 * motion, not one still; a one-frame manifest gets the current frame's crop. Used instead of the motion heuristic when a model is configured
 * (`analytics.fightModel`, `sentinel analyze --fight-model`). The assets pack has no such
 * model; the tests use a tiny generated one.
 */

export interface FightCandidate {
  zoneId: string;
  a: number;
  b: number;
  /** Union box of the pair in source pixels, padded by a fifth on every side, clipped. */
  box: Box;
}

export interface PairScore {
  zoneId: string;
  a: number;
  b: number;
  score: number;
}

export const FIGHT_LABEL = /fight|violen|assault/i;
/** At most this many pairs are scored per frame (the closest first): bounded model cost. */
export const MAX_CANDIDATES = 3;

/** Pairs of visible people close together in each watch zone, closest first. */
export function fightCandidates(
  zones: readonly Zone[],
  tracks: readonly Track[],
  inZone: ReadonlyMap<string, readonly number[]>,
  width: number,
  height: number,
): FightCandidate[] {
  const out: Array<FightCandidate & { d: number }> = [];
  for (const z of zones) {
    if (z.kind !== 'watch') continue;
    const ids = new Set(inZone.get(z.id) ?? []);
    const people = tracks.filter((t) => t.visible && ids.has(t.id));
    for (let i = 0; i < people.length; i++) {
      for (let j = i + 1; j < people.length; j++) {
        const p = people[i]!;
        const q = people[j]!;
        const h = Math.max(p.box[3] - p.box[1], q.box[3] - q.box[1]);
        const d = Math.hypot((p.box[0] + p.box[2] - q.box[0] - q.box[2]) / 2, (p.box[1] + p.box[3] - q.box[1] - q.box[3]) / 2);
        if (d > FIGHT_DEFAULTS.closeH * h) continue;
        const u: Box = [
          Math.min(p.box[0], q.box[0]),
          Math.min(p.box[1], q.box[1]),
          Math.max(p.box[2], q.box[2]),
          Math.max(p.box[3], q.box[3]),
        ];
        const px = (u[2] - u[0]) / 5;
        const py = (u[3] - u[1]) / 5;
        out.push({
          zoneId: z.id,
          a: Math.min(p.id, q.id),
          b: Math.max(p.id, q.id),
          box: [Math.max(0, u[0] - px), Math.max(0, u[1] - py), Math.min(width, u[2] + px), Math.min(height, u[3] + py)],
          d: d / h,
        });
      }
    }
  }
  return out
    .sort((x, y) => x.d - y.d)
    .slice(0, MAX_CANDIDATES)
    .map(({ d: _d, ...c }) => c);
}

/** Copies a box of a BGR24 frame into a new frame (the classifier's input, resized by the pool). */
export function cropBgr(bgr: Uint8Array, width: number, box: Box): { width: number; height: number; data: ArrayBuffer } {
  const x1 = Math.floor(box[0]);
  const y1 = Math.floor(box[1]);
  const w = Math.max(2, Math.ceil(box[2]) - x1);
  const h = Math.max(2, Math.ceil(box[3]) - y1);
  const out = new Uint8Array(w * h * 3);
  const height = bgr.length / 3 / width;
  for (let y = 0; y < h; y++) {
    const sy = Math.min(height - 1, y1 + y);
    const src = (sy * width + x1) * 3;
    out.set(bgr.subarray(src, src + Math.min(w, width - x1) * 3), y * w * 3);
  }
  return { width: w, height: h, data: out.buffer };
}

/**
 * The same box cut from each frame, stacked top to bottom: the pool's form of a T-frame clip
 * (analytics/inference/manifest.ts, clipFrames).
 */
export function cropClip(frames: readonly Uint8Array[], width: number, box: Box): { width: number; height: number; data: ArrayBuffer } {
  const crops = frames.map((f) => cropBgr(f, width, box));
  const w = crops[0]?.width ?? 0;
  const h = crops[0]?.height ?? 0;
  const out = new Uint8Array(w * h * 3 * crops.length);
  crops.forEach((c, i) => out.set(new Uint8Array(c.data), i * w * h * 3));
  return { width: w, height: h * crops.length, data: out.buffer };
}

/** The last T frames per pool and camera, kept only for T-frame clip models. */
interface FrameHistory {
  frames: Uint8Array[];
  width: number;
  height: number;
  lastT: number;
}
const histories = new WeakMap<InferencePool, Map<string, FrameHistory>>();
/** A longer pause between analysed frames than this starts the clip afresh (the frames would not be a clip). */
const CLIP_GAP_MS = 2000;

/** Adds a frame to the camera's history; returns the last T frames once there are T of them. */
function clipOf(pool: InferencePool, cameraId: string, bgr: Uint8Array, width: number, t: number, T: number): Uint8Array[] | null {
  let byCamera = histories.get(pool);
  if (!byCamera) histories.set(pool, (byCamera = new Map()));
  const height = bgr.length / 3 / width;
  let h = byCamera.get(cameraId);
  if (!h || h.width !== width || h.height !== height || t <= h.lastT || t - h.lastT > CLIP_GAP_MS) {
    h = { frames: [], width, height, lastT: t };
    byCamera.set(cameraId, h);
  }
  // A copy: the caller may reuse the frame's buffer for the next frame.
  h.frames.push(bgr.slice());
  h.lastT = t;
  if (h.frames.length > T) h.frames.shift();
  return h.frames.length === T ? h.frames : null;
}

/**
 * Scores each candidate with the classifier; a failed or dropped frame scores nothing. With
 * a T-frame model nothing is scored until T frames have been seen (a pause restarts that).
 */
export async function scoreCandidates(
  pool: InferencePool,
  cameraId: string,
  bgr: Uint8Array,
  width: number,
  t: number,
  candidates: readonly FightCandidate[],
): Promise<PairScore[]> {
  const T = clipFrames(pool.manifest);
  const clip = T > 1 ? clipOf(pool, cameraId, bgr, width, t, T) : null;
  if (T > 1 && !clip) return [];
  const out: PairScore[] = [];
  for (const c of candidates) {
    const crop = clip ? cropClip(clip, width, c.box) : cropBgr(bgr, width, c.box);
    const r = await pool.submit({ cameraId: `${cameraId}#fight`, width: crop.width, height: crop.height, data: crop.data, ts: t });
    if (r.status !== 'ok' || !r.scores) continue;
    const s = Math.max(0, ...r.scores.filter((x) => FIGHT_LABEL.test(x.label)).map((x) => x.score));
    out.push({ zoneId: c.zoneId, a: c.a, b: c.b, score: s });
  }
  return out;
}

/**
 * The rule over model scores, with the heuristic's hysteresis: a pair scoring at or above
 * `threshold` in `fightFrames` of its last `fightFrames + 2` scored frames raises; 3 s without
 * a high score clears; then the zone is quiet for its cooldown.
 */
export class ModelFightRule {
  private readonly windows = new Map<string, { hits: boolean[]; scores: number[]; seenAt: number }>();
  private active = false;
  private lastHigh = -Infinity;
  private cooldownUntil = -Infinity;
  private peak = 0;
  private trackIds = new Set<number>();
  private readonly frames: number;
  private readonly cooldownMs: number;

  constructor(
    readonly zone: Zone,
    private readonly threshold = 0.5,
  ) {
    this.frames = zone.rules?.fightFrames ?? FIGHT_DEFAULTS.frames;
    this.cooldownMs = (zone.rules?.cooldownS ?? FIGHT_DEFAULTS.cooldownS) * 1000;
  }

  apply(t: number, scores: readonly PairScore[]): RuleEvent[] {
    const key = `fight:${this.zone.id}`;
    let best: { score: number; ids: number[] } | null = null;
    for (const s of scores) {
      if (s.zoneId !== this.zone.id) continue;
      const k = `${s.a}-${s.b}`;
      const w = this.windows.get(k) ?? { hits: [], scores: [], seenAt: t };
      this.windows.set(k, w);
      w.seenAt = t;
      w.hits.push(s.score >= this.threshold);
      w.scores.push(s.score);
      if (w.hits.length > this.frames + 2) {
        w.hits.shift();
        w.scores.shift();
      }
      if (s.score >= this.threshold) this.lastHigh = t;
      if (w.hits.filter(Boolean).length >= this.frames) {
        const mean = w.scores.reduce((a, v) => a + v, 0) / w.scores.length;
        if (!best || mean > best.score) best = { score: mean, ids: [s.a, s.b] };
      }
    }
    for (const [k, w] of this.windows) if (t - w.seenAt > 2000) this.windows.delete(k);
    const detail = { label: 'possible fight', frames: this.frames, method: 'model' };
    if (!this.active) {
      if (best && t >= this.cooldownUntil) {
        this.active = true;
        this.peak = best.score;
        this.trackIds = new Set(best.ids);
        return [{ type: 'raise', key, kind: 'fight', zone: this.zone, t, score: Math.min(1, best.score), trackIds: best.ids, detail }];
      }
      return [];
    }
    if (best) {
      this.peak = Math.max(this.peak, best.score);
      for (const id of best.ids) this.trackIds.add(id);
    }
    if (t - this.lastHigh >= FIGHT_DEFAULTS.clearAfterMs) {
      this.active = false;
      this.cooldownUntil = t + this.cooldownMs;
      return [
        { type: 'clear', key, kind: 'fight', zone: this.zone, t, score: Math.min(1, this.peak), trackIds: [...this.trackIds], detail },
      ];
    }
    return [];
  }
}
