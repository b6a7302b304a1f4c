/**
 * `node bin/run-ts.js tools/fight-experiments.ts NAME`: the fight-classifier variants that
 * were tried and not shipped (docs/analytics.md, "Fight classifier: what was tried"), kept so
 * their figures can be reproduced. Same clips, same 5 folds grouped by source video (seed 7),
 * same per-clip weighting and k-of-n clip score as tools/train-fight.ts. Each line gives the
 * AUC, the pooled out-of-fold best accuracy (threshold chosen on the scores it is judged on:
 * optimistic) and, where cheap enough, the nested accuracy (threshold chosen by a grouped
 * 4-fold CV inside each outer training set).
 *
 * NAME: `linear` (L2, smoothing by mean), `mlp` (one hidden layer, tanh, Adam), `person`
 * (person-box features from YOLOX-nano tracks, see below), `context` (features averaged over
 * the previous windows), `regions` (the window scored in five sub-regions, max taken), `incoherence` (local flow
 * structure, over eight fold seeds; see incoherenceExperiment), `decision` (how window scores
 * become an alert: k of n windows, an exponentially smoothed score; see decisionExperiment),
 * `augment` (training on phase-offset 5 fps samplings of a 25 fps decode and on mirrored
 * frames, and test-time averaging over phases; see augmentExperiment).
 *
 * `person` runs `sentinel analyze`'s own path (runOffline: VideoSource at 5 fps, YOLOX-nano,
 * motion gate, tracker) over every clip once and caches the tracks' boxes under
 * $TMPDIR/sentinel-fight-cache; features per window: people and close pairs (centre distance
 * under 0.9 body heights), the share of frame-difference energy inside person boxes, the
 * energy per pixel inside person boxes and inside close pairs' union boxes, the boxes' area
 * share, and box size and position change (best-IoU match between frames).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { InferencePool, openRegistry, requireModel } from '../analytics/inference';
import { runOffline } from '../analytics/pipeline/offline';
import { VideoSource } from '../analytics/pipeline/source';
import {
  confusion,
  groupedFolds,
  rng,
  roc,
  scoreWindow,
  smoothedScore,
  standardise,
  trainLogistic,
} from '../analytics/rules/fight-classifier';
import { loadClips, type Clip } from '../analytics/rules/fight-data';
import {
  BLOCK,
  clipFeatures,
  downsample,
  FEATURE_H,
  FEATURE_NAMES,
  FEATURE_W,
  pairStats,
  windowFeatures,
  type PairStats,
} from '../analytics/rules/fight-features';
import { discoverAssetsDir, loadConfig } from '../core/config';

const T = 6;
const FPS = 5;
const SEED = 7;
/** The seed of the grouped fold assignment in evaluate/oof (`incoherence` repeats the CV over several). */
let foldSeed = SEED;
const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
if (!assets) throw new Error('no assets pack: set SENTINEL_ASSETS');
const dir = join(assets, 'media', 'fight-surv');
const cacheDir = join(tmpdir(), 'sentinel-fight-cache');
mkdirSync(cacheDir, { recursive: true });
const clips: Clip[] = await loadClips(dir, FPS);

interface Item {
  label: number;
  source: string;
  ws: number[][];
}
const windowsOf = (frames: readonly Uint8Array[]): number[][] => {
  const out: number[][] = [];
  for (let s = 0; s + T <= frames.length; s++) out.push(clipFeatures(frames.slice(s, s + T)));
  return out;
};
const motion: Item[] = clips.map((c) => ({ label: c.label === 'fight' ? 1 : 0, source: c.source, ws: windowsOf(c.frames) }));
if (motion.some((d) => d.ws.length < 2)) throw new Error('a clip is shorter than two windows');
let data = motion;
const labels = motion.map((d) => d.label);
const base = { version: 1 as const, features: [...FEATURE_NAMES], frames: T, fps: FPS };

type Scorer = (x: readonly number[]) => number;
type Trainer = (idx: readonly number[]) => Scorer;
type Agg = (ws: readonly number[]) => number;

function samples(idx: readonly number[]): { X: number[][]; y: number[]; w: number[] } {
  const X: number[][] = [];
  const y: number[] = [];
  const w: number[] = [];
  for (const i of idx) {
    const d = data[i]!;
    for (const x of d.ws) {
      X.push(x);
      y.push(d.label);
      w.push(1 / d.ws.length);
    }
  }
  return { X, y, w };
}

const logistic =
  (l2: number): Trainer =>
  (idx) => {
    const { X, y, w } = samples(idx);
    const m = trainLogistic(X, y, base, { sampleWeight: w, l2, epochs: 800 });
    return (x) => scoreWindow(m, x);
  };

/** One hidden layer (tanh) on standardised log inputs, full-batch Adam, L2 on the weights. */
const mlp =
  (hidden: number, l2: number, epochs: number): Trainer =>
  (idx) => {
    const { X: X0, y, w } = samples(idx);
    const logX = (x: readonly number[]): number[] => x.map((v) => Math.log(Math.max(0, v) + 0.001));
    const { mean, std } = standardise(X0.map(logX));
    const norm = (x: readonly number[]): number[] => logX(x).map((v, i) => (v - mean[i]!) / std[i]!);
    const X = X0.map(norm);
    const n = mean.length;
    const r = rng(SEED);
    // Parameters in one array: W1 (hidden x n), b1 (hidden), W2 (hidden), b2.
    const P = hidden * n + 2 * hidden + 1;
    const p = new Float64Array(P);
    for (let j = 0; j < hidden * n; j++) p[j] = (r() - 0.5) * 2 * Math.sqrt(1 / n);
    for (let j = 0; j < hidden; j++) p[hidden * n + hidden + j] = (r() - 0.5) * 2 * Math.sqrt(1 / hidden);
    const o1 = hidden * n;
    const o2 = o1 + hidden;
    const forward = (x: readonly number[], h: Float64Array): number => {
      let s = p[P - 1]!;
      for (let j = 0; j < hidden; j++) {
        let a = p[o1 + j]!;
        for (let i = 0; i < n; i++) a += p[j * n + i]! * x[i]!;
        h[j] = Math.tanh(a);
        s += p[o2 + j]! * h[j]!;
      }
      return s;
    };
    const m1 = new Float64Array(P);
    const v1 = new Float64Array(P);
    const wsum = w.reduce((a, b) => a + b, 0);
    const h = new Float64Array(hidden);
    for (let e = 1; e <= epochs; e++) {
      const g = new Float64Array(P);
      for (let k = 0; k < X.length; k++) {
        const x = X[k]!;
        const err = (1 / (1 + Math.exp(-forward(x, h))) - y[k]!) * (w[k]! / wsum);
        for (let j = 0; j < hidden; j++) {
          g[o2 + j]! += err * h[j]!;
          const dh = err * p[o2 + j]! * (1 - h[j]! * h[j]!);
          g[o1 + j]! += dh;
          for (let i = 0; i < n; i++) g[j * n + i]! += dh * x[i]!;
        }
        g[P - 1]! += err;
      }
      for (let q = 0; q < P; q++) {
        const weight = q < o1 || (q >= o2 && q < P - 1);
        const gq = g[q]! + (weight ? l2 * p[q]! : 0);
        m1[q] = 0.9 * m1[q]! + 0.1 * gq;
        v1[q] = 0.999 * v1[q]! + 0.001 * gq * gq;
        p[q] = p[q]! - (0.01 * (m1[q]! / (1 - 0.9 ** e))) / (Math.sqrt(v1[q]! / (1 - 0.999 ** e)) + 1e-8);
      }
    }
    return (x) => 1 / (1 + Math.exp(-forward(norm(x), new Float64Array(hidden))));
  };

