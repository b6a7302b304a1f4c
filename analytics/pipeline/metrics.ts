import { pointInPolygon, type Zone } from '../../contract/zones';
import { clampInside } from '../zones';
import type { FrameLine } from './offline';

/**
 * Evaluation metrics over `sentinel analyze` output (the `npm run eval` harness): people
 * count error at labelled times, and zone entries matched to labelled ones.
 */

export interface CountLabel {
  t: number;
  people: number;
}

export interface EntryLabel {
  zone: string;
  t: number;
}

/** The analysed frame nearest to time t (seconds), or undefined when none is within half a second. */
export function frameAt(frames: readonly FrameLine[], t: number): FrameLine | undefined {
  let best: FrameLine | undefined;
  for (const f of frames) if (!best || Math.abs(f.t - t) < Math.abs(best.t - t)) best = f;
  return best && Math.abs(best.t - t) <= 0.5 ? best : undefined;
}

/** Mean absolute error of a count taken from each frame, over the labelled times. */
export function countMae(
  frames: readonly FrameLine[],
  labels: readonly CountLabel[],
  count: (f: FrameLine) => number,
): { mae: number; n: number; pairs: Array<{ t: number; truth: number; got: number }> } {
  const pairs = labels.flatMap((l) => {
    const f = frameAt(frames, l.t);
    return f ? [{ t: l.t, truth: l.people, got: count(f) }] : [];
  });
  const mae = pairs.length ? pairs.reduce((s, p) => s + Math.abs(p.got - p.truth), 0) / pairs.length : Number.NaN;
  return { mae, n: pairs.length, pairs };
}

/**
 * Zone entries seen in the frame lines: a track whose feet (box bottom centre) are inside
 * the zone for two analysed frames in a row, having been outside (or unseen) before. The
 * entry's time is the first of the two frames.
 */
export function detectEntries(frames: readonly FrameLine[], zones: readonly Zone[]): EntryLabel[] {
  const out: EntryLabel[] = [];
  for (const z of zones) {
    const state = new Map<number, { inside: number; firstT: number; entered: boolean }>();
    for (const f of frames) {
      const seen = new Set<number>();
      for (const tr of f.tracks) {
        seen.add(tr.id);
        const p = clampInside([(tr.box[0] + tr.box[2]) / 2, tr.box[3]]);
        const inside = !z.polygon || pointInPolygon(p, z.polygon);
        const s = state.get(tr.id) ?? { inside: 0, firstT: f.t, entered: false };
        if (inside) {
          if (s.inside === 0) s.firstT = f.t;
          s.inside++;
          if (s.inside === 2 && !s.entered) {
            s.entered = true;
            out.push({ zone: z.id, t: s.firstT });
          }
        } else {
          s.inside = 0;
          s.entered = false;
        }
        state.set(tr.id, s);
      }
      for (const [id, s] of state) if (!seen.has(id)) s.inside = 0;
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

/** Greedy one-to-one matching of detected entries to labels of the same zone within `tolS`. */
export function matchEntries(
  found: readonly EntryLabel[],
  truth: readonly EntryLabel[],
  tolS: number,
): { tp: number; fp: number; fn: number } {
  const used = new Set<number>();
  let tp = 0;
  for (const f of found) {
    let best = -1;
    truth.forEach((t, i) => {
      if (used.has(i) || t.zone !== f.zone || Math.abs(t.t - f.t) > tolS) return;
      if (best < 0 || Math.abs(t.t - f.t) < Math.abs(truth[best]!.t - f.t)) best = i;
    });
    if (best >= 0) {
      used.add(best);
      tp++;
    }
  }
  return { tp, fp: found.length - tp, fn: truth.length - tp };
}
