import { MotionDetector, type MotionOptions, type MotionResult } from './motion';

export interface GateOptions extends MotionOptions {
  /** false: the detector runs on every frame (the behaviour without gating). Default true. */
  enabled?: boolean;
  /** With no motion, one detection at least this often (ms, default 5000), so people standing still are still counted. */
  keepAliveMs?: number;
  /**
   * After the last motion, keep detecting this long (ms, default 1500): a person who stops or
   * walks out is seen until the tracker has settled, instead of being held where they last moved.
   */
  holdMs?: number;
}

export type GateReason = 'off' | 'first' | 'motion' | 'hold' | 'keepalive' | 'idle';

export interface GateDecision {
  /** Run the detector on this frame. */
  run: boolean;
  reason: GateReason;
  motion: MotionResult | null;
}

/** Counters a camera's health shows (all since the gate was made). */
export interface GateStats {
  framesSeen: number;
  detectorRuns: number;
  skipped: number;
  keepAlives: number;
}

/**
 * Decides per frame whether the person detector runs: on motion (and a short hold after
 * it), on a keep-alive interval, and on the first frame. Skipped frames keep the last
 * detections (the pipeline still runs on them, so rule timers advance), which is right for
 * a still scene: what was there when it last moved is still there. The analysis rate of a
 * camera thus rises to the ingest rate while it has motion and falls to one frame per
 * keep-alive when idle.
 *
 * Time is the frame's own timestamp (ms): the same decisions offline and live.
 */
export class MotionGate {
  readonly enabled: boolean;
  private readonly detector: MotionDetector;
  private readonly keepAliveMs: number;
  private readonly holdMs: number;
  private lastRunAt = -Infinity;
  private lastMotionAt = -Infinity;
  readonly stats: GateStats = { framesSeen: 0, detectorRuns: 0, skipped: 0, keepAlives: 0 };

  constructor(opts: GateOptions = {}) {
    this.enabled = opts.enabled ?? true;
    this.detector = new MotionDetector(opts);
    this.keepAliveMs = opts.keepAliveMs ?? 5000;
    this.holdMs = opts.holdMs ?? 1500;
  }

  /** The camera's motion masks changed: they count from the next frame (see MotionDetector.setMasks). */
  setMasks(masks: NonNullable<GateOptions['masks']>): void {
    this.detector.setMasks(masks);
  }

  decide(t: number, bgr: Uint8Array, width: number, height: number): GateDecision {
    this.stats.framesSeen++;
    const d = this.enabled ? this.evaluate(t, bgr, width, height) : { run: true, reason: 'off' as const, motion: null };
    if (d.run) {
      this.stats.detectorRuns++;
      if (d.reason === 'keepalive') this.stats.keepAlives++;
      this.lastRunAt = t;
    } else {
      this.stats.skipped++;
    }
    return d;
  }

  private evaluate(t: number, bgr: Uint8Array, width: number, height: number): GateDecision {
    const motion = this.detector.detect(bgr, width, height);
    if (motion.moving) this.lastMotionAt = t;
    if (this.lastRunAt === -Infinity) return { run: true, reason: 'first', motion };
    // A clock going backwards (a restarted stream) would stall both intervals: start them again.
    if (t < this.lastRunAt) this.lastRunAt = this.lastMotionAt = -Infinity;
    if (motion.moving) return { run: true, reason: 'motion', motion };
    if (t - this.lastMotionAt <= this.holdMs) return { run: true, reason: 'hold', motion };
    if (t - this.lastRunAt >= this.keepAliveMs) return { run: true, reason: 'keepalive', motion };
    return { run: false, reason: 'idle', motion };
  }
}