const kOfN =
  (k: number, n: number): Agg =>
  (ws) =>
    smoothedScore(ws, k, n);
const meanOf =
  (n: number): Agg =>
  (ws) => {
    let best = 0;
    for (let e = n - 1; e < ws.length; e++) best = Math.max(best, ws.slice(e - n + 1, e + 1).reduce((a, b) => a + b, 0) / n);
    return best;
  };

function bestThreshold(scores: readonly number[], ys: readonly number[]): number {
  let best = { t: 0.5, a: -1 };
  for (const pt of roc(scores, ys).points) {
    if (!Number.isFinite(pt.threshold)) continue;
    const a = confusion(scores, ys, pt.threshold).accuracy;
    if (a > best.a || (a === best.a && pt.threshold > best.t)) best = { t: pt.threshold, a };
  }
  return best.t;
}

/** A clip's score from a trained window scorer (default: agg over its windows). */
type ClipScore = (i: number, s: Scorer) => number;

/** Out-of-fold clip scores of the clips `idx` with k folds grouped by source. */
function oof(idx: readonly number[], train: Trainer, agg: Agg, k: number, clip?: ClipScore): number[] {
  const folds = groupedFolds(
    idx.map((i) => data[i]!.source),
    k,
    foldSeed,
  );
  const out = new Array<number>(idx.length);
  for (let f = 0; f < k; f++) {
    const s = train(idx.filter((_, j) => folds[j] !== f));
    idx.forEach((i, j) => {
      if (folds[j] === f) out[j] = clip ? clip(i, s) : agg(data[i]!.ws.map(s));
    });
  }
  return out;
}

/**
 * One line of figures; `score` maps a clip and a scorer to window scores (default: its
 * windows); `clip`, when given, replaces the whole clip score (agg included), in the inner
 * cross-validation of the nested threshold too, so that threshold is chosen on scores made the
 * same way as the ones it is applied to.
 */
function evaluate(
  name: string,
  train: Trainer,
  agg: Agg,
  nested: boolean,
  score?: (i: number, s: Scorer) => number[],
  clip?: ClipScore,
): { hits: boolean[]; scores: number[]; auc: number; pooled: number } {
  const all = data.map((_, i) => i);
  const outer = groupedFolds(
    data.map((d) => d.source),
    5,
    foldSeed,
  );
  const scores = new Array<number>(data.length);
  const hits = new Array<boolean>(data.length);
  for (let f = 0; f < 5; f++) {
    const tr = all.filter((i) => outer[i] !== f);
    const s = train(tr);
    const thr = nested
      ? bestThreshold(
          oof(tr, train, agg, 4, clip),
          tr.map((i) => labels[i]!),
        )
      : NaN;
    for (const i of all.filter((c) => outer[c] === f)) {
      scores[i] = clip ? clip(i, s) : agg(score ? score(i, s) : data[i]!.ws.map(s));
      hits[i] = (scores[i]! >= thr ? 1 : 0) === labels[i];
    }
  }
  const auc = roc(scores, labels).auc;
  const pooled = confusion(scores, labels, bestThreshold(scores, labels)).accuracy;
  const nestedAcc = nested ? (hits.filter(Boolean).length / hits.length).toFixed(3) : '  -  ';
  process.stdout.write(`${name.padEnd(44)} AUC ${auc.toFixed(3)}  pooled best accuracy ${pooled.toFixed(3)}  nested ${nestedAcc}\n`);
  return { hits, scores, auc, pooled };
}

/** Tracks' boxes (0..1) per analysed frame of every clip, as `sentinel analyze` finds them; cached. */
async function clipTracks(
  items: ReadonlyArray<{ key: string; file: string }> = clips.map((c) => ({ key: `${c.label}/${c.clip}`, file: c.file })),
  cacheName = 'experiments-tracks-v1.json',
): Promise<Record<string, number[][][]>> {
  const file = join(cacheDir, cacheName);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number[][][]>;
  const config = loadConfig({ assetsDir: assets ?? undefined });
  const registry = openRegistry({ modelsDir: config.inference.modelsDir, assetsDir: config.assetsDir });
  const { manifest, path } = requireModel(registry, config.inference.defaultModel);
  const log = pino({ level: 'warn' });
  const pool = await InferencePool.start({ manifest, modelPath: path, workers: 1, intraOpThreads: 2, maxFrameAgeMs: 60_000, log });
  const out: Record<string, number[][][]> = {};
  try {
    for (const c of items) {
      const source = await VideoSource.open(c.file, { fps: FPS, maxWidth: config.ingest.maxWidth, maxHeight: config.ingest.maxHeight });
      const frames: number[][][] = [];
      await runOffline({
        source,
        zones: [{ id: 'all', kind: 'watch' }],
        pool,
        model: manifest.name,
        fps: FPS,
        scoreThreshold: 0.2,
        pipeline: { fight: 'off' },
        onLine: (l) => {
          if (l.type === 'frame') frames.push(l.tracks.map((t) => [...t.box]));
        },
      });
      out[c.key] = frames;
    }
  } finally {
    await pool.close();
  }
  writeFileSync(file, JSON.stringify(out));
  return out;
}

