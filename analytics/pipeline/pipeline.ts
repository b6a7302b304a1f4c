import type { Zone } from '../../contract/zones';
import { BARRIER_DEFAULTS, BarrierRule } from '../rules/barrier';
import { CrowdingRule } from '../rules/crowding';
import { FightRule } from '../rules/fight';
import { ClipFightRule } from '../rules/fight-clip';
import { fightCandidates, ModelFightRule, type FightCandidate, type PairScore } from '../rules/fight-model';
import { IntrusionRule } from '../rules/intrusion';
import { LoiteringRule } from '../rules/loitering';
import { PersonDownRule } from '../rules/person-down';
import { SurgeRule } from '../rules/surge';
import type { Rule, RuleEvent, RuleObject } from '../rules/types';
import { UnattendedObjectRule } from '../rules/unattended';
import { Tracker, type Box, type ReidStats, type Track, type TrackerOptions } from '../tracking/tracker';
import { boxInZone } from '../zones';

/** A detection as the inference pool returns it (source pixels). */
export interface PipelineDetection {
  label: string;
  score: number;
  box: Box;
}

export interface PipelineInput {
  t: number;
  width: number;
  height: number;
  /** BGR24 pixels of the frame (for the fight rule's motion energy); null to skip that. */
  bgr: Uint8Array | null;
  detections: readonly PipelineDetection[];
  /**
   * The vehicle's speed (km/h) for a camera on a vehicle: a number when its feed reports one,
   * null when unknown; left out for a fixed camera. Vehicle cameras' alerts then say whether it moved.
   */
  speedKmh?: number | null;
  /**
   * Re-ID: embeddings of some of `detections` (by index), computed for the indices
   * `reidRequests` asked for. Missing ones are matched by position only.
   */
  embeddings?: ReadonlyMap<number, Float32Array | null>;
}

export interface PipelineOutput {
  t: number;
  /** Confident person detections in this frame. */
  people: number;
  /** Confirmed tracks present (seen this frame or coasting through a short occlusion). */
  tracks: Track[];
  /** People (tracks) per zone id. */
  zones: Record<string, number>;
  inZone: Map<string, number[]>;
  events: RuleEvent[];
}

export interface PipelineOptions {
  tracker?: TrackerOptions;
  /** Person detections below this are ignored entirely (default 0.2, ByteTrack's low stage). */
  minScore?: number;
  /** Detections at or above this count as people (default 0.5). */
  personScore?: number;
  /**
   * Fights in watch zones: `classifier` (default) is the trained clip classifier over windows
   * of frames (rules/fight-clip.ts); `heuristic` the older track-motion rule; `model` leaves the
   * decision to an ONNX crop classifier whose scores the caller feeds back (fightCandidates ->
   * scoreCandidates -> applyFightScores); `off` looks for none.
   */
  fight?: 'classifier' | 'heuristic' | 'model' | 'off';
  /** Model mode: a pair scoring at least this is a fight frame (default 0.5). */
  fightThreshold?: number;
}

/** A vehicle at or above this speed (km/h) is moving: below it, creeping at a stop or GPS noise. */
export const MOVING_KMH = BARRIER_DEFAULTS.movingKmh;

/** BGR24 to one grey byte per pixel (integer luma weights). */
export function toGrey(bgr: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let i = 0, j = 0; j < out.length; i += 3, j++) out[j] = (bgr[i]! * 29 + bgr[i + 1]! * 150 + bgr[i + 2]! * 77) >> 8;
  return out;
}

/**
 * The analytics path of one camera after detection: person detections -> tracker -> zone
 * membership -> rules. It holds no I/O and no clock of its own (time comes with each
 * frame), so `sentinel analyze` (offline, video time) and the core (live, capture time)
 * run exactly this, and the tests drive it frame by frame.
 */
export class AnalyticsPipeline {
  private readonly tracker: Tracker;
  private readonly rules: Rule[] = [];
  private readonly modelFight: ModelFightRule[] = [];
  private prevGrey: Uint8Array | null = null;
  private readonly minScore: number;
  private readonly personScore: number;

