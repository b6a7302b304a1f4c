import { ZonesFile, type Point, type Zone } from '../../../contract/zones';

/** A zone being edited: the same shape the core stores (contract/zones.ts). */
export type DraftZone = Zone;

/** Keeps a click inside the frame and at a sensible precision (1/10000 of the frame). */
export function clampPoint(x: number, y: number): Point {
  const c = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;
  return [c(x), c(y)];
}

/** A fresh id not used by any zone (`zone-1`, `zone-2`, ...). */
export function nextZoneId(zones: readonly { id: string }[]): string {
  const used = new Set(zones.map((z) => z.id));
  for (let i = 1; ; i++) if (!used.has(`zone-${i}`)) return `zone-${i}`;
}

/**
 * What is wrong with each zone, keyed by index, from the same schema the core applies, so
 * the editor shows a problem next to its polygon before anything is sent.
 */
export function zoneProblems(zones: readonly DraftZone[]): Map<number, string> {
  const out = new Map<number, string>();
  const r = ZonesFile.safeParse({ zones });
  if (r.success) return out;
  for (const issue of r.error.issues) {
    const [head, idx, ...rest] = issue.path;
    if (head !== 'zones' || typeof idx !== 'number' || out.has(idx)) continue;
    const where = rest.length ? `${rest.map(String).join('.')}: ` : '';
    out.set(idx, issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}` : `${where}${issue.message}`);
  }
  return out;
}

/** The zone index an API error's field points at (`zones.2.polygon` -> 2), or null. */
export function zoneIndexOfField(field: string | undefined): number | null {
  const m = /^zones\.(\d+)(?:\.|$)/.exec(field ?? '');
  return m ? Number(m[1]) : null;
}

/** Moves one vertex. */
export function movePoint(poly: readonly Point[], i: number, p: Point): Point[] {
  return poly.map((q, j) => (j === i ? p : q));
}

/** Removes a vertex, keeping at least a triangle. */
export function removePoint(poly: readonly Point[], i: number): Point[] {
  if (poly.length <= 3) return [...poly];
  return poly.filter((_, j) => j !== i);
}

/** Inserts a vertex in the middle of edge i (between point i and i+1). */
export function splitEdge(poly: readonly Point[], i: number): Point[] {
  const a = poly[i];
  const b = poly[(i + 1) % poly.length];
  if (!a || !b) return [...poly];
  const mid = clampPoint((a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
  return [...poly.slice(0, i + 1), mid, ...poly.slice(i + 1)];
}

/** Where to put a zone's label: its top-most vertex. */
/**
 * Label positions in pixels, moved down a line where two would overlap: zones that share a
 * top corner (a whole-frame watch zone and a walkway from the same corner) otherwise print
 * their names on top of each other. `widths` are the labels' approximate widths.
 */
export function spreadLabels(
  anchors: ReadonlyArray<readonly [number, number]>,
  widths: readonly number[],
  lineHeight = 16,
): [number, number][] {
  const placed: [number, number][] = [];
  anchors.forEach(([x, y0], i) => {
    let y = y0;
    const w = widths[i] ?? 0;
    const clashes = (): boolean => placed.some(([px, py], k) => Math.abs(py - y) < lineHeight && x < px + (widths[k] ?? 0) && px < x + w);
    for (let guard = 0; clashes() && guard < anchors.length; guard++) y += lineHeight;
    placed.push([x, y]);
  });
  return placed;
}

export function labelAnchor(poly: readonly Point[]): Point {
  let best: Point = poly[0] ?? [0.5, 0.5];
  for (const p of poly) if (p[1] < best[1]) best = p;
  return best;
}