const inBox = (mask: Uint8Array, b: readonly number[]): number => {
  let n = 0;
  for (let y = Math.max(0, Math.floor(b[1]!)); y < Math.min(FEATURE_H, Math.ceil(b[3]!)); y++)
    for (let x = Math.max(0, Math.floor(b[0]!)); x < Math.min(FEATURE_W, Math.ceil(b[2]!)); x++) {
      mask[y * FEATURE_W + x] = 1;
      n++;
    }
  return n;
};

/** Person-box features of one pair of consecutive frames (boxes in small-frame pixels). */
function personPair(a: Uint8Array, b: Uint8Array, boxes: number[][], prev: number[][]): number[] {
  const mask = new Uint8Array(FEATURE_W * FEATURE_H);
  const pairMask = new Uint8Array(FEATURE_W * FEATURE_H);
  for (const bx of boxes) inBox(mask, bx);
  let pairs = 0;
  for (let p = 0; p < boxes.length; p++)
    for (let q = p + 1; q < boxes.length; q++) {
      const P = boxes[p]!;
      const Q = boxes[q]!;
      const h = Math.max(P[3]! - P[1]!, Q[3]! - Q[1]!);
      if (Math.hypot((P[0]! + P[2]! - Q[0]! - Q[2]!) / 2, (P[1]! + P[3]! - Q[1]! - Q[3]!) / 2) > 0.9 * h) continue;
      pairs++;
      inBox(pairMask, [Math.min(P[0]!, Q[0]!), Math.min(P[1]!, Q[1]!), Math.max(P[2]!, Q[2]!), Math.max(P[3]!, Q[3]!)]);
    }
  let eAll = 0;
  let eIn = 0;
  let nIn = 0;
  let ePair = 0;
  let nPair = 0;
  for (let k = 0; k < mask.length; k++) {
    const d = Math.abs(a[k]! - b[k]!) / 255;
    eAll += d;
    if (mask[k]) {
      eIn += d;
      nIn++;
    }
    if (pairMask[k]) {
      ePair += d;
      nPair++;
    }
  }
  let dSize = 0;
  let dPos = 0;
  for (const bx of boxes) {
    let best = 0;
    let bp: number[] | null = null;
    for (const pv of prev) {
      const ix = Math.max(0, Math.min(bx[2]!, pv[2]!) - Math.max(bx[0]!, pv[0]!));
      const iy = Math.max(0, Math.min(bx[3]!, pv[3]!) - Math.max(bx[1]!, pv[1]!));
      const inter = ix * iy;
      const iou = inter / ((bx[2]! - bx[0]!) * (bx[3]! - bx[1]!) + (pv[2]! - pv[0]!) * (pv[3]! - pv[1]!) - inter);
      if (iou > best) {
        best = iou;
        bp = pv;
      }
    }
    if (!bp) continue;
    const h = bx[3]! - bx[1]!;
    dSize += Math.abs((bx[2]! - bx[0]!) / (bp[2]! - bp[0]!) - 1) + Math.abs(h / (bp[3]! - bp[1]!) - 1);
    dPos += Math.hypot((bx[0]! + bx[2]! - bp[0]! - bp[2]!) / 2, (bx[1]! + bx[3]! - bp[1]! - bp[3]!) / 2) / h;
  }
  const nb = Math.max(1, boxes.length);
  return [
    boxes.length,
    pairs,
    eAll > 0 ? eIn / eAll : 0,
    nIn ? eIn / nIn : 0,
    nPair ? ePair / nPair : 0,
    nIn / mask.length,
    dSize / nb,
    dPos / nb,
  ];
}

/**
 * How window scores become an alert, for the `decision` experiment (not shipped: the rule keeps
 * k of n, docs/analytics.md says why). `k-of-n`: at least k of the last n window scores at or
 * above `threshold`, sustained while windows stay at or above it; `ema`: e = alpha * score +
 * (1 - alpha) * e from the first score, raising at `on`, sustained while e >= `off`.
 */
type Decision = { kind: 'k-of-n'; k: number; n: number; threshold: number } | { kind: 'ema'; alpha: number; on: number; off: number };

class FightDecider {
  private highs: boolean[] = [];
  private ema: number | null = null;
  private raised = false;
  constructor(readonly decision: Decision) {}
  push(score: number): { fight: boolean; sustain: boolean } {
    const d = this.decision;
    if (d.kind === 'k-of-n') {
      const high = score >= d.threshold;
      this.highs.push(high);
      if (this.highs.length > d.n) this.highs.shift();
      return { fight: this.highs.filter(Boolean).length >= d.k, sustain: high };
    }
    this.ema = this.ema === null ? score : d.alpha * score + (1 - d.alpha) * this.ema;
    // Hysteresis: once the smoothed score reached `on`, it stays "fight" until it falls under `off`.
    this.raised = this.raised ? this.ema >= d.off : this.ema >= d.on;
    return { fight: this.raised, sustain: this.raised };
  }
}

/**
 * The lowest raise threshold at which this run of window scores raises, so "raises on this
 * clip" is "statistic >= threshold" and one pass gives a whole ROC: for k of n the k-th highest
 * score of the best span of n (smoothedScore), for ema the highest smoothed score.
 */
function decisionStatistic(
  d: { kind: 'k-of-n'; k: number; n: number } | { kind: 'ema'; alpha: number },
  scores: readonly number[],
): number {
  if (d.kind === 'k-of-n') return smoothedScore(scores, d.k, d.n);
  let best = 0;
  let e: number | null = null;
  for (const s of scores) {
    e = e === null ? s : d.alpha * s + (1 - d.alpha) * e;
    best = Math.max(best, e);
  }
  return best;
}

