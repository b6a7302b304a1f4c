import { z } from 'zod';
import { FEATURE_NAMES } from './fight-features';

/**
 * The fight classifier: a small model over the clip features of fight-features.ts, trained by
 * `npm run train:fight` (tools/train-fight.ts) and shipped as a plain JSON weights file
 * (analytics/rules/fight-clip-weights.json). A plain file rather than ONNX: the model is a few
 * dozen numbers (a logistic regression or boosted stumps), scoring it is a dot product or a
 * few comparisons in the rule itself, and the features are computed in TypeScript anyway; an
 * onnxruntime session in a worker thread would cost a message round trip per window to do
 * less work than the round trip. Training code lives here too so the script and the tests
 * share it; it is plain gradient descent / boosting, seeded, with no dependency.
 */

const Stump = z.strictObject({ feature: z.number().int().min(0), threshold: z.number(), left: z.number(), right: z.number() });
/** A depth-2 tree: one split, then one split on each side (4 leaves), as nested stumps. */
const Tree = z.strictObject({
  feature: z.number().int().min(0),
  threshold: z.number(),
  left: Stump,
  right: Stump,
});

export const FightModelFile = z.strictObject({
  /** Schema version of this file. */
  version: z.literal(1),
  type: z.enum(['logistic', 'stumps', 'trees']),
  /** Feature names in input order; must equal FEATURE_NAMES (a model for other features is refused). */
  features: z.array(z.string()),
  /** Frames per window and the frame rate the features were computed at. */
  frames: z.number().int().min(3),
  fps: z.number().positive(),
  /**
   * Logistic only: features enter as log(x + 0.001) (motion figures are heavy-tailed: a fight
   * has several times the motion of walking, and the linear model should see ratios).
   */
  logInput: z.boolean().default(false),
  /** Standardisation (logistic): z = (x' - mean) / std, x' the (log) input. */
  mean: z.array(z.number()),
  std: z.array(z.number().positive()),
  /** Logistic: weights per feature and bias. */
  weights: z.array(z.number()).default([]),
  bias: z.number().default(0),
  /** Stumps: additive log-odds, base + sum(x[f] <= threshold ? left : right). */
  base: z.number().default(0),
  stumps: z.array(Stump).default([]),
  /** Trees: additive log-odds, base + sum of each tree's leaf (depth-2 trees capture pairs of features together). */
  trees: z.array(Tree).default([]),
  /**
   * Alert smoothing: a fight is `alertK` of the last `alertN` windows at or above the threshold
   * (default 2 of 2: two in a row). The training script scores clips the same way.
   */
  alertK: z.number().int().min(1).default(2),
  alertN: z.number().int().min(1).default(2),
  /** Window score at or above this counts as a fight window (chosen on the grouped cross-validation). */
  threshold: z.number().min(0).max(1),
  /** How it was trained and how it did, for the record (docs/analytics.md has the full report). */
  trainedOn: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
});
export type FightModelFile = z.infer<typeof FightModelFile>;

/** Parses a weights file, naming the file and the key on error; refuses a model for other features. */
export function parseFightModel(json: unknown, where: string): FightModelFile {
  const r = FightModelFile.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${where}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const m = r.data;
  if (m.features.join(',') !== FEATURE_NAMES.join(','))
    throw new Error(`${where}: features [${m.features.join(', ')}] are not the ones this build computes`);
  const n = FEATURE_NAMES.length;
  if (m.mean.length !== n || m.std.length !== n) throw new Error(`${where}: mean/std need ${n} values`);
  if (m.type === 'logistic' && m.weights.length !== n) throw new Error(`${where}: weights need ${n} values`);
  if (m.stumps.some((s) => s.feature >= n)) throw new Error(`${where}: a stump names feature index >= ${n}`);
  if (m.trees.some((t) => t.feature >= n || t.left.feature >= n || t.right.feature >= n))
    throw new Error(`${where}: a tree names feature index >= ${n}`);
  if (m.alertK > m.alertN) throw new Error(`${where}: alertK (${m.alertK}) is more than alertN (${m.alertN})`);
  return m;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
export const logIn = (v: number): number => Math.log(Math.max(0, v) + 0.001);

/** Fight probability of one window's features. */
export function scoreWindow(m: FightModelFile, x: readonly number[]): number {
  if (m.type === 'logistic') {
    let s = m.bias;
    for (let i = 0; i < m.weights.length; i++) s += m.weights[i]! * (((m.logInput ? logIn(x[i]!) : x[i]!) - m.mean[i]!) / m.std[i]!);
    return sigmoid(s);
  }
  let s = m.base;
  for (const st of m.stumps) s += x[st.feature]! <= st.threshold ? st.left : st.right;
  for (const t of m.trees) {
    const st = x[t.feature]! <= t.threshold ? t.left : t.right;
    s += x[st.feature]! <= st.threshold ? st.left : st.right;
  }
  return sigmoid(s);
}

/**
 * The alert decision over a run of window scores: the highest value v such that at least k of
 * some n consecutive windows score v or more (the k-th highest score of the best span). A fight
 * is this at or above the threshold; with k = n = 2 it is "two windows in a row".
 */
export function smoothedScore(scores: readonly number[], k: number, n: number): number {
  let best = 0;
  for (let end = 0; end < scores.length; end++) {
    const span = scores.slice(Math.max(0, end - n + 1), end + 1);
    if (span.length < k) continue;
    const kth = [...span].sort((a, b) => b - a)[k - 1]!;
    best = Math.max(best, kth);
  }
  return best;
}

/** Seeded PRNG (mulberry32): training and fold assignment are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function standardise(X: readonly number[][]): { mean: number[]; std: number[] } {
  const n = X[0]?.length ?? 0;
  const mean = new Array<number>(n).fill(0);
  const std = new Array<number>(n).fill(0);
  for (const x of X) for (let i = 0; i < n; i++) mean[i]! += x[i]! / X.length;
  for (const x of X) for (let i = 0; i < n; i++) std[i]! += (x[i]! - mean[i]!) ** 2 / X.length;
  return { mean, std: std.map((v) => Math.max(1e-6, Math.sqrt(v))) };
}

export interface TrainOptions {
  /** Logistic: L2 penalty; stumps: number of rounds. */
  l2?: number;
  epochs?: number;
  rounds?: number;
  learningRate?: number;
  /** Logistic: train on log inputs (see FightModelFile.logInput). */
  logInput?: boolean;
  /** Per-sample weights (e.g. so every clip counts once however many windows it has). */
  sampleWeight?: readonly number[];
}

