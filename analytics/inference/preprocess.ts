import type { ModelManifest } from './manifest';
import { clipFrames, inputSize } from './manifest';

/** How model-space coordinates map back to the source frame: src = (model - pad) / scale. */
export interface FrameTransform {
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
  srcWidth: number;
  srcHeight: number;
}

export class BadFrameError extends Error {
  override name = 'BadFrameError';
}

/** Checks a frame's geometry against its buffer; the message names what is wrong. */
export function checkFrameGeometry(width: number, height: number, byteLength: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new BadFrameError(`frame size ${width}x${height} is not a positive whole number of pixels`);
  }
  if (byteLength !== width * height * 3) {
    throw new BadFrameError(`frame data is ${byteLength} bytes but ${width}x${height} BGR24 needs ${width * height * 3}`);
  }
}

// Resize tables depend only on (source size, target size): a camera keeps its size, so each
// worker computes them once per camera resolution instead of once per frame.
interface Axis {
  i0: Int32Array;
  i1: Int32Array;
  w: Float32Array;
}
const axisCache = new Map<string, Axis>();

function axis(src: number, dst: number, scale: number): Axis {
  const key = `${src}:${dst}:${scale}`;
  const hit = axisCache.get(key);
  if (hit) return hit;
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const w = new Float32Array(dst);
  for (let d = 0; d < dst; d++) {
    // Pixel centres aligned (OpenCV's INTER_LINEAR convention, which the models were trained with).
    let s = (d + 0.5) / scale - 0.5;
    if (s < 0) s = 0;
    const f = Math.min(Math.floor(s), src - 1);
    i0[d] = f;
    i1[d] = Math.min(f + 1, src - 1);
    w[d] = Math.min(s - f, 1);
  }
  const a = { i0, i1, w };
  if (axisCache.size > 64) axisCache.clear();
  axisCache.set(key, a);
  return a;
}

/** The padding each reused tensor holds now (see preprocess). */
const paddedLayout = new WeakMap<Float32Array, string>();

/**
 * Fits a BGR24 frame into the model's input tensor: resize (bilinear) following the
 * manifest's letterbox rule, reorder colours, normalise, and lay out as NCHW or NHWC.
 * Writes into `out` (reused between frames) and returns the transform back to source pixels.
 */