const which = process.argv[2];
switch (which) {
  case 'linear':
    for (const l2 of [0.005, 0.02, 0.08]) evaluate(`logistic, L2 ${l2}, 3 of 5`, logistic(l2), kOfN(3, 5), true);
    evaluate('logistic, L2 0.02, mean of 5 windows', logistic(0.02), meanOf(5), true);
    evaluate('logistic, L2 0.02, mean of 3 windows', logistic(0.02), meanOf(3), true);
    break;
  case 'mlp':
    for (const [h, l2] of [
      [8, 0.01],
      [8, 0.05],
      [16, 0.02],
    ] as const)
      evaluate(`MLP ${h} hidden, L2 ${l2}, 3 of 5`, mlp(h, l2, 400), kOfN(3, 5), false);
    break;
  case 'person': {
    const tracks = await clipTracks();
    const scale = (b: readonly number[]): number[] => [b[0]! * FEATURE_W, b[1]! * FEATURE_H, b[2]! * FEATURE_W, b[3]! * FEATURE_H];
    const person = clips.map((c) => {
      const tb = tracks[`${c.label}/${c.clip}`]!;
      if (tb.length !== c.frames.length) throw new Error(`${c.clip}: ${tb.length} tracked frames, ${c.frames.length} decoded`);
      const ws: number[][] = [];
      for (let s = 0; s + T <= c.frames.length; s++) {
        const f: number[][] = [];
        for (let i = s + 1; i < s + T; i++) f.push(personPair(c.frames[i - 1]!, c.frames[i]!, tb[i]!.map(scale), tb[i - 1]!.map(scale)));
        const mean = f[0]!.map((_, j) => f.reduce((a, x) => a + x[j]!, 0) / f.length);
        const max = f[0]!.map((_, j) => Math.max(...f.map((x) => x[j]!)));
        ws.push([...mean, max[3]!, max[4]!, max[6]!, max[7]!]);
      }
      return ws;
    });
    const people = tracks && Object.values(tracks).flat();
    const perFrame = people.map((b) => b.length);
    process.stdout.write(
      `tracked people per frame: mean ${(perFrame.reduce((a, b) => a + b, 0) / perFrame.length).toFixed(2)}, frames with 2 or more ${((perFrame.filter((n) => n >= 2).length / perFrame.length) * 100).toFixed(0)} %\n`,
    );
    data = motion.map((d, i) => ({ ...d, ws: person[i]! }));
    evaluate('person-box features only, logistic, 3 of 5', logistic(0.02), kOfN(3, 5), true);
    data = motion.map((d, i) => ({ ...d, ws: d.ws.map((x, j) => [...x, ...person[i]![j]!]) }));
    for (const l2 of [0.005, 0.02, 0.05]) evaluate(`motion + person-box, L2 ${l2}, 3 of 5`, logistic(l2), kOfN(3, 5), true);
    evaluate('motion + person-box, MLP 8 hidden, 3 of 5', mlp(8, 0.01, 400), kOfN(3, 5), false);
    break;
  }
  case 'context':
    for (const n of [2, 3]) {
      data = motion.map((d) => ({
        ...d,
        ws: d.ws.slice(n - 1).map((_, j) => {
          const span = d.ws.slice(j, j + n);
          return span[0]!.map((_, f) => span.reduce((a, x) => a + x[f]!, 0) / n).concat(d.ws[j + n - 1]!);
        }),
      }));
      for (const [k, m] of [
        [2, 3],
        [3, 5],
      ] as const)
        evaluate(`mean of last ${n} windows + current, ${k} of ${m}`, logistic(0.02), kOfN(k, m), true);
    }
    break;
  case 'regions': {
    // Five overlapping sub-regions (two thirds of each side), each resampled to the feature size.
    const rois = [
      [0, 0, 54, 40],
      [26, 0, 80, 40],
      [0, 20, 54, 60],
      [26, 20, 80, 60],
      [13, 10, 67, 50],
    ] as const;
    const regions = clips.map((c) => rois.map((r) => windowsOf(c.frames.map((f) => downsample(f, FEATURE_W, FEATURE_H, r)))));
    const maxOver = (i: number, s: Scorer): number[] => data[i]!.ws.map((x, j) => Math.max(s(x), ...regions[i]!.map((q) => s(q[j]!))));
    evaluate('whole-frame model, max over regions', logistic(0.02), kOfN(3, 5), false, maxOver);
    // Trained on the regions too, each labelled as its clip (a fight may be in one region only).
    const withRegions: Trainer = (idx) => {
      const X: number[][] = [];
      const y: number[] = [];
      const w: number[] = [];
      for (const i of idx) {
        const sets = [motion[i]!.ws, ...regions[i]!];
        for (const ws of sets)
          for (const x of ws) {
            X.push(x);
            y.push(motion[i]!.label);
            w.push(1 / ws.length / sets.length);
          }
      }
      const m = trainLogistic(X, y, base, { sampleWeight: w, l2: 0.02, epochs: 800 });
      return (x) => scoreWindow(m, x);
    };
    evaluate('region-trained model, max over regions', withRegions, kOfN(3, 5), false, maxOver);
    evaluate('region-trained model, whole frame', withRegions, kOfN(3, 5), false);
    break;
  }
  case 'incoherence':
    incoherenceExperiment();
    break;
  case 'decision':
    await decisionExperiment();
    break;
  case 'augment':
    await augmentExperiment();
    break;
  default:
    process.stderr.write(
      'usage: node bin/run-ts.js tools/fight-experiments.ts linear|mlp|person|context|regions|incoherence|decision|augment\n',
    );
    process.exit(2);
}

/**
 * Local flow structure of one frame pair: neighbouring moving blocks of one walking body move
 * together, limbs and bodies in a fight pull neighbours every way. Incoherence of a pair of
 * blocks is |va - vb| / (|va| + |vb|) (0 = same motion, 1 = opposite); returned: its mean over
 * 4-neighbour pairs of moving blocks, the share of moving blocks in the largest 4-connected
 * group, and the incoherence inside that group.
 */