  constructor(
    readonly zones: readonly Zone[],
    opts: PipelineOptions = {},
  ) {
    this.minScore = opts.minScore ?? 0.2;
    this.personScore = opts.personScore ?? 0.5;
    this.tracker = new Tracker({ highScore: this.personScore, lowScore: this.minScore, ...opts.tracker });
    for (const z of zones) {
      if (z.kind === 'crowding') this.rules.push(new CrowdingRule(z));
      else if (z.kind === 'operator') this.rules.push(new BarrierRule(z));
      else if (z.kind === 'watch' && opts.fight === 'model') this.modelFight.push(new ModelFightRule(z, opts.fightThreshold));
      else if (z.kind === 'watch' && opts.fight === 'heuristic') this.rules.push(new FightRule(z));
      else if (z.kind === 'watch' && opts.fight !== 'off') this.rules.push(new ClipFightRule(z));
      else if (z.kind === 'trackbed') this.rules.push(new IntrusionRule(z));
      else if (z.kind === 'loitering') this.rules.push(new LoiteringRule(z));
      else if (z.kind === 'unattended') this.rules.push(new UnattendedObjectRule(z));
      else if (z.kind === 'person-down') this.rules.push(new PersonDownRule(z));
      else if (z.kind === 'surge') this.rules.push(new SurgeRule(z));
    }
  }

  /** The person detections the tracker is tracking from (their index in `detections` kept). */
  private persons(detections: readonly PipelineDetection[]): Array<{ d: PipelineDetection; i: number }> {
    return detections.map((d, i) => ({ d, i })).filter(({ d }) => d.label === 'person' && d.score >= this.minScore);
  }

  /** Whether the tracker re-identifies people by appearance (then embed `reidRequests` every frame). */
  get usesReid(): boolean {
    return this.tracker.reidEnabled;
  }

  /** Indices into `detections` whose crops the tracker wants embedded before `process` (empty with re-ID off). */
  reidRequests(t: number, detections: readonly PipelineDetection[]): number[] {
    if (!this.tracker.reidEnabled) return [];
    const persons = this.persons(detections);
    return this.tracker
      .embedRequests(
        t,
        persons.map(({ d }) => ({ box: d.box, score: d.score })),
      )
      .map((k) => persons[k]!.i);
  }

  /** The tracker's re-ID figures (embeddings asked for, tracks given back, candidates refused). */
  get reidStats(): Readonly<ReidStats> {
    return this.tracker.reidStats;
  }

  process(input: PipelineInput): PipelineOutput {
    const persons = this.persons(input.detections);
    this.tracker.update(
      input.t,
      persons.map(({ d, i }) => ({ box: d.box, score: d.score, embedding: input.embeddings?.get(i) ?? null })),
      { width: input.width, height: input.height },
    );
    const tracks = this.tracker.active();
    const inZone = new Map<string, number[]>();
    const zones: Record<string, number> = {};
    for (const z of this.zones) {
      const ids = tracks.filter((t) => boxInZone(z, t.box, input.width, input.height)).map((t) => t.id);
      inZone.set(z.id, ids);
      zones[z.id] = ids.length;
    }
    // Only rules that read pixels need the grey frame (a full-size pass over the picture).
    const grey = input.bgr && this.rules.some((r) => r.usesPixels) ? toGrey(input.bgr, input.width, input.height) : null;
    const objects: RuleObject[] = input.detections.filter((d) => d.label !== 'person' && d.score >= this.minScore);
    const events: RuleEvent[] = [];
    for (const r of this.rules) {
      events.push(
        ...r.evaluate({
          t: input.t,
          width: input.width,
          height: input.height,
          tracks,
          inZone,
          grey,
          prevGrey: this.prevGrey,
          speedKmh: input.speedKmh ?? null,
          objects,
        }),
      );
    }
    this.prevGrey = grey;
    if (input.speedKmh !== undefined) {
      const moving = input.speedKmh === null ? null : input.speedKmh >= MOVING_KMH;
      for (const e of events) e.detail = { ...e.detail, vehicleMoving: moving, vehicleSpeedKmh: input.speedKmh };
    }
    return { t: input.t, people: persons.filter(({ d }) => d.score >= this.personScore).length, tracks, zones, inZone, events };
  }

  /** Whether a clip classifier decides fights here (then call fightCandidates / applyFightScores every frame). */
  get usesFightModel(): boolean {
    return this.modelFight.length > 0;
  }

  /** The pairs the fight model should score for this frame (empty unless in model mode). */
  fightCandidates(out: PipelineOutput, width: number, height: number): FightCandidate[] {
    return this.usesFightModel ? fightCandidates(this.zones, out.tracks, out.inZone, width, height) : [];
  }

  /** The model's scores for this frame's candidates (possibly none): fight raises and clears. */
  applyFightScores(t: number, scores: readonly PairScore[]): RuleEvent[] {
    return this.modelFight.flatMap((r) => r.apply(t, scores));
  }
}