export function preprocess(m: ModelManifest, src: Uint8Array, srcW: number, srcH: number, out: Float32Array): FrameTransform {
  checkFrameGeometry(srcW, srcH, src.byteLength);
  if (clipFrames(m) > 1) return preprocessClip(m, src, srcW, srcH, out);
  const { width: dstW, height: dstH } = inputSize(m);
  if (out.length !== dstW * dstH * 3) throw new Error(`input buffer holds ${out.length} values, the model needs ${dstW * dstH * 3}`);
  const rule = m.input.letterbox;
  let scaleX: number;
  let scaleY: number;
  let padX = 0;
  let padY = 0;
  switch (rule.mode) {
    case 'stretch':
      scaleX = dstW / srcW;
      scaleY = dstH / srcH;
      break;
    case 'top-left':
    case 'center': {
      const s = Math.min(dstW / srcW, dstH / srcH);
      scaleX = scaleY = s;
      if (rule.mode === 'center') {
        padX = Math.floor((dstW - Math.round(srcW * s)) / 2);
        padY = Math.floor((dstH - Math.round(srcH * s)) / 2);
      }
      break;
    }
    default: {
      const never: never = rule.mode;
      throw new Error(`unknown letterbox mode ${String(never)}`);
    }
  }
  const newW = Math.min(dstW - padX, Math.max(1, Math.round(srcW * scaleX)));
  const newH = Math.min(dstH - padY, Math.max(1, Math.round(srcH * scaleY)));

  // Channel c of the tensor reads byte srcChan[c] of a BGR pixel.
  const srcChan = m.input.colorOrder === 'BGR' ? [0, 1, 2] : [2, 1, 0];
  const mean = m.input.normalize.mean;
  const inv = m.input.normalize.std.map((v) => 1 / v);
  const nchw = m.input.layout === 'NCHW';
  const plane = dstW * dstH;

  // Padding: only the area the image does not cover (most of the tensor is overwritten anyway),
  // and only when the layout changed: a camera's frames keep their size, so a worker's reused
  // tensor already holds this padding from the previous frame.
  const layout = `${newW}x${newH}+${padX}+${padY}:${rule.pad}:${mean.join(',')}:${inv.join(',')}:${m.input.layout}`;
  const padDone = paddedLayout.get(out) === layout;
  paddedLayout.set(out, layout);
  for (let c = 0; c < 3 && !padDone; c++) {
    const v = (rule.pad - (mean[c] ?? 0)) * (inv[c] ?? 1);
    if (newW === dstW && newH === dstH) break;
    if (!nchw) {
      for (let p = c; p < out.length; p += 3) out[p] = v;
      continue;
    }
    const base = c * plane;
    out.fill(v, base, base + padY * dstW);
    out.fill(v, base + (padY + newH) * dstW, base + plane);
    if (newW < dstW) {
      for (let y = padY; y < padY + newH; y++) {
        const row = base + y * dstW;
        out.fill(v, row, row + padX);
        out.fill(v, row + padX + newW, row + dstW);
      }
    }
  }

  if (newW === srcW && newH === srcH) {
    // The ingest already scaled the frame to fit the model (ffmpeg's scale filter): copy
    // with colour reorder and normalisation only, no interpolation.
    copyNormalised(src, srcW, srcH, dstW, padX, padY, plane, nchw, srcChan, mean, inv, out);
    return { scaleX: 1, scaleY: 1, padX, padY, srcWidth: srcW, srcHeight: srcH };
  }
  const ax = axis(srcW, newW, scaleX);
  const ay = axis(srcH, newH, scaleY);
  const c0 = srcChan[0] ?? 0;
  const c1 = srcChan[1] ?? 1;
  const c2 = srcChan[2] ?? 2;
  const m0 = mean[0];
  const m1 = mean[1];
  const m2 = mean[2];
  const s0 = inv[0] ?? 1;
  const s1 = inv[1] ?? 1;
  const s2 = inv[2] ?? 1;
  // Hot loop: indices are in bounds by construction (geometry checked above, tables built
  // for these sizes), so reads are asserted `as number` rather than `?? 0`, which halves its cost.
  const stride = srcW * 3;
  for (let y = 0; y < newH; y++) {
    const r0 = (ay.i0[y] as number) * stride;
    const r1 = (ay.i1[y] as number) * stride;
    const wy = ay.w[y] as number;
    const oy = y + padY;
    for (let x = 0; x < newW; x++) {
      const x0 = (ax.i0[x] as number) * 3;
      const x1 = (ax.i1[x] as number) * 3;
      const wx = ax.w[x] as number;
      const a = r0 + x0;
      const b = r0 + x1;
      const c = r1 + x0;
      const d = r1 + x1;
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      const v0 =
        (src[a + c0] as number) * w00 + (src[b + c0] as number) * w01 + (src[c + c0] as number) * w10 + (src[d + c0] as number) * w11;
      const v1 =
        (src[a + c1] as number) * w00 + (src[b + c1] as number) * w01 + (src[c + c1] as number) * w10 + (src[d + c1] as number) * w11;
      const v2 =
        (src[a + c2] as number) * w00 + (src[b + c2] as number) * w01 + (src[c + c2] as number) * w10 + (src[d + c2] as number) * w11;
      const ox = x + padX;
      if (nchw) {
        const p = oy * dstW + ox;
        out[p] = (v0 - m0) * s0;
        out[p + plane] = (v1 - m1) * s1;
        out[p + 2 * plane] = (v2 - m2) * s2;
      } else {
        const p = (oy * dstW + ox) * 3;
        out[p] = (v0 - m0) * s0;
        out[p + 1] = (v1 - m1) * s1;
        out[p + 2] = (v2 - m2) * s2;
      }
    }
  }
  return { scaleX, scaleY, padX, padY, srcWidth: srcW, srcHeight: srcH };
}