function localFlow(p: PairStats): [number, number, number] {
  const BX = Math.floor(FEATURE_W / BLOCK);
  const n = p.vx.length;
  const moving = (b: number): boolean => p.vx[b] !== 0 || p.vy[b] !== 0;
  const inc = (a: number, b: number): number =>
    Math.hypot(p.vx[a]! - p.vx[b]!, p.vy[a]! - p.vy[b]!) / (Math.hypot(p.vx[a]!, p.vy[a]!) + Math.hypot(p.vx[b]!, p.vy[b]!));
  const pairsOf = (keep: (b: number) => boolean): number[] => {
    const out: number[] = [];
    for (let b = 0; b < n; b++) {
      if (!keep(b)) continue;
      if ((b % BX) + 1 < BX && keep(b + 1)) out.push(inc(b, b + 1));
      if (b + BX < n && keep(b + BX)) out.push(inc(b, b + BX));
    }
    return out;
  };
  const label = new Int32Array(n).fill(-1);
  let best = { label: -1, size: 0 };
  let count = 0;
  for (let b = 0, next = 0; b < n; b++) {
    if (!moving(b) || label[b]! >= 0) continue;
    const stack = [b];
    label[b] = next;
    let size = 0;
    while (stack.length) {
      const c = stack.pop()!;
      size++;
      count++;
      for (const d of [c % BX > 0 ? c - 1 : -1, (c % BX) + 1 < BX ? c + 1 : -1, c - BX, c + BX])
        if (d >= 0 && d < n && label[d]! < 0 && moving(d)) {
          label[d] = next;
          stack.push(d);
        }
    }
    if (size > best.size) best = { label: next, size };
    next++;
  }
  const avg = (v: number[]): number => (v.length ? v.reduce((a, x) => a + x, 0) / v.length : 0);
  return [avg(pairsOf(moving)), count ? best.size / count : 0, avg(pairsOf((b) => label[b] === best.label && best.label >= 0))];
}

/**
 * `incoherence`: the 32 shipped figures plus four of local flow structure per window (mean and
 * max of localFlow's incoherence, mean largest-group share, mean in-group incoherence), against
 * the 32 alone, each over 8 grouped fold assignments (fold seeds 1-8; the shipped report uses
 * 7): one seed's nested accuracy moves by a clip or two with the fold split. Logistic, L2 0.005,
 * 2 of 2 (the shipped model). Per line: AUC, pooled and nested accuracy, and the recall where
 * at most 2 of the 59 non-fight clips (3.4 %) score above the threshold, the region the alert
 * threshold lives in.
 */
function incoherenceExperiment(): void {
  const plain = motion;
  const withLocal = clips.map((c, i) => {
    const pairs: PairStats[] = [];
    for (let f = 1; f < c.frames.length; f++) pairs.push(pairStats(c.frames[f - 1]!, c.frames[f]!));
    const ws: number[][] = [];
    for (let s = 0; s + T <= c.frames.length; s++) {
      const span = pairs.slice(s, s + T - 1);
      const lf = span.map(localFlow);
      const col = (j: number): number[] => lf.map((v) => v[j]!);
      const mean = (v: number[]): number => v.reduce((a, x) => a + x, 0) / v.length;
      ws.push([...windowFeatures(span), mean(col(0)), Math.max(...col(0)), mean(col(1)), mean(col(2))]);
    }
    return { ...plain[i]!, ws };
  });
  const recallAt = (scores: readonly number[], maxFp: number): number => {
    const neg = scores.filter((_, i) => labels[i] === 0).sort((a, b) => b - a);
    const t = neg[maxFp]!; // strictly above the (maxFp+1)-th highest non-fight score
    const pos = scores.filter((_, i) => labels[i] === 1);
    return pos.filter((x) => x > t).length / pos.length;
  };
  for (const [name, set] of [
    ['32 shipped figures', plain],
    ['+ 4 local-flow figures', withLocal],
  ] as const) {
    data = set;
    const rows: Array<{ auc: number; pooled: number; nested: number; recall: number }> = [];
    for (let seed = 1; seed <= 8; seed++) {
      foldSeed = seed;
      const r = evaluate(`${name}, fold seed ${seed}`, logistic(0.005), kOfN(2, 2), true);
      rows.push({ auc: r.auc, pooled: r.pooled, nested: r.hits.filter(Boolean).length / r.hits.length, recall: recallAt(r.scores, 2) });
    }
    const m = (k: keyof (typeof rows)[number]): string => (rows.reduce((a, x) => a + x[k], 0) / rows.length).toFixed(3);
    process.stdout.write(
      `${name}: mean of 8 fold seeds: AUC ${m('auc')}, pooled ${m('pooled')}, nested ${m('nested')}, recall at <= 2 of 59 non-fight ${m('recall')}\n`,
    );
  }
  foldSeed = SEED;
  data = motion;
}

/**
 * `decision`: the same out-of-fold window scores (logistic, L2 0.02, the shipped model type)
 * turned into alerts by different decisions (Decision below). For each
 * decision the raise threshold is the one that keeps the non-fight clips free of alerts (the
 * midpoint between the highest non-fight statistic and the next fight one above it). Nested:
 * inside each outer training set a grouped 4-fold CV picks the decision and its threshold, which
 * are then applied to the outer fold, so neither saw the clips they are judged on. Then the
 * shipped model (trained on every clip) over the normal footage with the decision chosen on
 * all out-of-fold clips, alerts counted the way the rule counts them (3 s clear, 30 s cooldown).
 */