type Base = Omit<
  FightModelFile,
  'type' | 'weights' | 'bias' | 'base' | 'stumps' | 'trees' | 'threshold' | 'trainedOn' | 'logInput' | 'mean' | 'std' | 'alertK' | 'alertN'
> &
  Partial<Pick<FightModelFile, 'alertK' | 'alertN'>>;

const SMOOTHING = (base: Base): Pick<FightModelFile, 'alertK' | 'alertN'> => ({ alertK: base.alertK ?? 2, alertN: base.alertN ?? 2 });

/** L2-regularised logistic regression by full-batch gradient descent on standardised features. */
export function trainLogistic(X0: readonly number[][], y: readonly number[], base: Base, o: TrainOptions = {}): FightModelFile {
  const logInput = o.logInput ?? false;
  const X = logInput ? X0.map((x) => x.map(logIn)) : X0;
  const { mean, std } = standardise(X);
  const n = mean.length;
  const Z = X.map((x) => x.map((v, i) => (v - mean[i]!) / std[i]!));
  const sw = o.sampleWeight ?? X.map(() => 1);
  const wsum = sw.reduce((s, v) => s + v, 0);
  const w = new Array<number>(n).fill(0);
  let b = 0;
  const l2 = o.l2 ?? 0.05;
  const lr = o.learningRate ?? 0.5;
  for (let e = 0; e < (o.epochs ?? 600); e++) {
    const gw = new Array<number>(n).fill(0);
    let gb = 0;
    for (let k = 0; k < Z.length; k++) {
      const z = Z[k]!;
      let s = b;
      for (let i = 0; i < n; i++) s += w[i]! * z[i]!;
      const err = (sigmoid(s) - y[k]!) * sw[k]!;
      for (let i = 0; i < n; i++) gw[i]! += err * z[i]!;
      gb += err;
    }
    for (let i = 0; i < n; i++) w[i]! -= lr * (gw[i]! / wsum + l2 * w[i]!);
    b -= lr * (gb / wsum);
  }
  return {
    ...base,
    ...SMOOTHING(base),
    mean,
    std,
    logInput,
    type: 'logistic',
    weights: w,
    bias: b,
    base: 0,
    stumps: [],
    trees: [],
    threshold: 0.5,
    trainedOn: {},
  };
}

/**
 * Gradient-boosted decision stumps (logistic loss, one Newton step per leaf, shrinkage):
 * each round picks the feature and threshold (among 16 quantiles) that best fit the current
 * gradient. Captures thresholds and non-linear effects a linear model misses, still a few
 * hundred numbers.
 */
