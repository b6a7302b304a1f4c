import { z } from 'zod';

/**
 * Identity ground truth for the tracker (`eval/labels/*-identities.json`) and how tracks are
 * scored against it: does a labelled person keep one track id from start to end?
 *
 * Two kinds of label, because footage allows different amounts of certainty:
 * - `people`: a person followed by eye across an occlusion, as points (their body centre,
 *   normalised 0..1) at labelled times. At each point the track whose box holds it is that
 *   person's id then; a change of id between consecutive points is an identity switch.
 * - `visits`: footage where only one person is in view at a time (each is a different person):
 *   the time windows of each visit. Every track seen in a window belongs to that visitor, so
 *   more than one is fragmentation; a track id seen in two visits is two people merged.
 */

const Point = z.strictObject({ t: z.number().min(0), x: z.number().min(0).max(1), y: z.number().min(0).max(1) });
export const IdentityLabels = z.strictObject({
  video: z.string(),
  description: z.string(),
  fps: z.number().positive().optional(),
  people: z.array(z.strictObject({ id: z.string().min(1), note: z.string().default(''), points: z.array(Point).min(2) })).default([]),
  visits: z.array(z.strictObject({ id: z.string().min(1), from: z.number().min(0), to: z.number().min(0) })).default([]),
});
export type IdentityLabels = z.infer<typeof IdentityLabels>;

/** What scoring needs of a `sentinel analyze` frame line. */
export interface IdentityFrame {
  t: number;
  tracks: ReadonlyArray<{ id: number; box: readonly [number, number, number, number] }>;
}

export interface PersonScore {
  id: string;
  points: number;
  /** Points where no track held the person. */
  missed: number;
  /** Track ids the person had, in order of first appearance. */
  trackIds: number[];
  /** Times the id changed between consecutive points where the person was tracked. */
  switches: number;
}

export interface VisitScore {
  id: string;
  /** Tracks seen in at least `minFrames` frames of the visit. */
  trackIds: number[];
  /** Track ids beyond the first (0 when the visitor kept one id). */
  fragments: number;
}

export interface IdentityScore {
  people: PersonScore[];
  visits: VisitScore[];
  /** Switches summed over the labelled people. */
  switches: number;
  /** Fragments summed over the visits. */
  fragments: number;
  /** Points / visits where nobody was tracked. */
  missed: number;
  /** Track ids given to two labelled people or two visitors (the wrong person re-identified). */
  merged: number;
}

function nearestFrame<F extends IdentityFrame>(frames: readonly F[], t: number, within: number): F | undefined {
  let best: F | undefined;
  for (const f of frames) if (!best || Math.abs(f.t - t) < Math.abs(best.t - t)) best = f;
  return best && Math.abs(best.t - t) <= within ? best : undefined;
}

/**
 * The track holding a point: its box, grown by `margin` of its size on each side (a hand-placed
 * body centre is not exact), contains the point; of several, the nearest box centre.
 */
export function trackAt(frame: IdentityFrame, x: number, y: number, margin = 0.15): number | null {
  let best: number | null = null;
  let bestD = Infinity;
  for (const tr of frame.tracks) {
    const [x1, y1, x2, y2] = tr.box;
    const mx = (x2 - x1) * margin;
    const my = (y2 - y1) * margin;
    if (x < x1 - mx || x > x2 + mx || y < y1 - my || y > y2 + my) continue;
    const d = Math.hypot((x1 + x2) / 2 - x, (y1 + y2) / 2 - y);
    if (d < bestD) {
      bestD = d;
      best = tr.id;
    }
  }
  return best;
}

export function scoreIdentities(
  frames: readonly IdentityFrame[],
  labels: IdentityLabels,
  opts: { minFrames?: number } = {},
): IdentityScore {
  const minFrames = opts.minFrames ?? 3;
  const owners = new Map<number, Set<string>>();
  const own = (id: number, who: string): void => {
    owners.set(id, (owners.get(id) ?? new Set()).add(who));
  };
  let missed = 0;
  const people: PersonScore[] = labels.people.map((p) => {
    const seq: number[] = [];
    let miss = 0;
    for (const pt of [...p.points].sort((a, b) => a.t - b.t)) {
      const f = nearestFrame(frames, pt.t, 0.3);
      const id = f ? trackAt(f, pt.x, pt.y) : null;
      if (id === null) miss++;
      else seq.push(id);
    }
    let switches = 0;
    for (let i = 1; i < seq.length; i++) if (seq[i] !== seq[i - 1]) switches++;
    const trackIds = [...new Set(seq)];
    for (const id of trackIds) own(id, `person:${p.id}`);
    missed += miss;
    return { id: p.id, points: p.points.length, missed: miss, trackIds, switches };
  });
  const visits: VisitScore[] = labels.visits.map((v) => {
    const n = new Map<number, number>();
    for (const f of frames) if (f.t >= v.from && f.t < v.to) for (const tr of f.tracks) n.set(tr.id, (n.get(tr.id) ?? 0) + 1);
    const trackIds = [...n].filter(([, c]) => c >= minFrames).map(([id]) => id);
    for (const id of trackIds) own(id, `visit:${v.id}`);
    if (trackIds.length === 0) missed++;
    return { id: v.id, trackIds, fragments: Math.max(0, trackIds.length - 1) };
  });
  return {
    people,
    visits,
    switches: people.reduce((s, p) => s + p.switches, 0),
    fragments: visits.reduce((s, v) => s + v.fragments, 0),
    missed,
    merged: [...owners.values()].filter((s) => s.size > 1).length,
  };
}