async function decisionExperiment(): Promise<void> {
  const { defaultFightModel } = await import('../analytics/rules/fight-clip');
  const { smallFrames } = await import('../analytics/rules/fight-data');
  type Family = { kind: 'k-of-n'; k: number; n: number } | { kind: 'ema'; alpha: number };
  const families: Family[] = [
    { kind: 'k-of-n', k: 1, n: 1 },
    { kind: 'k-of-n', k: 2, n: 2 },
    { kind: 'k-of-n', k: 2, n: 3 },
    { kind: 'k-of-n', k: 3, n: 5 },
    { kind: 'k-of-n', k: 4, n: 5 },
    { kind: 'k-of-n', k: 4, n: 6 },
    { kind: 'k-of-n', k: 5, n: 7 },
    { kind: 'ema', alpha: 0.2 },
    { kind: 'ema', alpha: 0.35 },
    { kind: 'ema', alpha: 0.5 },
    { kind: 'ema', alpha: 0.7 },
  ];
  const name = (f: Family): string => (f.kind === 'k-of-n' ? `${f.k} of ${f.n}` : `ema ${f.alpha}`);
  const train = logistic(0.02);
  /** Out-of-fold window scores of the clips idx (k folds grouped by source). */
  const oofWs = (idx: readonly number[], k: number): number[][] => {
    const folds = groupedFolds(
      idx.map((i) => data[i]!.source),
      k,
      SEED,
    );
    const out: number[][] = new Array(idx.length);
    for (let f = 0; f < k; f++) {
      const s = train(idx.filter((_, j) => folds[j] !== f));
      idx.forEach((i, j) => {
        if (folds[j] === f) out[j] = data[i]!.ws.map(s);
      });
    }
    return out;
  };
  /** The lowest threshold with no non-fight clip at or above it (midway to the next fight clip), and the recall there. */
  const zeroFp = (stats: readonly number[], ys: readonly number[]): { t: number; recall: number } => {
    const neg = Math.max(...stats.filter((_, i) => ys[i] === 0));
    const above = stats.filter((s, i) => ys[i] === 1 && s > neg);
    const t = above.length ? (neg + Math.min(...above)) / 2 : Math.min(1, neg + 1e-6);
    return { t, recall: above.length / ys.filter((y) => y === 1).length };
  };
  const all = data.map((_, i) => i);
  const outerWs = oofWs(all, 5);
  const outer = groupedFolds(
    data.map((d) => d.source),
    5,
    SEED,
  );
  const out = (l: string): boolean => process.stdout.write(`${l}\n`);
  out('pooled out-of-fold (151 clips, 5 folds grouped by source): AUC; recall with 0 / 1 false alerts on the 59 non-fight clips');
  for (const fam of families) {
    const stats = outerWs.map((ws) => decisionStatistic(fam, ws));
    const curve = roc(stats, labels);
    const p0 = curve.points.filter((p) => p.fpr === 0).at(-1)!;
    const p1 = curve.points.filter((p) => p.fpr * 59 <= 1.0001).at(-1)!;
    out(
      `  ${name(fam).padEnd(10)} AUC ${curve.auc.toFixed(3)}  recall@0FP ${p0.tpr.toFixed(3)} (t ${p0.threshold.toFixed(3)})  recall@1FP ${p1.tpr.toFixed(3)} (t ${p1.threshold.toFixed(3)})`,
    );
  }
  const shipped = { kind: 'k-of-n' as const, k: 3, n: 5 };
  const shippedStats = outerWs.map((ws) => decisionStatistic(shipped, ws));
  const c93 = confusion(shippedStats, labels, 0.93);
  out(`  shipped 3 of 5 at 0.93: recall ${c93.recall.toFixed(3)} (${c93.tp}/92), false alerts ${c93.fp}/59`);

  // Gate: a window counts only when two tracked people (sentinel analyze's own tracks) are close
  // together in at least one of its frames (centres within 0.9 body heights, as the heuristic).
  const tracks = await clipTracks();
  const closePair = (boxes: number[][]): boolean =>
    boxes.some((P, p) =>
      boxes.some(
        (Q, q) =>
          q > p &&
          Math.hypot((P[0]! + P[2]! - Q[0]! - Q[2]!) / 2, (P[1]! + P[3]! - Q[1]! - Q[3]!) / 2) <=
            0.9 * Math.max(P[3]! - P[1]!, Q[3]! - Q[1]!),
      ),
    );
  const gates = clips.map((c, i) => {
    const tb = tracks[`${c.label}/${c.clip}`]!;
    return data[i]!.ws.map((_, s) => tb.slice(s, s + T).some(closePair));
  });
  const pairShare = (y: number): string => {
    const g = gates.filter((_, i) => labels[i] === y).flat();
    return ((g.filter(Boolean).length / g.length) * 100).toFixed(0);
  };
  out(`with the two-people-close gate (windows with a close pair: ${pairShare(1)} % of fight, ${pairShare(0)} % of non-fight windows)`);
  for (const fam of families.filter((f) => f.kind === 'k-of-n')) {
    const stats = outerWs.map((ws, i) =>
      decisionStatistic(
        fam,
        ws.map((s, j) => (gates[i]![j] ? s : 0)),
      ),
    );
    const curve = roc(stats, labels);
    const p0 = curve.points.filter((p) => p.fpr === 0).at(-1)!;
    const p1 = curve.points.filter((p) => p.fpr * 59 <= 1.0001).at(-1)!;
    const g93 = confusion(stats, labels, 0.93);
    out(
      `  ${name(fam).padEnd(10)} AUC ${curve.auc.toFixed(3)}  recall@0FP ${p0.tpr.toFixed(3)} (t ${p0.threshold.toFixed(3)})  recall@1FP ${p1.tpr.toFixed(3)} (t ${p1.threshold.toFixed(3)})  at 0.93: recall ${g93.recall.toFixed(3)}, FP ${g93.fp}/59`,
    );
  }

  // Nested: the decision and its threshold chosen inside each outer training set.
  const gated = (ws: readonly number[], i: number): number[] => ws.map((s, j) => (gates[i]![j] ? s : 0));
  for (const withGate of [false, true]) {
    let tp = 0;
    let fp = 0;
    const picks: string[] = [];
    for (let f = 0; f < 5; f++) {
      const tr = all.filter((i) => outer[i] !== f);
      const inner = oofWs(tr, 4).map((ws, j) => (withGate ? gated(ws, tr[j]!) : ws));
      const ys = tr.map((i) => labels[i]!);
      let best = { fam: families[0]!, t: 1, recall: -1 };
      for (const fam of families) {
        const z = zeroFp(
          inner.map((ws) => decisionStatistic(fam, ws)),
          ys,
        );
        if (z.recall > best.recall) best = { fam, ...z };
      }
      picks.push(`${name(best.fam)} >= ${best.t.toFixed(3)} (inner recall ${best.recall.toFixed(2)})`);
      for (const i of all.filter((c) => outer[c] === f)) {
        const hit = decisionStatistic(best.fam, withGate ? gated(outerWs[i]!, i) : outerWs[i]!) >= best.t;
        if (hit && labels[i] === 1) tp++;
        if (hit && labels[i] === 0) fp++;
      }
    }
    out(
      `nested${withGate ? ', with the gate' : ''} (decision + threshold chosen inside each training set): recall ${(tp / 92).toFixed(3)} (${tp}/92), false alerts ${fp}/59`,
    );
    out(`  picks per fold: ${picks.join('; ')}`);
  }

  // The decision chosen on all out-of-fold clips, and a few fixed ones, on the normal footage.
  const model = defaultFightModel();
  const videos = ['media/vtest.avi', 'media/one-by-one-person-detection.mp4', 'media/classroom.gif', 'media/worker-zone-detection.gif'];
  const vws: Array<{ v: string; ws: number[] }> = [];
  for (const v of videos) {
    const frames = await smallFrames(join(assets!, v), FPS);
    vws.push({ v, ws: windowsOf(frames).map((x) => scoreWindow(model, x)) });
  }
  const minutes = vws.reduce((s, x) => s + (x.ws.length + T - 1) / FPS / 60, 0);
  const count = (d: Decision, ws: readonly number[]): number => {
    const dec = new FightDecider(d);
    let n = 0;
    let active = false;
    let lastHigh = -Infinity;
    let cooldownUntil = -Infinity;
    ws.forEach((s, i) => {
      const t = i * (1000 / FPS);
      const r = dec.push(s);
      if (r.sustain) lastHigh = t;
      if (!active && r.fight && t >= cooldownUntil) {
        active = true;
        n++;
      } else if (active && t - lastHigh >= 3000) {
        active = false;
        cooldownUntil = t + 30_000;
      }
    });
    return n;
  };
  out(
    `normal footage (${minutes.toFixed(2)} min; shipped model; highest window score: ${vws.map((x) => `${x.v.split('/')[1]} ${Math.max(...x.ws).toFixed(3)}`).join(', ')})`,
  );
  for (const fam of families) {
    const z = zeroFp(
      outerWs.map((ws) => decisionStatistic(fam, ws)),
      labels,
    );
    const d = fam.kind === 'k-of-n' ? { ...fam, threshold: z.t } : { ...fam, on: z.t, off: Math.max(0, z.t - 0.1) };
    const alerts = vws.map((x) => count(d, x.ws));
    const maxStat = vws.map((x) => decisionStatistic(fam, x.ws).toFixed(3));
    // The looser point: at most 1 of the 59 non-fight clips raising out of fold.
    const stats = outerWs.map((ws) => decisionStatistic(fam, ws));
    const t1 = roc(stats, labels)
      .points.filter((p) => p.fpr * 59 <= 1.0001)
      .at(-1)!.threshold;
    const d1 = fam.kind === 'k-of-n' ? { ...fam, threshold: t1 } : { ...fam, on: t1, off: Math.max(0, t1 - 0.1) };
    const alerts1 = vws.map((x) => count(d1, x.ws));
    // When a caught fight clip first raises (s from the clip's start; window j ends at frame T - 1 + j).
    const firstRaise = outerWs
      .map((ws, i) => {
        if (labels[i] !== 1) return null;
        const dec = new FightDecider(d);
        const j = ws.findIndex((sc) => dec.push(sc).fight);
        return j < 0 ? null : (T - 1 + j) / FPS;
      })
      .filter((x): x is number => x !== null)
      .sort((a, b) => a - b);
    const med = firstRaise.length ? firstRaise[Math.floor(firstRaise.length / 2)]!.toFixed(1) : '-';
    out(
      `  ${name(fam).padEnd(10)} 0 FP: t ${z.t.toFixed(3)} recall ${z.recall.toFixed(3)}, first raise median ${med} s, normal-footage alerts ${alerts.join(' + ')}; ` +
        `1 FP: t ${t1.toFixed(3)}, normal-footage alerts ${alerts1.join(' + ')}; highest statistic ${maxStat.join(', ')}`,
    );
  }
  const vTracks = await clipTracks(
    videos.map((v) => ({ key: v, file: join(assets!, v) })),
    'experiments-tracks-normal-v1.json',
  );
  const vGates = vws.map((x) => {
    const tb = vTracks[x.v]!;
    return x.ws.map((_, s) => tb.slice(s, s + T).some(closePair));
  });
  for (const fam of families.filter((f) => f.kind === 'k-of-n')) {
    const stats = outerWs.map((ws, i) => decisionStatistic(fam, gated(ws, i)));
    const z = zeroFp(stats, labels);
    const d = { ...fam, threshold: z.t };
    const alerts = vws.map((x, vi) =>
      count(
        d,
        x.ws.map((s, j) => (vGates[vi]![j] ? s : 0)),
      ),
    );
    out(
      `  gated ${name(fam).padEnd(8)} 0 FP: t ${z.t.toFixed(3)} recall ${z.recall.toFixed(3)}, normal-footage alerts ${alerts.join(' + ')} (frames tracked ${vws.map((x) => vTracks[x.v]!.length).join(', ')}; windows with a close pair ${vGates.map((g) => ((g.filter(Boolean).length / g.length) * 100).toFixed(0)).join(', ')} %)`,
    );
  }
}

