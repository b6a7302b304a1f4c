import type { ModelManifest } from './manifest';
import { inputSize } from './manifest';
import { nms, type Candidate } from './nms';
import type { FrameTransform } from './preprocess';
import type { Detection } from './types';

/** A model output as the decoders see it (onnxruntime's Tensor satisfies it). */
export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}
export type Outputs = Record<string, OutputTensor>;

export interface DecodeOptions {
  scoreThreshold: number;
  nmsIou: number;
  maxDetections: number;
}

function output(outputs: Outputs, name: string): OutputTensor {
  const t = outputs[name];
  if (!t) throw new Error(`model output "${name}" named in the manifest is missing (outputs: ${Object.keys(outputs).join(', ')})`);
  return t;
}

function gridCells(width: number, height: number, stride: number): { gw: number; gh: number } {
  return { gw: Math.ceil(width / stride), gh: Math.ceil(height / stride) };
}

/**
 * YOLOX head: one row per grid point over all strides, `x, y, w, h, obj, class scores...`
 * with obj and class scores already sigmoid-activated. centre = (x + grid) * stride,
 * size = exp(w) * stride, score = obj * class score (best class per point).
 */
export function decodeYolox(m: ModelManifest, outputs: Outputs, threshold: number): Candidate[] {
  if (m.decoder.kind !== 'yolox') throw new Error('not a yolox model');
  const t = output(outputs, m.decoder.output);
  const { width, height } = inputSize(m);
  const rows = t.dims[1] ?? 0;
  const cols = t.dims[2] ?? 0;
  const expected = m.decoder.strides.reduce((n, s) => {
    const { gw, gh } = gridCells(width, height, s);
    return n + gw * gh;
  }, 0);
  if (rows !== expected || cols !== 5 + m.labels.length) {
    throw new Error(
      `output "${m.decoder.output}" is [${t.dims.join(',')}] but the manifest implies [1,${expected},${5 + m.labels.length}] (strides ${m.decoder.strides.join(',')}, ${m.labels.length} labels)`,
    );
  }
  const d = t.data;
  const nc = cols - 5;
  const out: Candidate[] = [];
  let row = 0;
  for (const s of m.decoder.strides) {
    const { gw, gh } = gridCells(width, height, s);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++, row++) {
        const o = row * cols;
        const obj = d[o + 4] ?? 0;
        // score = obj * cls <= obj: most points are skipped without reading their classes.
        if (obj < threshold) continue;
        let best = 0;
        let bestScore = -1;
        for (let c = 0; c < nc; c++) {
          const v = d[o + 5 + c] ?? 0;
          if (v > bestScore) {
            bestScore = v;
            best = c;
          }
        }
        const score = obj * bestScore;
        if (score < threshold) continue;
        const cx = ((d[o] ?? 0) + gx) * s;
        const cy = ((d[o + 1] ?? 0) + gy) * s;
        const w = Math.exp(d[o + 2] ?? 0) * s;
        const h = Math.exp(d[o + 3] ?? 0) * s;
        out.push({ box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], score, classId: best });
      }
    }
  }
  return out;
}

/**
 * NanoDet (GFL head): per stride, class scores (already sigmoid) and a distance
 * distribution per side (`regMax + 1` bins: softmax, expectation, times stride) measured
 * from the point's centre.
 */
export function decodeNanodet(m: ModelManifest, outputs: Outputs, threshold: number): Candidate[] {
  if (m.decoder.kind !== 'nanodet') throw new Error('not a nanodet model');
  const { width, height } = inputSize(m);
  const bins = m.decoder.regMax + 1;
  const off = m.decoder.centerOffset;
  const nc = m.labels.length;
  const out: Candidate[] = [];
  const probs = new Float64Array(bins);
  const dist = [0, 0, 0, 0];
  for (const s of m.decoder.strides) {
    const clsName = m.decoder.clsOutput.replace('{stride}', String(s));
    const regName = m.decoder.regOutput.replace('{stride}', String(s));
    const cls = output(outputs, clsName);
    const reg = output(outputs, regName);
    const { gw, gh } = gridCells(width, height, s);
    const n = gw * gh;
    if (cls.dims[1] !== n || cls.dims[2] !== nc)
      throw new Error(`output "${clsName}" is [${cls.dims.join(',')}] but the manifest implies [1,${n},${nc}]`);
    if (reg.dims[1] !== n || reg.dims[2] !== 4 * bins)
      throw new Error(`output "${regName}" is [${reg.dims.join(',')}] but the manifest implies [1,${n},${4 * bins}]`);
    for (let i = 0; i < n; i++) {
      let best = 0;
      let score = -1;
      for (let c = 0; c < nc; c++) {
        const v = cls.data[i * nc + c] ?? 0;
        if (v > score) {
          score = v;
          best = c;
        }
      }
      if (score < threshold) continue;
      for (let side = 0; side < 4; side++) {
        const base = i * 4 * bins + side * bins;
        let max = -Infinity;
        for (let b = 0; b < bins; b++) max = Math.max(max, reg.data[base + b] ?? 0);
        let sum = 0;
        for (let b = 0; b < bins; b++) {
          const e = Math.exp((reg.data[base + b] ?? 0) - max);
          probs[b] = e;
          sum += e;
        }
        let exp = 0;
        for (let b = 0; b < bins; b++) exp += ((probs[b] ?? 0) / sum) * b;
        dist[side] = exp * s;
      }
      const cx = ((i % gw) + off) * s;
      const cy = (Math.floor(i / gw) + off) * s;
      out.push({ box: [cx - (dist[0] ?? 0), cy - (dist[1] ?? 0), cx + (dist[2] ?? 0), cy + (dist[3] ?? 0)], score, classId: best });
    }
  }
  return out;
}