function copyNormalised(
  src: Uint8Array,
  w: number,
  h: number,
  dstW: number,
  padX: number,
  padY: number,
  plane: number,
  nchw: boolean,
  chan: number[],
  mean: readonly number[],
  inv: readonly number[],
  out: Float32Array,
): void {
  // Arithmetic, not a lookup table: measured about twice as fast in V8 (a table read is a
  // bounds-checked dependent load per value), and this loop is most of the pool's own cost.
  const c0 = chan[0] ?? 0;
  const c1 = chan[1] ?? 1;
  const c2 = chan[2] ?? 2;
  const m0 = mean[0] ?? 0;
  const m1 = mean[1] ?? 0;
  const m2 = mean[2] ?? 0;
  const s0 = inv[0] ?? 1;
  const s1 = inv[1] ?? 1;
  const s2 = inv[2] ?? 1;
  const rowBytes = w * 3;
  if (nchw) {
    const plane2 = 2 * plane;
    for (let y = 0; y < h; y++) {
      let i = y * rowBytes;
      const start = (y + padY) * dstW + padX;
      const end = start + w;
      for (let p = start; p < end; p++, i += 3) {
        out[p] = ((src[i + c0] as number) - m0) * s0;
        out[p + plane] = ((src[i + c1] as number) - m1) * s1;
        out[p + plane2] = ((src[i + c2] as number) - m2) * s2;
      }
    }
    return;
  }
  for (let y = 0; y < h; y++) {
    let i = y * rowBytes;
    let p = ((y + padY) * dstW + padX) * 3;
    for (let x = 0; x < w; x++, i += 3, p += 3) {
      out[p] = ((src[i + c0] as number) - m0) * s0;
      out[p + 1] = ((src[i + c1] as number) - m1) * s1;
      out[p + 2] = ((src[i + c2] as number) - m2) * s2;
    }
  }
}

/** The manifest of one frame of a T-frame input: NCTHW frames are NCHW pictures, NTHWC frames NHWC. */
function frameManifest(m: ModelManifest): ModelManifest {
  const { width, height } = inputSize(m);
  const nchw = m.input.layout === 'NCTHW';
  return { ...m, input: { ...m.input, layout: nchw ? 'NCHW' : 'NHWC', shape: nchw ? [1, 3, height, width] : [1, height, width, 3] } };
}

const clipScratch = new Map<number, Float32Array>();

/**
 * A T-frame input: the source is T equal pictures stacked top to bottom (see clipFrames);
 * each is fitted like a single frame into its place in the tensor. NTHWC frames are contiguous;
 * NCTHW interleaves them per channel, so each frame goes through a scratch picture first.
 * Returns the transform of the frames (all the same size).
 */
function preprocessClip(m: ModelManifest, src: Uint8Array, srcW: number, srcH: number, out: Float32Array): FrameTransform {
  const T = clipFrames(m);
  if (srcH % T !== 0)
    throw new BadFrameError(`a ${T}-frame clip is ${T} equal pictures stacked top to bottom; height ${srcH} is not a multiple of ${T}`);
  const h = srcH / T;
  const { width, height } = inputSize(m);
  const per = width * height * 3;
  if (out.length !== per * T) throw new Error(`input buffer holds ${out.length} values, the model needs ${per * T}`);
  const fm = frameManifest(m);
  const bytes = srcW * h * 3;
  let transform: FrameTransform | null = null;
  if (m.input.layout === 'NTHWC') {
    for (let t = 0; t < T; t++)
      transform = preprocess(fm, src.subarray(t * bytes, (t + 1) * bytes), srcW, h, out.subarray(t * per, (t + 1) * per));
    return transform!;
  }
  let scratch = clipScratch.get(per);
  if (!scratch) {
    scratch = new Float32Array(per);
    clipScratch.set(per, scratch);
  }
  const plane = width * height;
  for (let t = 0; t < T; t++) {
    transform = preprocess(fm, src.subarray(t * bytes, (t + 1) * bytes), srcW, h, scratch);
    for (let c = 0; c < 3; c++) out.set(scratch.subarray(c * plane, (c + 1) * plane), (c * T + t) * plane);
  }
  return transform!;
}