export function trainStumps(X: readonly number[][], y: readonly number[], base: Base, o: TrainOptions = {}): FightModelFile {
  const n = X[0]?.length ?? 0;
  const { mean, std } = standardise(X);
  const sw = o.sampleWeight ?? X.map(() => 1);
  const rounds = o.rounds ?? 120;
  const lr = o.learningRate ?? 0.15;
  const lambda = 1;
  const pos = y.reduce<number>((s, v, i) => s + v * sw[i]!, 0);
  const tot = sw.reduce((s, v) => s + v, 0);
  const base0 = Math.log(Math.max(1e-6, pos) / Math.max(1e-6, tot - pos));
  const F = X.map(() => base0);
  const cuts: number[][] = [];
  for (let f = 0; f < n; f++) {
    const v = X.map((x) => x[f]!).sort((a, b) => a - b);
    const c = new Set<number>();
    for (let q = 1; q < 16; q++) c.add(v[Math.floor((q / 16) * (v.length - 1))]!);
    cuts.push([...c]);
  }
  const stumps: FightModelFile['stumps'] = [];
  for (let r = 0; r < rounds; r++) {
    const g = F.map((v, k) => (sigmoid(v) - y[k]!) * sw[k]!);
    const h = F.map((v, k) => sigmoid(v) * (1 - sigmoid(v)) * sw[k]!);
    let best: { gain: number; feature: number; threshold: number; left: number; right: number } | null = null;
    for (let f = 0; f < n; f++) {
      for (const t of cuts[f]!) {
        let gl = 0;
        let hl = 0;
        let gr = 0;
        let hr = 0;
        for (let k = 0; k < X.length; k++) {
          if (X[k]![f]! <= t) {
            gl += g[k]!;
            hl += h[k]!;
          } else {
            gr += g[k]!;
            hr += h[k]!;
          }
        }
        const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda);
        if (!best || gain > best.gain)
          best = { gain, feature: f, threshold: t, left: (-gl / (hl + lambda)) * lr, right: (-gr / (hr + lambda)) * lr };
      }
    }
    if (!best) break;
    stumps.push({ feature: best.feature, threshold: best.threshold, left: best.left, right: best.right });
    for (let k = 0; k < X.length; k++) F[k]! += X[k]![best.feature]! <= best.threshold ? best.left : best.right;
  }
  return {
    ...base,
    ...SMOOTHING(base),
    mean,
    std,
    logInput: false,
    type: 'stumps',
    weights: [],
    bias: 0,
    base: base0,
    stumps,
    trees: [],
    threshold: 0.5,
    trainedOn: {},
  };
}

/** Candidate thresholds per feature: 15 quantiles of its values. */
function quantileCuts(X: readonly number[][]): number[][] {
  const n = X[0]?.length ?? 0;
  const cuts: number[][] = [];
  for (let f = 0; f < n; f++) {
    const v = X.map((x) => x[f]!).sort((a, b) => a - b);
    const c = new Set<number>();
    for (let q = 1; q < 16; q++) c.add(v[Math.floor((q / 16) * (v.length - 1))]!);
    cuts.push([...c]);
  }
  return cuts;
}

interface Split {
  gain: number;
  feature: number;
  threshold: number;
  gl: number;
  hl: number;
  gr: number;
  hr: number;
}

/** The best split of the samples `idx` for gradient g and hessian h (XGBoost's gain, lambda 1). */
function bestSplit(
  X: readonly number[][],
  idx: readonly number[],
  g: readonly number[],
  h: readonly number[],
  cuts: number[][],
  minHess: number,
): Split | null {
  let best: Split | null = null;
  for (let f = 0; f < cuts.length; f++) {
    for (const t of cuts[f]!) {
      let gl = 0;
      let hl = 0;
      let gr = 0;
      let hr = 0;
      for (const k of idx) {
        if (X[k]![f]! <= t) {
          gl += g[k]!;
          hl += h[k]!;
        } else {
          gr += g[k]!;
          hr += h[k]!;
        }
      }
      if (hl < minHess || hr < minHess) continue;
      const gain = (gl * gl) / (hl + 1) + (gr * gr) / (hr + 1);
      if (!best || gain > best.gain) best = { gain, feature: f, threshold: t, gl, hl, gr, hr };
    }
  }
  return best;
}

/**
 * Gradient-boosted depth-2 trees (logistic loss, Newton leaves, shrinkage, row subsampling
 * seeded): like the stumps, but each round's tree splits twice, so it can learn that a lot of
 * motion counts only when it is also incoherent or local. `minLeaf` (share of the total
 * hessian) keeps leaves from fitting a single clip.
 */