/** Maps a model-space box back to source pixels, clipped to the frame; null if nothing is left. */
export function toSource(box: readonly number[], t: FrameTransform): [number, number, number, number] | null {
  const clip = (v: number, max: number): number => Math.min(Math.max(v, 0), max);
  const x1 = clip(((box[0] ?? 0) - t.padX) / t.scaleX, t.srcWidth);
  const y1 = clip(((box[1] ?? 0) - t.padY) / t.scaleY, t.srcHeight);
  const x2 = clip(((box[2] ?? 0) - t.padX) / t.scaleX, t.srcWidth);
  const y2 = clip(((box[3] ?? 0) - t.padY) / t.scaleY, t.srcHeight);
  if (x2 - x1 < 1 || y2 - y1 < 1) return null;
  const r = (v: number): number => Math.round(v * 10) / 10;
  return [r(x1), r(y1), r(x2), r(y2)];
}

/** Decode, NMS and mapping to source pixels for a detector. */
export function decodeDetections(m: ModelManifest, outputs: Outputs, t: FrameTransform, opts: DecodeOptions): Detection[] {
  let cands: Candidate[];
  switch (m.decoder.kind) {
    case 'yolox':
      cands = decodeYolox(m, outputs, opts.scoreThreshold);
      break;
    case 'nanodet':
      cands = decodeNanodet(m, outputs, opts.scoreThreshold);
      break;
    case 'embedding':
    case 'clip-scores':
      throw new Error(`decoder "${m.decoder.kind}" does not produce detections`);
    default: {
      const never: never = m.decoder;
      throw new Error(`unknown decoder ${JSON.stringify(never)}`);
    }
  }
  const dets: Detection[] = [];
  for (const c of nms(cands, opts.nmsIou, opts.maxDetections)) {
    const box = toSource(c.box, t);
    if (!box) continue;
    dets.push({ label: m.labels[c.classId] ?? String(c.classId), classId: c.classId, score: Math.round(c.score * 1e4) / 1e4, box });
  }
  return dets;
}

/** Embedding vector, L2-normalised when the manifest asks for it. */
export function decodeEmbedding(m: ModelManifest, outputs: Outputs): number[] {
  if (m.decoder.kind !== 'embedding') throw new Error('not an embedding model');
  const t = output(outputs, m.decoder.output);
  const v = Array.from(t.data);
  if (!m.decoder.normalize) return v;
  const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

/** Per-label scores of a clip classifier. */
export function decodeScores(m: ModelManifest, outputs: Outputs): Array<{ label: string; score: number }> {
  if (m.decoder.kind !== 'clip-scores') throw new Error('not a clip classifier');
  const t = output(outputs, m.decoder.output);
  const raw = Array.from(t.data);
  let v: number[];
  switch (m.decoder.activation) {
    case 'softmax': {
      const max = Math.max(...raw);
      const e = raw.map((x) => Math.exp(x - max));
      const sum = e.reduce((a, x) => a + x, 0);
      v = e.map((x) => x / sum);
      break;
    }
    case 'sigmoid':
      v = raw.map((x) => 1 / (1 + Math.exp(-x)));
      break;
    case 'none':
      v = raw;
      break;
    default: {
      const never: never = m.decoder.activation;
      throw new Error(`unknown activation ${String(never)}`);
    }
  }
  return v.map((score, i) => ({ label: m.labels[i] ?? String(i), score }));
}