/** Every window of T frames, with each pair's stats computed once (same figures as windowsOf, fewer block searches). */
function windowsShared(frames: readonly Uint8Array[]): number[][] {
  const pairs: PairStats[] = [];
  for (let i = 1; i < frames.length; i++) pairs.push(pairStats(frames[i - 1]!, frames[i]!));
  const out: number[][] = [];
  for (let s = 0; s + T <= frames.length; s++) out.push(windowFeatures(pairs.slice(s, s + T - 1)));
  return out;
}

/** The small frame mirrored left to right. */
function mirror(f: Uint8Array): Uint8Array {
  const out = new Uint8Array(f.length);
  for (let y = 0; y < FEATURE_H; y++) {
    const r = y * FEATURE_W;
    for (let x = 0; x < FEATURE_W; x++) out[r + x] = f[r + FEATURE_W - 1 - x]!;
  }
  return out;
}

/**
 * `augment`: more training windows from the same clips. At 5 fps a 2-3 s clip gives only 5-12
 * windows; decoded at 25 fps (the same VideoSource, so the same scaling and grey conversion),
 * every fifth frame from offset p = 0..4 is another 5 fps sampling of the clip, 40 ms later each
 * (phase offsets). Mirroring the small frames left to right is the other augmentation. Training
 * uses the augmented windows, every clip still counting once (each window weighted 1 / the clip's
 * augmented window count); the out-of-fold clips are scored on the plain 5 fps decode only (what
 * the live rule sees), so the figures compare with `linear`. Same folds, same 3-of-5 clip score,
 * same nested threshold. Test-time augmentation (the out-of-fold clip scored at every phase, the
 * five 3-of-5 statistics averaged) is reported separately: the live rule sees one phase.
 */
