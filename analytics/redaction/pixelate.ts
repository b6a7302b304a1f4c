/**
 * In-place pixelation of packed RGB frames, for the public copy of evidence and for privacy
 * masks. Written by hand rather than with sharp: the work is one pass of block means over
 * typed arrays on frames that are already raw, and a sharp pipeline per region per frame
 * (extract, blur, composite) would copy every frame several times.
 *
 * Pixelation, not a Gaussian blur: a block's pixels are replaced by their mean, which throws
 * the detail away (a blur can be partly undone by deconvolution).
 */

export type Box = readonly [number, number, number, number];
export type Polygon = readonly (readonly [number, number])[];

export interface PixelRect {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** A normalised box grown by `margin` of its size on each side (more on top, where the head is), in clamped pixels. */
export function boxToPixels(box: Box, width: number, height: number, margin = 0): PixelRect {
  const bw = box[2] - box[0];
  const bh = box[3] - box[1];
  const x1 = Math.floor((box[0] - bw * margin) * width);
  const x2 = Math.ceil((box[2] + bw * margin) * width);
  const y1 = Math.floor((box[1] - bh * margin * 1.5) * height);
  const y2 = Math.ceil((box[3] + bh * margin) * height);
  return { x1: Math.max(0, x1), y1: Math.max(0, y1), x2: Math.min(width, x2), y2: Math.min(height, y2) };
}

/**
 * The block size for a person's box: about four blocks across the box, so a face (about half
 * a person's width) spans two blocks at most and cannot be recognised; never under `min` px.
 */
export function blockFor(rect: PixelRect, min = 8): number {
  return Math.max(min, Math.ceil((rect.x2 - rect.x1) / 4));
}

/**
 * Replaces each `block`-sized cell of `rect` by the mean of its pixels. With `mask`, only
 * pixels whose mask byte is 1 are read and written (a polygon, or "everything but the
 * subjects"); the grid is aligned to the frame so neighbouring regions share cells.
 */
export function pixelate(rgb: Uint8Array, width: number, height: number, rect: PixelRect, block: number, mask?: Uint8Array): void {
  const x1 = Math.max(0, rect.x1);
  const y1 = Math.max(0, rect.y1);
  const x2 = Math.min(width, rect.x2);
  const y2 = Math.min(height, rect.y2);
  if (x2 <= x1 || y2 <= y1 || block < 1) return;
  const gx1 = mask ? Math.floor(x1 / block) * block : x1;
  const gy1 = mask ? Math.floor(y1 / block) * block : y1;
  for (let by = gy1; by < y2; by += block) {
    const cy1 = Math.max(by, y1);
    const cy2 = Math.min(by + block, y2);
    for (let bx = gx1; bx < x2; bx += block) {
      const cx1 = Math.max(bx, x1);
      const cx2 = Math.min(bx + block, x2);
      let r = 0;
      let g = 0;
      let b = 0;
      let n = 0;
      for (let y = cy1; y < cy2; y++) {
        let i = y * width + cx1;
        for (let x = cx1; x < cx2; x++, i++) {
          if (mask && mask[i] !== 1) continue;
          const p = i * 3;
          r += rgb[p]!;
          g += rgb[p + 1]!;
          b += rgb[p + 2]!;
          n++;
        }
      }
      if (n === 0) continue;
      const mr = Math.round(r / n);
      const mg = Math.round(g / n);
      const mb = Math.round(b / n);
      for (let y = cy1; y < cy2; y++) {
        let i = y * width + cx1;
        for (let x = cx1; x < cx2; x++, i++) {
          if (mask && mask[i] !== 1) continue;
          const p = i * 3;
          rgb[p] = mr;
          rgb[p + 1] = mg;
          rgb[p + 2] = mb;
        }
      }
    }
  }
}

/**
 * Rasterises normalised polygons into a frame-sized mask (1 inside), by even-odd scanlines
 * through pixel centres. Returns the mask and the bounding rectangle of what was set, or
 * null when no pixel is inside.
 */
export function rasterisePolygons(
  polygons: readonly Polygon[],
  width: number,
  height: number,
): { mask: Uint8Array; rect: PixelRect } | null {
  const mask = new Uint8Array(width * height);
  const rect: PixelRect = { x1: width, y1: height, x2: 0, y2: 0 };
  for (const poly of polygons) {
    if (poly.length < 3) continue;
    const pts = poly.map(([x, y]) => [x * width, y * height] as const);
    const ys = pts.map((p) => p[1]);
    const top = Math.max(0, Math.floor(Math.min(...ys)));
    const bottom = Math.min(height - 1, Math.ceil(Math.max(...ys)));
    for (let y = top; y <= bottom; y++) {
      const cy = y + 0.5;
      const xs: number[] = [];
      for (let i = 0; i < pts.length; i++) {
        const a = pts[i]!;
        const b = pts[(i + 1) % pts.length]!;
        if (a[1] <= cy === b[1] <= cy) continue;
        xs.push(a[0] + ((cy - a[1]) / (b[1] - a[1])) * (b[0] - a[0]));
      }
      xs.sort((p, q) => p - q);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil(xs[k]! - 0.5));
        const to = Math.min(width - 1, Math.floor(xs[k + 1]! - 0.5));
        if (to < from) continue;
        mask.fill(1, y * width + from, y * width + to + 1);
        rect.x1 = Math.min(rect.x1, from);
        rect.x2 = Math.max(rect.x2, to + 1);
        rect.y1 = Math.min(rect.y1, y);
        rect.y2 = Math.max(rect.y2, y + 1);
      }
    }
  }
  return rect.x2 > rect.x1 ? { mask, rect } : null;
}
