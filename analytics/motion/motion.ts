import { pointInPolygon, type Point } from '../../contract/zones';
import type { Box } from '../tracking/tracker';

/**
 * Motion detection on a small grey copy of each analysis frame, the way Frigate gates its
 * detector: difference against a running-average background, a threshold, connected blobs
 * as boxes. It exists so the person detector (tens of ms a frame) runs only where and when
 * something changes; this costs well under a millisecond on a 416 px frame.
 *
 * Hand-written rather than a kept library: the only candidates (opencv4nodejs, opencv.js)
 * are native or multi-megabyte builds for what is a few dozen lines over a 80x45 grid.
 */
export interface MotionOptions {
  /** Width of the grey grid motion is found on, cells (default 80; the height follows the aspect). */
  gridWidth?: number;
  /** Grey-level difference from the background that counts as a changed cell (1..255, default 20). */
  threshold?: number;
  /** Background update rate per frame, 0..1 (default 0.1: a parked object blends in after ~2 s at 5 fps). */
  alpha?: number;
  /** Smallest blob counted, as a fraction of the frame (default 0.0015: a distant person at 416 px is ~0.003). */
  minArea?: number;
  /** Polygons (normalised 0..1) where changes never count: clocks, screens, trees, a display board. */
  masks?: ReadonlyArray<readonly Point[]>;
  /** More than this fraction changed at once is a lighting change or camera move: the background restarts (default 0.6). */
  lightingFraction?: number;
}

export interface MotionResult {
  /** Some blob at least minArea changed. */
  moving: boolean;
  /** Blob boxes in source pixels. */
  boxes: Box[];
  /** Fraction of the (unmasked) frame that changed. */
  fraction: number;
  /** The background was restarted (first frame, size change, or a lighting change). */
  reset: boolean;
}

export class MotionDetector {
  private readonly gridWidth: number;
  private readonly threshold: number;
  private readonly alpha: number;
  private readonly minArea: number;
  private readonly lightingFraction: number;
  private bg: Float32Array | null = null;
  private grey = new Uint8Array(0);
  private changed = new Uint8Array(0);
  private labels = new Int32Array(0);
  private stack = new Int32Array(0);
  private masked: Uint8Array | null = null;
  private geometry = '';
  private gw = 0;
  private gh = 0;
  private step = 1;
  private unmasked = 0;
  private masks: ReadonlyArray<readonly Point[]>;

  constructor(opts: MotionOptions = {}) {
    this.gridWidth = Math.max(8, Math.round(opts.gridWidth ?? 80));
    this.threshold = Math.min(255, Math.max(1, opts.threshold ?? 20));
    this.alpha = Math.min(1, Math.max(0.001, opts.alpha ?? 0.1));
    this.minArea = Math.max(0, opts.minArea ?? 0.0015);
    this.lightingFraction = opts.lightingFraction ?? 0.6;
    this.masks = opts.masks ?? [];
  }

  /**
   * New masks (a technician drew or removed one): the grid is laid out again on the next
   * frame, and the background restarts with it.
   */
  setMasks(masks: ReadonlyArray<readonly Point[]>): void {
    // The same masks again (zones re-sent, a model swapped) keep the background learned so far.
    if (JSON.stringify(masks) === JSON.stringify(this.masks)) return;
    this.masks = masks;
    this.geometry = '';
  }

  /** Forgets the background (the next frame starts a new one). */
  reset(): void {
    this.bg = null;
  }

  private setGeometry(width: number, height: number): void {
    this.step = Math.max(1, Math.floor(width / this.gridWidth));
    this.gw = Math.max(1, Math.floor(width / this.step));
    this.gh = Math.max(1, Math.floor(height / this.step));
    const n = this.gw * this.gh;
    // Buffers are sized once per geometry and reused: nothing is allocated per frame.
    this.grey = new Uint8Array(n);
    this.changed = new Uint8Array(n);
    this.labels = new Int32Array(n);
    this.stack = new Int32Array(n);
    this.masked = null;
    this.unmasked = n;
    const masks = this.masks;
    if (masks.length) {
      this.masked = new Uint8Array(n);
      for (let y = 0; y < this.gh; y++) {
        for (let x = 0; x < this.gw; x++) {
          const p: Point = [(x + 0.5) / this.gw, (y + 0.5) / this.gh];
          if (masks.some((m) => m.length >= 3 && pointInPolygon(p, m))) this.masked[y * this.gw + x] = 1;
        }
      }
      this.unmasked = n - this.masked.reduce((a, v) => a + v, 0);
    }
    this.geometry = `${width}x${height}`;
    this.bg = null;
  }