export function trainTrees(
  X: readonly number[][],
  y: readonly number[],
  base: Base,
  o: TrainOptions & { subsample?: number; seed?: number; minLeaf?: number } = {},
): FightModelFile {
  const { mean, std } = standardise(X);
  const sw = o.sampleWeight ?? X.map(() => 1);
  const rounds = o.rounds ?? 100;
  const lr = o.learningRate ?? 0.1;
  const pos = y.reduce<number>((s, v, i) => s + v * sw[i]!, 0);
  const tot = sw.reduce((s, v) => s + v, 0);
  const base0 = Math.log(Math.max(1e-6, pos) / Math.max(1e-6, tot - pos));
  const F = X.map(() => base0);
  const cuts = quantileCuts(X);
  const rand = rng(o.seed ?? 7);
  const trees: FightModelFile['trees'] = [];
  const all = X.map((_, k) => k);
  for (let r = 0; r < rounds; r++) {
    const p = F.map(sigmoid);
    const g = p.map((v, k) => (v - y[k]!) * sw[k]!);
    const h = p.map((v, k) => v * (1 - v) * sw[k]!);
    const idx = all.filter(() => rand() < (o.subsample ?? 0.8));
    const hsum = idx.reduce((s, k) => s + h[k]!, 0);
    const minHess = (o.minLeaf ?? 0.03) * hsum;
    const root = bestSplit(X, idx, g, h, cuts, minHess);
    if (!root) break;
    const side = (left: boolean): FightModelFile['stumps'][number] => {
      const sub = idx.filter((k) => X[k]![root.feature]! <= root.threshold === left);
      const s = bestSplit(X, sub, g, h, cuts, minHess);
      const G = left ? root.gl : root.gr;
      const H = left ? root.hl : root.hr;
      if (!s) return { feature: root.feature, threshold: root.threshold, left: (-G / (H + 1)) * lr, right: (-G / (H + 1)) * lr };
      return { feature: s.feature, threshold: s.threshold, left: (-s.gl / (s.hl + 1)) * lr, right: (-s.gr / (s.hr + 1)) * lr };
    };
    const tree = { feature: root.feature, threshold: root.threshold, left: side(true), right: side(false) };
    trees.push(tree);
    for (let k = 0; k < X.length; k++) {
      const st = X[k]![tree.feature]! <= tree.threshold ? tree.left : tree.right;
      F[k]! += X[k]![st.feature]! <= st.threshold ? st.left : st.right;
    }
  }
  return {
    ...base,
    ...SMOOTHING(base),
    mean,
    std,
    logInput: false,
    type: 'trees',
    weights: [],
    bias: 0,
    base: base0,
    stumps: [],
    trees,
    threshold: 0.5,
    trainedOn: {},
  };
}

/**
 * Assigns whole groups (source videos) to k folds, seeded, balancing the number of samples
 * per fold greedily (largest groups first, ties shuffled): a source is never split.
 */
export function groupedFolds(groups: readonly string[], k: number, seed: number): number[] {
  const sizes = new Map<string, number>();
  for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  const rand = rng(seed);
  const order = [...sizes.keys()].map((g) => ({ g, r: rand() })).sort((a, b) => sizes.get(b.g)! - sizes.get(a.g)! || a.r - b.r);
  const load = new Array<number>(k).fill(0);
  const fold = new Map<string, number>();
  for (const { g } of order) {
    let f = 0;
    for (let i = 1; i < k; i++) if (load[i]! < load[f]!) f = i;
    fold.set(g, f);
    load[f]! += sizes.get(g)!;
  }
  return groups.map((g) => fold.get(g)!);
}

export interface RocPoint {
  threshold: number;
  fpr: number;
  tpr: number;
}

/** ROC curve (one point per distinct score, plus the corners) and its area (trapezoids). */
export function roc(scores: readonly number[], labels: readonly number[]): { points: RocPoint[]; auc: number } {
  const P = labels.filter((l) => l === 1).length;
  const N = labels.length - P;
  const idx = scores.map((s, i) => ({ s, l: labels[i]! })).sort((a, b) => b.s - a.s);
  const points: RocPoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < idx.length; i++) {
    if (idx[i]!.l === 1) tp++;
    else fp++;
    if (i === idx.length - 1 || idx[i + 1]!.s !== idx[i]!.s)
      points.push({ threshold: idx[i]!.s, fpr: N ? fp / N : 0, tpr: P ? tp / P : 0 });
  }
  let auc = 0;
  for (let i = 1; i < points.length; i++) auc += ((points[i]!.fpr - points[i - 1]!.fpr) * (points[i]!.tpr + points[i - 1]!.tpr)) / 2;
  return { points, auc };
}

/** Accuracy, precision and recall of thresholded scores. */
export function confusion(
  scores: readonly number[],
  labels: readonly number[],
  threshold: number,
): { accuracy: number; precision: number; recall: number; tp: number; fp: number; tn: number; fn: number } {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  scores.forEach((s, i) => {
    const p = s >= threshold;
    if (p && labels[i] === 1) tp++;
    else if (p) fp++;
    else if (labels[i] === 1) fn++;
    else tn++;
  });
  return {
    accuracy: (tp + tn) / Math.max(1, scores.length),
    precision: tp + fp ? tp / (tp + fp) : 0,
    recall: tp + fn ? tp / (tp + fn) : 0,
    tp,
    fp,
    tn,
    fn,
  };
}
