/**
 * A ByteTrack-style multi-object tracker for one camera's person detections.
 *
 * Each track predicts where its box will be (constant velocity on the box centre and size,
 * smoothed with an alpha-beta filter: a Kalman filter with fixed gains, which is what
 * ByteTrack's filter settles to at steady frame rates). Association runs in two stages:
 * confident detections against every live track by IoU, then the low-score detections
 * against the tracks still unmatched (a person half hidden behind a pillar scores low but is
 * still the same person: ByteTrack's insight). A track not seen keeps coasting on its
 * prediction for `maxLostMs`, so a short occlusion keeps the same id. New tracks are
 * tentative until seen in `minHits` frames, which keeps one-frame false positives out of
 * counts and alerts.
 *
 * Time is the frame's own timestamp (ms), so the same code runs offline on a file (video
 * time) and live (capture time), and a dropped frame only means a longer prediction step.
 */

export type Box = [number, number, number, number];

export interface TrackerDetection {
  box: Box;
  score: number;
}

export interface TrackerOptions {
  /** Detections at or above this score start tracks and match first (default 0.5). */
  highScore?: number;
  /** Detections between this and highScore only extend existing tracks (default 0.2). */
  lowScore?: number;
  /** Minimum IoU with the predicted box for a match (default 0.2 / 0.3 for the low stage). */
  matchIou?: number;
  lowMatchIou?: number;
  /** A track unseen for longer than this is dropped (default 2000 ms). */
  maxLostMs?: number;
  /** Frames a new track needs before it is confirmed (default 2). */
  minHits?: number;
}

export interface Track {
  id: number;
  /** The box: the matched detection's when seen this frame, the prediction otherwise. */
  box: Box;
  score: number;
  /** Centre velocity in pixels per second, size velocity likewise. */
  vx: number;
  vy: number;
  vw: number;
  vh: number;
  state: 'tentative' | 'confirmed';
  hits: number;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Seen in the current frame (false while coasting through an occlusion). */
  visible: boolean;
  /** Centres of the last frames it was seen in, newest last (for motion rules). */
  history: Array<{ t: number; cx: number; cy: number; h: number }>;
}

const HISTORY = 16;

/** Intersection over the smaller box's area: 1 when one box lies inside the other. */
export function ios(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[2], b[2]);
  const y2 = Math.min(a[3], b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const small = Math.min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]));
  return small > 0 ? inter / small : 0;
}

export function iou(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[2], b[2]);
  const y2 = Math.min(a[3], b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return ua > 0 ? inter / ua : 0;
}

function toCxcywh(b: Box): [number, number, number, number] {
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]];
}

function fromCxcywh(cx: number, cy: number, w: number, h: number): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

/**
 * Greedy assignment by descending IoU: for the few people per camera it matches Hungarian in
 * practice. A track is compared with both its predicted box and its last box, the better of
 * the two: constant-velocity prediction overshoots when someone stops or reverses abruptly
 * (a shove), and the last box still overlaps then.
 */
function greedyMatch(tracks: Track[], boxes: Box[], predicted: Map<number, Box>, minIou: number): Array<[number, number]> {
  const pairs: Array<{ t: number; d: number; iou: number }> = [];
  tracks.forEach((tr, ti) => {
    const p = predicted.get(tr.id) ?? tr.box;
    boxes.forEach((b, di) => {
      const v = Math.max(iou(p, b), iou(tr.box, b));
      if (v >= minIou) pairs.push({ t: ti, d: di, iou: v });
    });
  });
  pairs.sort((a, b) => b.iou - a.iou);
  const usedT = new Set<number>();
  const usedD = new Set<number>();
  const out: Array<[number, number]> = [];
  for (const p of pairs) {
    if (usedT.has(p.t) || usedD.has(p.d)) continue;
    usedT.add(p.t);
    usedD.add(p.d);
    out.push([p.t, p.d]);
  }
  return out;
}

