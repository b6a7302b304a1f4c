import { readFileSync } from 'node:fs';
import type { Zone } from '../../contract/zones';
import { parseFightModel, scoreWindow, type FightModelFile } from './fight-classifier';
import { downsample, pairStats, windowFeatures, type PairStats, type Roi } from './fight-features';
import { FIGHT_DEFAULTS } from './fight';
import type { Rule, RuleEvent, RuleFrame } from './types';

const WEIGHTS_URL = new URL('./fight-clip-weights.json', import.meta.url);
let cached: FightModelFile | null = null;

/** The trained fight classifier shipped with the build (analytics/rules/fight-clip-weights.json, from `npm run train:fight`). */
export function defaultFightModel(): FightModelFile {
  cached ??= parseFightModel(JSON.parse(readFileSync(WEIGHTS_URL, 'utf8')), WEIGHTS_URL.pathname);
  return cached;
}

/** The zone's bounding box in pixels (the whole frame without a polygon). */
export function zoneRoi(zone: Zone, width: number, height: number): Roi {
  if (!zone.polygon) return [0, 0, width, height];
  const xs = zone.polygon.map((p) => p[0] * width);
  const ys = zone.polygon.map((p) => p[1] * height);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/**
 * The default fight rule: the trained clip classifier over the watch zone. Frames are sampled
 * at the model's rate (5 fps; a faster analysis rate skips frames in between, a dropped frame
 * restarts the window), each reduced to a small grey picture of the zone's bounding box; the
 * last T of them are one window, scored once per sampled frame. `alertK` of the last `alertN`
 * windows at or above the model's threshold raise (the model file says which k and n, chosen by
 * the training's cross-validation; smoothing over windows is what keeps one noisy second from
 * raising); 3 s without a high window clears; then the zone is
 * quiet for its cooldown. It needs no person detection (crowded fights hide people from the
 * detector); the tracks present in the zone join the alert's trackIds.
 */
export class ClipFightRule implements Rule {
  readonly kind = 'fight' as const;
  readonly usesPixels = true;
  private frames: Uint8Array[] = [];
  private pairs: PairStats[] = [];
  private lastSampleT = -Infinity;
  /** Whether each of the last alertN windows was at or above the threshold, newest last. */
  private highs: boolean[] = [];
  private active = false;
  private lastHigh = -Infinity;
  private cooldownUntil = -Infinity;
  private peak = 0;
  private trackIds = new Set<number>();
  private readonly stepMs: number;
  private readonly cooldownMs: number;
  /** The latest window's score (for the frame line and tests); null before a window is full. */
  lastScore: number | null = null;

  constructor(
    private readonly zone: Zone,
    private readonly model: FightModelFile = defaultFightModel(),
  ) {
    this.stepMs = 1000 / model.fps;
    this.cooldownMs = (zone.rules?.cooldownS ?? FIGHT_DEFAULTS.cooldownS) * 1000;
  }

  evaluate(f: RuleFrame): RuleEvent[] {
    if (!f.grey) return [];
    const gap = f.t - this.lastSampleT;
    // Sample at the model's rate; allow 20 % jitter in capture times.
    if (gap < this.stepMs * 0.8) return [];
    if (gap > this.stepMs * 2.5) {
      this.frames = [];
      this.pairs = [];
      this.highs = [];
    }
    const small = downsample(f.grey, f.width, f.height, zoneRoi(this.zone, f.width, f.height));
    const prev = this.frames[this.frames.length - 1];
    this.frames.push(small);
    if (prev) this.pairs.push(pairStats(prev, small));
    this.lastSampleT = f.t;
    if (this.frames.length > this.model.frames) {
      this.frames.shift();
      this.pairs.shift();
    }
    const ids = f.inZone.get(this.zone.id) ?? [];
    const key = `fight:${this.zone.id}`;
    let high = false;
    if (this.pairs.length === this.model.frames - 1) {
      this.lastScore = scoreWindow(this.model, windowFeatures(this.pairs));
      high = this.lastScore >= this.model.threshold;
    }
    if (this.pairs.length === this.model.frames - 1) {
      this.highs.push(high);
      if (this.highs.length > this.model.alertN) this.highs.shift();
    }
    const fight = this.highs.filter(Boolean).length >= this.model.alertK;
    if (high) this.lastHigh = f.t;
    const detail = {
      label: 'possible fight',
      method: 'classifier',
      frames: this.model.frames,
      threshold: this.model.threshold,
      windows: `${this.model.alertK} of ${this.model.alertN}`,
    };
    if (!this.active) {
      if (fight && f.t >= this.cooldownUntil) {
        this.active = true;
        this.peak = this.lastScore ?? 0;
        this.trackIds = new Set(ids);
        return [{ type: 'raise', key, kind: 'fight', zone: this.zone, t: f.t, score: round(this.peak), trackIds: [...ids], detail }];
      }
      return [];
    }
    if (high) {
      this.peak = Math.max(this.peak, this.lastScore ?? 0);
      for (const id of ids) this.trackIds.add(id);
    }
    if (f.t - this.lastHigh >= FIGHT_DEFAULTS.clearAfterMs) {
      this.active = false;
      this.cooldownUntil = f.t + this.cooldownMs;
      return [
        { type: 'clear', key, kind: 'fight', zone: this.zone, t: f.t, score: round(this.peak), trackIds: [...this.trackIds], detail },
      ];
    }
    return [];
  }
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