async function augmentExperiment(): Promise<void> {
  const { smallFrames } = await import('../analytics/rules/fight-data');
  const STEP = 5;
  const out = (l: string): boolean => process.stdout.write(`${l}\n`);
  const started = Date.now();
  const dense: Uint8Array[][] = [];
  for (const c of clips) dense.push(await smallFrames(c.file, FPS * STEP));
  // phases[i][p]: clip i's windows at phase p; phase 0 is the plain 5 fps decode itself, so the
  // training set holds exactly the windows the rule would see, plus the four shifted samplings.
  const phases = dense.map((f, i) => [motion[i]!.ws, ...[1, 2, 3, 4].map((p) => windowsShared(f.filter((_, j) => j % STEP === p)))]);
  const flipped = clips.map((c) => windowsShared(c.frames.map(mirror)));
  const phasesFlipped = dense.map((f, i) => [
    flipped[i]!,
    ...[1, 2, 3, 4].map((p) => windowsShared(f.filter((_, j) => j % STEP === p).map(mirror))),
  ]);
  // How close the 25 fps decode's phase 0 is to the 5 fps decode (the ffmpeg fps filter picks
  // the nearest source frame either way), and how different the mirrored windows' figures are
  // (most figures are magnitudes or histogram spreads, which a mirror leaves alone).
  let dPix = 0;
  let nPix = 0;
  let lenSame = 0;
  dense.forEach((f, i) => {
    const p0 = f.filter((_, j) => j % STEP === 0);
    const a = clips[i]!.frames;
    if (p0.length === a.length) lenSame++;
    for (let k = 0; k < Math.min(p0.length, a.length); k++)
      for (let q = 0; q < a[k]!.length; q++) {
        dPix += Math.abs(p0[k]![q]! - a[k]![q]!);
        nPix++;
      }
  });
  const relDiff = (A: number[][][], B: number[][][]): number => {
    let s = 0;
    let n = 0;
    A.forEach((ws, i) =>
      ws.forEach((x, j) =>
        x.forEach((v, f) => {
          const w = B[i]![j]![f]!;
          s += Math.abs(v - w) / Math.max(1e-9, (Math.abs(v) + Math.abs(w)) / 2);
          n++;
        }),
      ),
    );
    return s / n;
  };
  const count = (sets: number[][][][]): number => sets.reduce((a, ss) => a + ss.reduce((b, s) => b + s.length, 0), 0);
  out(
    `clips ${clips.length}; windows: 5 fps ${count(phases.map((p) => [p[0]!]))}, 5 phases ${count(phases)}, with mirror ${count(phases) + count(phasesFlipped)}; features ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  out(
    `25 fps decode, phase 0 vs the 5 fps decode: same frame count in ${lenSame} / ${clips.length} clips, mean |grey difference| ${(dPix / Math.max(1, nPix)).toFixed(2)} / 255`,
  );
  out(
    `mirrored vs plain windows: mean relative difference of the 32 figures ${(
      relDiff(
        flipped,
        motion.map((d) => d.ws),
      ) * 100
    ).toFixed(2)} %`,
  );

  /** Logistic regression on every window of `sets(i)` of each training clip, each clip weighing 1 in all. */
  const augmented =
    (l2: number, sets: (i: number) => readonly (readonly number[][])[]): Trainer =>
    (idx) => {
      const X: number[][] = [];
      const y: number[] = [];
      const w: number[] = [];
      for (const i of idx) {
        const ss = sets(i);
        const n = ss.reduce((a, s) => a + s.length, 0);
        for (const s of ss)
          for (const x of s) {
            X.push(x);
            y.push(data[i]!.label);
            w.push(1 / n);
          }
      }
      const m = trainLogistic(X, y, base, { sampleWeight: w, l2, epochs: 800 });
      return (x) => scoreWindow(m, x);
    };
  const agg = kOfN(3, 5);
  // Test-time augmentation: the mean of the five phases' 3-of-5 statistics (phases too short for
  // a window are left out).
  const tta: ClipScore = (i, s) => {
    const st = phases[i]!.filter((ws) => ws.length > 0).map((ws) => agg(ws.map(s)));
    return st.reduce((a, b) => a + b, 0) / st.length;
  };
  // The noise: which clips the nested decision gets right that the shipped setting gets wrong,
  // and the reverse (one clip is 0.007 of accuracy).
  const ref = evaluate('5 fps only (shipped), L2 0.02', logistic(0.02), agg, true).hits;
  const vs = (r: { hits: boolean[] }): void => {
    const gained = r.hits.filter((h, i) => h && !ref[i]).length;
    const lost = r.hits.filter((h, i) => !h && ref[i]).length;
    out(`    nested vs shipped, clips: gained ${gained}, lost ${lost}`);
  };
  vs(evaluate('5 fps only, L2 0.005', logistic(0.005), agg, true));
  vs(
    evaluate(
      'mirror, L2 0.02',
      augmented(0.02, (i) => [motion[i]!.ws, flipped[i]!]),
      agg,
      true,
    ),
  );
  for (const l2 of [0.005, 0.01, 0.02, 0.04, 0.08])
    vs(
      evaluate(
        `5 phases, L2 ${l2}`,
        augmented(l2, (i) => phases[i]!),
        agg,
        true,
      ),
    );
  for (const l2 of [0.005, 0.02])
    vs(
      evaluate(
        `5 phases + mirror, L2 ${l2}`,
        augmented(l2, (i) => [...phases[i]!, ...phasesFlipped[i]!]),
        agg,
        true,
      ),
    );
  out('test-time augmentation (NOT what the live rule can do: it sees one phase):');
  vs(evaluate('  5 fps-trained, mean over 5 test phases', logistic(0.02), agg, true, undefined, tta));
  vs(
    evaluate(
      '  5 phases-trained, mean over 5 test phases',
      augmented(0.02, (i) => phases[i]!),
      agg,
      true,
      undefined,
      tta,
    ),
  );
  vs(
    evaluate(
      '  5 phases-trained L2 0.005, mean over 5 test phases',
      augmented(0.005, (i) => phases[i]!),
      agg,
      true,
      undefined,
      tta,
    ),
  );
  out(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
