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
 *
 * Re-identification (optional, `reid`): IoU alone cannot bridge an occlusion longer than the
 * coasting prediction stays on target, so the person who steps out from behind a pillar gets
 * a new id. With re-ID, each confirmed track keeps an appearance embedding (an EMA of the
 * re-identification model's embeddings of its crops), a track past `maxLostMs` is kept in a
 * lost list for `reid.maxLostMs`, and a confident detection no track claimed by position is
 * given back the lost (or coasting) track whose embedding it matches, if it is also plausible
 * in position and size. The embeddings are computed by the caller between `embedRequests`
 * (which detections are worth embedding this frame: unclaimed ones, and a track's isolated
 * crop when its embedding is stale) and `update`: embedding every box every frame would cost
 * more than the detector. Appearance takes no part in matching boxes that overlap a track:
 * tried as a tie-break between people crossing on vtest.avi, it caused a switch, because the
 * model barely tells apart people that small (docs/analytics.md).
 */

export type Box = [number, number, number, number];

export interface TrackerDetection {
  box: Box;
  score: number;
  /** The re-identification model's L2-normalised embedding of this box's crop, when computed. */
  embedding?: Float32Array | null;
}

export interface ReidOptions {
  /** Re-associate lost tracks by appearance (default false in the tracker itself). */
  enabled?: boolean;
  /**
   * Cosine similarity a detection needs with a lost track's embedding (default 0.9: with
   * person-reid-0288 on CCTV-sized people, different people in one scene score 0.79 at the
   * median and 0.89 at the 95th percentile; docs/analytics.md has the calibration).
   */
  minSimilarity?: number;
  /** A lost track can be re-associated this long after it was last seen (default 6000 ms). */
  maxLostMs?: number;
  /** A visible track's embedding is refreshed from an isolated crop at most this often (default 1000 ms). */
  refreshMs?: number;
  /** Weight of the old embedding in the EMA (default 0.8: a few bad crops do not overwrite a person). */
  momentum?: number;
  /** Embeddings asked for per frame at most (default 4): the cost per frame stays bounded in a crowd. */
  maxPerFrame?: number;
  /** How far a lost person may have walked, in their own heights per second lost (default 1.2), plus half a height. */
  maxSpeedHeights?: number;
  /** Largest ratio between the lost box's height and the new one's (default 1.6). */
  maxSizeRatio?: number;
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
  reid?: ReidOptions;
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
  /** Appearance (re-ID on): EMA of its crops' embeddings, L2-normalised; null until one is taken. */
  embedding: Float32Array | null;
  /** When the embedding last took a crop (ms). */
  embeddedMs: number;
  /** Times this track was given back to a person by appearance after it was lost. */
  reidentified: number;
  /** The box it was last seen with (not a prediction). */
  seenBox: Box;
}

/** Figures of the re-ID stage since the tracker started. */
export interface ReidStats {
  /** Detections the tracker asked to have embedded. */
  requested: number;
  /** Lost tracks given back by appearance. */
  reassociated: number;
  /** Candidates plausible in position and size but refused because they did not look alike. */
  refused: number;
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

/** Cosine similarity of two L2-normalised vectors (their dot product). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}

function normalised(v: ArrayLike<number>): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const k = n > 0 ? 1 / Math.sqrt(n) : 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * k;
  return out;
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

/**
 * Whether a box last seen touching the frame's edge (within 2 % of the frame) can be the
 * same person as `next`: `next` must lie within its own width (height for the top and bottom)
 * of one of the edges the lost box touched. A box clear of every edge passes.
 */
export function backThroughEdge(last: Box, next: Box, frame: { width: number; height: number }): boolean {
  const mx = frame.width * 0.02;
  const my = frame.height * 0.02;
  const edges = [last[0] <= mx, last[1] <= my, last[2] >= frame.width - mx, last[3] >= frame.height - my];
  if (!edges.some(Boolean)) return true;
  const w = next[2] - next[0];
  const h = next[3] - next[1];
  const near = [next[0] <= w + mx, next[1] <= h + my, next[2] >= frame.width - w - mx, next[3] >= frame.height - h - my];
  return edges.some((e, i) => e && near[i]);
}

export const REID_DEFAULTS: Required<ReidOptions> = {
  enabled: false,
  minSimilarity: 0.9,
  maxLostMs: 6000,
  refreshMs: 1000,
  momentum: 0.8,
  maxPerFrame: 4,
  maxSpeedHeights: 1.2,
  maxSizeRatio: 1.6,
};

export class Tracker {
  private tracks: Track[] = [];
  /** Confirmed tracks unseen past maxLostMs, kept (re-ID on) only to be recognised again. */
  private lost: Track[] = [];
  private nextId = 1;
  private lastT: number | null = null;
  private readonly o: Required<Omit<TrackerOptions, 'reid'>>;
  private readonly r: Required<ReidOptions>;
  readonly reidStats: ReidStats = { requested: 0, reassociated: 0, refused: 0 };

  constructor(opts: TrackerOptions = {}) {
    const { reid, ...rest } = opts;
    this.o = { highScore: 0.5, lowScore: 0.2, matchIou: 0.2, lowMatchIou: 0.3, maxLostMs: 2000, minHits: 2, ...rest };
    this.r = { ...REID_DEFAULTS, ...reid };
  }

  get reidEnabled(): boolean {
    return this.r.enabled;
  }

  /** Where each track's box is predicted to be at time `t` (nothing is changed). */
  private predict(t: number): Map<number, Box> {
    const dtS = this.lastT === null ? 0 : Math.max(0, (t - this.lastT) / 1000);
    const predicted = new Map<number, Box>();
    for (const tr of this.tracks) {
      const [cx, cy, w, h] = toCxcywh(tr.box);
      // Size changes slowly; damp its velocity so a coasting box does not balloon.
      predicted.set(
        tr.id,
        fromCxcywh(cx + tr.vx * dtS, cy + tr.vy * dtS, Math.max(1, w + tr.vw * dtS * 0.5), Math.max(1, h + tr.vh * dtS * 0.5)),
      );
    }
    return predicted;
  }

  /**
   * Which of this frame's detections are worth an embedding before `update(t, detections)`
   * (indices into `detections`; empty with re-ID off). In order of use, at most `maxPerFrame`:
   * confident boxes no track is likely to claim by position (a person back from an occlusion,
   * or a new person whose look starts their gallery), then the isolated boxes of confirmed
   * tracks whose embedding is older than `refreshMs`. Changes nothing.
   */
  embedRequests(t: number, detections: readonly TrackerDetection[]): number[] {
    if (!this.r.enabled) return [];
    const predicted = this.predict(t);
    const unclaimed: number[] = [];
    const stale: Array<{ di: number; age: number }> = [];
    detections.forEach((d, di) => {
      if (d.score < this.o.highScore) return;
      const near: Track[] = [];
      let best: Track | null = null;
      let bestV = 0;
      for (const tr of this.tracks) {
        const v = Math.max(iou(predicted.get(tr.id) ?? tr.box, d.box), iou(tr.box, d.box));
        if (v >= this.o.matchIou) near.push(tr);
        if (v > bestV) {
          bestV = v;
          best = tr;
        }
      }
      const inside = this.tracks.some((tr) => tr.state === 'confirmed' && ios(predicted.get(tr.id) ?? tr.box, d.box) >= 0.7);
      if (near.length === 0 && !inside) unclaimed.push(di);
      else if (
        near.length === 1 &&
        best &&
        best.state === 'confirmed' &&
        t - best.embeddedMs >= this.r.refreshMs &&
        this.isolated(di, detections)
      )
        stale.push({ di, age: t - best.embeddedMs });
    });
    stale.sort((a, b) => b.age - a.age);
    const out = [...unclaimed, ...stale.map((s) => s.di)].slice(0, this.r.maxPerFrame);
    this.reidStats.requested += out.length;
    return out;
  }

  /** A box overlapping no other detection: its crop shows one person, fit to be remembered. */
  private isolated(di: number, detections: readonly TrackerDetection[]): boolean {
    const b = detections[di]!.box;
    return detections.every((o, oi) => oi === di || o.score < this.o.lowScore || iou(o.box, b) < 0.05);
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
  update(t: number, detections: readonly TrackerDetection[], frame?: { width: number; height: number }): Track[] {
    const dtS = this.lastT === null ? 0 : Math.max(0, (t - this.lastT) / 1000);
    const predicted = this.predict(t);
    this.lastT = t;
    for (const tr of this.tracks) tr.visible = false;
    const high = detections.filter((d) => d.score >= this.o.highScore);
    const low = detections.filter((d) => d.score < this.o.highScore && d.score >= this.o.lowScore);
    const reid = this.r.enabled;

    // Stage 1: confident detections against every track (confirmed first by IoU order anyway).
    const m1 = greedyMatch(
      this.tracks,
      high.map((d) => d.box),
      predicted,
      this.o.matchIou,
    );
    const matchedT = new Set<number>();
    const matchedD = new Set<number>();
    /** Which track each confident detection went to (for refreshing that track's look). */
    const trackOf = new Map<number, Track>();
    for (const [ti, di] of m1) {
      this.correct(this.tracks[ti]!, high[di]!, t, dtS, predicted);
      matchedT.add(ti);
      matchedD.add(di);
      trackOf.set(di, this.tracks[ti]!);
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
      trackOf.set(p.di, p.tr);
      this.correct(p.tr, high[p.di]!, t, dtS, predicted);
    }

    // Stage 4 (re-ID): a confident box nobody claimed by position, that looks like a track
    // lost behind something (coasting, or past maxLostMs in the lost list), takes that track back.
    if (reid) this.reassociate(t, high, matchedD, frame);

    // A matched box with an embedding refreshes its track's look, unless other people overlap
    // it (the crop would mix them).
    if (reid)
      for (const [di, tr] of trackOf) {
        const d = high[di]!;
        if (d.embedding && this.isolated(detections.indexOf(d), detections)) this.remember(tr, d.embedding, t);
      }

    // Unmatched tracks coast on their prediction; too long unseen (or tentative and missed) ends
    // them, except that with re-ID a confirmed track with a known look waits in the lost list.
    this.tracks = this.tracks.filter((tr) => {
      if (tr.visible) return true;
      if (tr.state === 'tentative') return false;
      if (t - tr.lastSeenMs > this.o.maxLostMs) {
        if (reid && tr.embedding) this.lost.push(tr);
        return false;
      }
      tr.box = predicted.get(tr.id) ?? tr.box;
      return true;
    });
    if (this.lost.length) this.lost = this.lost.filter((tr) => t - tr.lastSeenMs <= this.r.maxLostMs);

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
        embedding: reid && d.embedding ? normalised(d.embedding) : null,
        embeddedMs: reid && d.embedding ? t : -Infinity,
        reidentified: 0,
        seenBox: [...d.box],
      });
    });
    return this.tracks.filter((tr) => tr.visible && tr.state === 'confirmed');
  }

  /** Tracks kept only for re-identification (re-ID on): unseen past maxLostMs, not yet forgotten. */
  lostTracks(): readonly Track[] {
    return this.lost;
  }

  private remember(tr: Track, e: Float32Array, t: number): void {
    if (!tr.embedding) tr.embedding = normalised(e);
    else {
      const m = this.r.momentum;
      const mixed = new Float32Array(e.length);
      for (let i = 0; i < e.length; i++) mixed[i] = m * tr.embedding[i]! + (1 - m) * e[i]!;
      tr.embedding = normalised(mixed);
    }
    tr.embeddedMs = t;
  }

  private reassociate(
    t: number,
    high: readonly TrackerDetection[],
    matchedD: Set<number>,
    frame: { width: number; height: number } | undefined,
  ): void {
    const candidates = [...this.tracks.filter((tr) => !tr.visible && tr.state === 'confirmed' && tr.embedding), ...this.lost];
    if (candidates.length === 0) return;
    const pairs: Array<{ tr: Track; di: number; sim: number }> = [];
    high.forEach((d, di) => {
      if (matchedD.has(di) || !d.embedding) return;
      // A box on a live track is that person's second box, not someone coming back.
      if (this.tracks.some((tr) => tr.visible && iou(tr.box, d.box) > 0.7)) return;
      const [cx, cy, , h] = toCxcywh(d.box);
      for (const tr of candidates) {
        const last = tr.history[tr.history.length - 1];
        if (!last) continue;
        const lostS = Math.max(0, (t - tr.lastSeenMs) / 1000);
        const reach = last.h * (0.5 + this.r.maxSpeedHeights * lostS);
        const ratio = h > last.h ? h / last.h : last.h / Math.max(1, h);
        if (Math.abs(cx - last.cx) > reach || Math.abs(cy - last.cy) > reach || ratio > this.r.maxSizeRatio) continue;
        // Last seen at the frame's edge, they walked out of view, not behind something: only
        // someone coming back in through that edge can be them (the next visitor entering
        // elsewhere, however alike in the same uniform, is not).
        if (frame && !backThroughEdge(tr.seenBox, d.box, frame)) continue;
        const sim = cosine(d.embedding, tr.embedding!);
        if (sim >= this.r.minSimilarity) pairs.push({ tr, di, sim });
        else this.reidStats.refused++;
      }
    });
    pairs.sort((a, b) => b.sim - a.sim);
    const used = new Set<number>();
    for (const p of pairs) {
      if (used.has(p.tr.id) || matchedD.has(p.di)) continue;
      used.add(p.tr.id);
      matchedD.add(p.di);
      const d = high[p.di]!;
      const tr = p.tr;
      if (this.lost.includes(tr)) {
        this.lost = this.lost.filter((x) => x !== tr);
        this.tracks.push(tr);
      }
      // Its velocity is from before the occlusion: start again from rest rather than fling the box.
      tr.vx = tr.vy = tr.vw = tr.vh = 0;
      const [cx, cy, , h] = toCxcywh(d.box);
      tr.box = [...d.box];
      tr.score = d.score;
      tr.hits++;
      tr.lastSeenMs = t;
      tr.visible = true;
      tr.reidentified++;
      tr.seenBox = [...d.box];
      tr.history.push({ t, cx, cy, h });
      if (tr.history.length > HISTORY) tr.history.shift();
      this.remember(tr, d.embedding!, t);
      this.reidStats.reassociated++;
    }
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
    tr.seenBox = [...d.box];
    tr.score = d.score;
    tr.hits++;
    tr.lastSeenMs = t;
    tr.visible = true;
    if (tr.state === 'tentative' && tr.hits >= this.o.minHits) tr.state = 'confirmed';
    tr.history.push({ t, cx, cy, h });
    if (tr.history.length > HISTORY) tr.history.shift();
  }
}