  /** Block-averaged grey (integer luma weights) of a BGR24 frame into this.grey. */
  private downsample(bgr: Uint8Array, width: number): void {
    const { gw, gh, step, grey } = this;
    // Every other row and column of each block: the average barely changes and it halves the reads.
    const sub = step >= 4 ? 2 : 1;
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        let sum = 0;
        let count = 0;
        for (let y = gy * step; y < (gy + 1) * step; y += sub) {
          let i = (y * width + gx * step) * 3;
          for (let x = 0; x < step; x += sub, i += 3 * sub) {
            sum += bgr[i]! * 29 + bgr[i + 1]! * 150 + bgr[i + 2]! * 77;
            count++;
          }
        }
        grey[gy * gw + gx] = sum / count / 256;
      }
    }
  }

  detect(bgr: Uint8Array, width: number, height: number): MotionResult {
    if (bgr.length < width * height * 3)
      throw new RangeError(`motion: frame of ${bgr.length} bytes is smaller than ${width}x${height} BGR24`);
    if (this.geometry !== `${width}x${height}`) this.setGeometry(width, height);
    this.downsample(bgr, width);
    const { gw, gh, grey, changed, masked } = this;
    const n = gw * gh;
    if (!this.bg) {
      this.bg = Float32Array.from(grey);
      return { moving: false, boxes: [], fraction: 0, reset: true };
    }
    const bg = this.bg;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const c = !masked?.[i] && Math.abs(grey[i]! - bg[i]!) > this.threshold ? 1 : 0;
      changed[i] = c;
      count += c;
    }
    const fraction = this.unmasked ? count / this.unmasked : 0;
    if (fraction > this.lightingFraction) {
      this.bg.set(grey);
      return { moving: true, boxes: [[0, 0, width, height]], fraction, reset: true };
    }
    // The background follows slowly, so a person standing still fades into it over a few seconds
    // (the keep-alive detection counts them) while a walking person keeps showing.
    const a = this.alpha;
    for (let i = 0; i < n; i++) bg[i] = bg[i]! + a * (grey[i]! - bg[i]!);
    const boxes = count ? this.blobs(width, height) : [];
    return { moving: boxes.length > 0, boxes, fraction, reset: false };
  }

  /** 8-connected blobs of changed cells (iterative flood fill on reused buffers), merged when they overlap. */
  private blobs(width: number, height: number): Box[] {
    const { gw, gh, changed, labels, stack, step } = this;
    labels.fill(0);
    const minCells = Math.max(1, Math.round(this.minArea * gw * gh));
    const boxes: Box[] = [];
    let label = 0;
    for (let start = 0; start < gw * gh; start++) {
      if (!changed[start] || labels[start]) continue;
      label++;
      let top = 0;
      stack[top++] = start;
      labels[start] = label;
      let cells = 0;
      let x1 = gw;
      let y1 = gh;
      let x2 = 0;
      let y2 = 0;
      while (top > 0) {
        const i = stack[--top]!;
        const x = i % gw;
        const y = (i - x) / gw;
        cells++;
        if (x < x1) x1 = x;
        if (x > x2) x2 = x;
        if (y < y1) y1 = y;
        if (y > y2) y2 = y;
        for (let dy = -1; dy <= 1; dy++) {
          const ny = y + dy;
          if (ny < 0 || ny >= gh) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx;
            if (nx < 0 || nx >= gw) continue;
            const j = ny * gw + nx;
            if (changed[j] && !labels[j]) {
              labels[j] = label;
              stack[top++] = j;
            }
          }
        }
      }
      if (cells >= minCells) boxes.push([x1 * step, y1 * step, Math.min(width, (x2 + 1) * step), Math.min(height, (y2 + 1) * step)]);
    }
    return mergeBoxes(boxes);
  }
}

function overlaps(a: Box, b: Box, pad: number): boolean {
  return a[0] - pad <= b[2] && b[0] - pad <= a[2] && a[1] - pad <= b[3] && b[1] - pad <= a[3];
}

/** Merges boxes that touch or overlap (a person's moving arm and leg are one region). */
export function mergeBoxes(input: readonly Box[], pad = 4): Box[] {
  const boxes = input.map((b) => [...b] as Box);
  let merged = true;
  while (merged) {
    merged = false;
    for (let i = 0; i < boxes.length && !merged; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        if (!overlaps(a, b, pad)) continue;
        boxes[i] = [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
        boxes.splice(j, 1);
        merged = true;
        break;
      }
    }
  }
  return boxes;
}