export class Tracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private lastT: number | null = null;
  private readonly o: Required<TrackerOptions>;

  constructor(opts: TrackerOptions = {}) {
    this.o = { highScore: 0.5, lowScore: 0.2, matchIou: 0.2, lowMatchIou: 0.3, maxLostMs: 2000, minHits: 2, ...opts };
  }

  /** Tracks alive after the last update (confirmed and tentative, visible or coasting). */
  all(): readonly Track[] {
    return this.tracks;
  }

  /** Confirmed tracks, visible this frame or coasting (lost for less than `coastMs`). */
  active(coastMs = 600): Track[] {
    const t = this.lastT ?? 0;
    return this.tracks.filter((tr) => tr.state === 'confirmed' && (tr.visible || t - tr.lastSeenMs <= coastMs));
  }

  /** Advances to time `t` (ms) with this frame's detections; returns the confirmed tracks seen this frame. */
  update(t: number, detections: readonly TrackerDetection[]): Track[] {
    const dtS = this.lastT === null ? 0 : Math.max(0, (t - this.lastT) / 1000);
    this.lastT = t;
    const predicted = new Map<number, Box>();
    for (const tr of this.tracks) {
      const [cx, cy, w, h] = toCxcywh(tr.box);
      // Size changes slowly; damp its velocity so a coasting box does not balloon.
      predicted.set(
        tr.id,
        fromCxcywh(cx + tr.vx * dtS, cy + tr.vy * dtS, Math.max(1, w + tr.vw * dtS * 0.5), Math.max(1, h + tr.vh * dtS * 0.5)),
      );
      tr.visible = false;
    }
    const high = detections.filter((d) => d.score >= this.o.highScore);
    const low = detections.filter((d) => d.score < this.o.highScore && d.score >= this.o.lowScore);

    // Stage 1: confident detections against every track (confirmed first by IoU order anyway).
    const m1 = greedyMatch(
      this.tracks,
      high.map((d) => d.box),
      predicted,
      this.o.matchIou,
    );
    const matchedT = new Set<number>();
    const matchedD = new Set<number>();
    for (const [ti, di] of m1) {
      this.correct(this.tracks[ti]!, high[di]!, t, dtS, predicted);
      matchedT.add(ti);
      matchedD.add(di);
    }
    // Stage 2: low-score detections only extend confirmed tracks left over.
    const rest = this.tracks.filter((tr, i) => !matchedT.has(i) && tr.state === 'confirmed');
    const m2 = greedyMatch(
      rest,
      low.map((d) => d.box),
      predicted,
      this.o.lowMatchIou,
    );
    const matchedRest = new Set<number>();
    for (const [ti, di] of m2) {
      this.correct(rest[ti]!, low[di]!, t, dtS, predicted);
      matchedRest.add(ti);
    }
    // Stage 3: a box that changed shape too much for IoU (a person stepping into view from
    // the frame edge grows from a head to a whole body) still claims the confirmed track it
    // contains or lies inside, instead of starting a second track for the same person.
    const left = rest.filter((_, i) => !matchedRest.has(i));
    const freeHigh = high.map((d, di) => ({ d, di })).filter(({ di }) => !matchedD.has(di));
    const pairs: Array<{ tr: Track; di: number; v: number }> = [];
    for (const tr of left)
      for (const { d, di } of freeHigh) {
        const v = ios(predicted.get(tr.id) ?? tr.box, d.box);
        if (v >= 0.7) pairs.push({ tr, di, v });
      }
    pairs.sort((a, b) => b.v - a.v);
    const usedT = new Set<number>();
    for (const p of pairs) {
      if (usedT.has(p.tr.id) || matchedD.has(p.di)) continue;
      usedT.add(p.tr.id);
      matchedD.add(p.di);
      this.correct(p.tr, high[p.di]!, t, dtS, predicted);
    }

    // Unmatched tracks coast on their prediction; too long unseen (or tentative and missed) ends them.
    this.tracks = this.tracks.filter((tr) => {
      if (tr.visible) return true;
      if (tr.state === 'tentative') return false;
      if (t - tr.lastSeenMs > this.o.maxLostMs) return false;
      tr.box = predicted.get(tr.id) ?? tr.box;
      return true;
    });

    // New tracks from confident detections nobody claimed (and that do not sit on a live track).
    high.forEach((d, di) => {
      if (matchedD.has(di)) return;
      if (this.tracks.some((tr) => tr.visible && iou(tr.box, d.box) > 0.7)) return;
      const [cx, cy, , h] = toCxcywh(d.box);
      this.tracks.push({
        id: this.nextId++,
        box: [...d.box],
        score: d.score,
        vx: 0,
        vy: 0,
        vw: 0,
        vh: 0,
        state: this.o.minHits <= 1 ? 'confirmed' : 'tentative',
        hits: 1,
        firstSeenMs: t,
        lastSeenMs: t,
        visible: true,
        history: [{ t, cx, cy, h }],
      });
    });
    return this.tracks.filter((tr) => tr.visible && tr.state === 'confirmed');
  }

  private correct(tr: Track, d: TrackerDetection, t: number, dtS: number, predicted: Map<number, Box>): void {
    const [pcx, pcy, pw, ph] = toCxcywh(predicted.get(tr.id) ?? tr.box);
    const [cx, cy, w, h] = toCxcywh(d.box);
    // Alpha-beta update: position follows the measurement, velocity takes part of the residual.
    const beta = 0.4;
    if (dtS > 0) {
      tr.vx += (beta * (cx - pcx)) / dtS;
      tr.vy += (beta * (cy - pcy)) / dtS;
      tr.vw += (beta * (w - pw)) / dtS;
      tr.vh += (beta * (h - ph)) / dtS;
    }
    tr.box = [...d.box];
    tr.score = d.score;
    tr.hits++;
    tr.lastSeenMs = t;
    tr.visible = true;
    if (tr.state === 'tentative' && tr.hits >= this.o.minHits) tr.state = 'confirmed';
    tr.history.push({ t, cx, cy, h });
    if (tr.history.length > HISTORY) tr.history.shift();
  }
}
