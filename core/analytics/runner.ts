import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AlertScope, CameraAnalysisHealth, CameraMount, CameraReidHealth, GeoPoint } from '../../contract';
import { motionMasks, privacyMasks, type Point, type Zone } from '../../contract/zones';
import type { IngestFrame } from '../../analytics/ingest/frame-slot';
import type { FightWorker, InferencePool } from '../../analytics/inference';
import { embedRequested, type Embedder } from '../../analytics/inference/reid';
import { MotionGate, type GateOptions } from '../../analytics/motion/gate';
import { AnalyticsPipeline, type PipelineDetection } from '../../analytics/pipeline/pipeline';
import { renderSnapshot } from '../../analytics/pipeline/snapshot';
import { scoreCandidates } from '../../analytics/rules/fight-model';
import type { RuleEvent } from '../../analytics/rules/types';
import type { ReidOptions, ReidStats } from '../../analytics/tracking/tracker';
import type { AlertChange, NewAlert } from '../alerts/store';
import type { AnalyticsFrameEvent } from '../events/bus';
import type { Logger } from '../logger';
import type { FightChoice } from './models';
import type { OccupancyStore } from './store';

export interface AnalysedCamera {
  id: string;
  name: string;
  mount: CameraMount;
  location: GeoPoint | null;
}

/**
 * Where a runner's alerts go: the core's alert store, or an analytics node's outbox to the
 * core (analytics/node), which has the same three calls.
 */
export interface RunnerAlerts {
  raise(input: NewAlert): { id: string; stored: unknown };
  change(id: string, change: AlertChange): void;
}

export interface RunnerDeps {
  alerts: RunnerAlerts;
  occupancy: Pick<OccupancyStore, 'add'>;
  snapshotsDir: string;
  log: Logger;
  scope(camera: AnalysedCamera): AlertScope;
  /** Occupancy is sampled at most this often per camera (ms). */
  sampleEveryMs: number;
  /** The pool of this camera's person detector now (asked every frame: models are swapped while running), null when it is not running. */
  detector(): InferencePool | null;
  /** What decides fights now: the built-in trained classifier, or an ONNX clip classifier's pool. */
  fight?: () => FightChoice;
  /**
   * Where the built-in fight classifier runs: its own worker thread, shared by every camera.
   * Without one it runs inside the pipeline on this thread (tests, tools).
   */
  fightWorker?: FightWorker | null;
  /** Every analysed frame's confirmed tracks (the reviewer's replay overlay stores them). */
  onAnalysed?: (frame: AnalyticsFrameEvent) => void;
  /** Motion gating of the detector (default on, analytics.motion in the config). */
  gate?: GateOptions;
  /**
   * The speed (km/h) of the vehicle a camera rides on: a number when its feed reports one, null
   * when unknown, undefined for a fixed camera. Feeds `onlyWhileMoving` and the alert's "moving" line.
   */
  speedOf?: (camera: AnalysedCamera) => number | null | undefined;
  /** Re-ID in the tracker (analytics.reid): the re-identification model's embedder, shared by every camera. */
  reid?: { embedder: Embedder; options: ReidOptions };
  /** Why re-ID is off although analytics.reid asks for it (its model failed to load), for the camera's health. */
  reidError?: string | null;
}

/** Frame times (wall clock) of the last RATE_WINDOW_MS, for the fps figures in the camera's health. */
const RATE_WINDOW_MS = 5000;

class RateWindow {
  private readonly times: number[] = [];
  add(now: number): void {
    this.times.push(now);
    this.prune(now);
  }
  private prune(now: number): void {
    while (this.times.length && this.times[0]! < now - RATE_WINDOW_MS) this.times.shift();
  }
  perSecond(now: number): number {
    this.prune(now);
    return Math.round((this.times.length / (RATE_WINDOW_MS / 1000)) * 10) / 10;
  }
}

/**
 * The live pipeline of one camera: takes its newest frame whenever the previous one is done
 * (never a queue: a slow model means fewer analysed frames, not growing latency), detects,
 * tracks, applies the rules, and turns rule events into persisted alerts. Rule state lives
 * in the pipeline, so a restart of the core starts the rules afresh.
 */
export class CameraRunner {
  private pipeline: AnalyticsPipeline;
  /** How fights were decided when the pipeline was built (a swap of kind rebuilds it). */
  private fightKind: FightChoice['kind'];
  /** The pixel buffer the fight worker handed back, reused for the next frame's copy. */
  private fightSpare: ArrayBuffer | null = null;
  private lastModel: string | null = null;
  private busy = false;
  private waiting: IngestFrame | null = null;
  private closed = false;
  /** Open alerts by rule key -> alert id. */
  private readonly open = new Map<string, string>();
  private lastSampleAt = 0;
  private gate: MotionGate;
  /** Detections of the last frame the detector ran on: gated (still) frames keep them. */
  private held: readonly PipelineDetection[] = [];
  private motion = false;
  /** The pixel buffer the pool returned with the last result, reused for the next frame's copy. */
  private spare: ArrayBuffer | null = null;
  private readonly analysedRate = new RateWindow();
  private readonly detectorRate = new RateWindow();
  /** Frames the pipeline (tracker, zones, rules) ran on. */
  frames = 0;
  /** Of those, the ones with fresh detections (counted with frames, so never above it). */
  detected = 0;
  /** Frames skipped because newer ones arrived while the previous one was still in analysis. */
  skipped = 0;
  /** Re-ID figures of the trackers this runner replaced (new zones rebuild the pipeline): health counts since start. */
  private readonly reidBefore: ReidStats = { requested: 0, reassociated: 0, refused: 0 };

  constructor(
    public camera: AnalysedCamera,
    zones: readonly Zone[],
    private readonly deps: RunnerDeps,
  ) {
    this.fightKind = this.currentFight().kind;
    this.pipeline = this.newPipeline(zones);
    this.gate = new MotionGate({ ...deps.gate, masks: this.masksFor(zones) });
  }

  /** The config's motion masks for this camera and the ones drawn among its zones. */
  private masksFor(zones: readonly Zone[]): ReadonlyArray<readonly Point[]> {
    return [...(this.deps.gate?.masks ?? []), ...motionMasks(zones)];
  }

  private currentFight(): FightChoice {
    return this.deps.fight?.() ?? { kind: 'classifier' };
  }

  /** This camera's analysis figures for its health. */
  health(now = Date.now()): CameraAnalysisHealth {
    const g = this.gate.stats;
    return {
      fps: this.analysedRate.perSecond(now),
      detectorFps: this.detectorRate.perSecond(now),
      frames: this.frames,
      detectorRuns: this.detected,
      skippedBusy: this.skipped,
      skippedNoMotion: g.skipped,
      gating: this.gate.enabled,
      motion: this.motion,
      model: this.deps.detector()?.model ?? this.lastModel ?? 'unavailable',
      reid: this.reidHealth(),
    };
  }

  /** Whether re-ID runs on this camera and what it did: the tracker's own counts, summed over rebuilt pipelines. */
  private reidHealth(): CameraReidHealth {
    const now = this.pipeline.reidStats;
    return {
      enabled: this.pipeline.usesReid,
      model: this.deps.reid?.embedder.pool.model ?? null,
      reassociated: this.reidBefore.reassociated + now.reassociated,
      refused: this.reidBefore.refused + now.refused,
      embeddings: this.reidBefore.requested + now.requested,
      error: this.deps.reid ? null : (this.deps.reidError ?? null),
    };
  }

  /** Fights: the clip model's pairs mode, or the trained classifier (in the fight worker when there is one). */
  private newPipeline(zones: readonly Zone[]): AnalyticsPipeline {
    const tracker = { reid: { ...this.deps.reid?.options, enabled: this.deps.reid !== undefined } };
    if (this.fightKind === 'model') {
      this.deps.fightWorker?.forget(this.camera.id);
      return new AnalyticsPipeline(zones, { fight: 'model', tracker });
    }
    if (this.deps.fightWorker) {
      this.deps.fightWorker.setZones(this.camera.id, zones);
      return new AnalyticsPipeline(zones, { fight: 'off', tracker });
    }
    return new AnalyticsPipeline(zones, { tracker });
  }

  get zones(): readonly Zone[] {
    return this.pipeline.zones;
  }

  /**
   * New zones: every rule restarts with fresh state, so an alert left open would never be
   * cleared by it; open alerts are closed now (detail says why).
   */
  setZones(zones: readonly Zone[], why = 'zones changed'): void {
    for (const [key, id] of this.open) {
      this.deps.alerts.change(id, {
        endedAt: new Date(),
        detail: (current) => ({ ...current, closedBy: why }),
      });
      this.open.delete(key);
    }
    const old = this.pipeline.reidStats;
    this.reidBefore.requested += old.requested;
    this.reidBefore.reassociated += old.reassociated;
    this.reidBefore.refused += old.refused;
    this.pipeline = this.newPipeline(zones);
    this.gate.setMasks(this.masksFor(zones));
    this.held = [];
  }

  /** Called with every frame of this camera; while one is analysed the newest waits, older ones are skipped. */
  onFrame(f: IngestFrame): void {
    // Each frame is a reference of ours into the ingest buffer pool: released once nothing here
    // reads its pixels any more, so the buffer can be refilled (analytics/ingest/frame-pool.ts).
    if (this.closed) return f.release();
    if (this.busy) {
      // One frame waits (the newest): ffmpeg hands frames over in bursts (two within a few ms
      // after a network hiccup), and dropping the second cost a camera a third of its rate.
      // A waiting frame replaced by a newer one is the skip counted.
      if (this.waiting) {
        this.skipped++;
        this.waiting.release();
      }
      this.waiting = f;
      return;
    }
    // The gate runs here, synchronously and in well under a millisecond, so a still frame costs
    // no trip through the pool; the detector's capacity goes to the cameras where something moves.
    const decision = this.gate.decide(f.ts, new Uint8Array(f.data), f.width, f.height);
    this.motion = decision.motion?.moving ?? false;
    this.busy = true;
    void this.analyse(f, decision.run)
      .catch((err: unknown) => this.deps.log.error({ err, cameraId: this.camera.id }, 'analytics failed on a frame'))
      .finally(() => {
        f.release();
        this.busy = false;
        const next = this.waiting;
        this.waiting = null;
        if (next) this.onFrame(next);
      });
  }

  close(): void {
    this.closed = true;
    this.waiting?.release();
    this.waiting = null;
    this.deps.fightWorker?.forget(this.camera.id);
  }

  private async analyse(f: IngestFrame, detect: boolean): Promise<void> {
    const bgr = new Uint8Array(f.data);
    const fight = this.currentFight();
    if (fight.kind !== this.fightKind) {
      // The fight classifier was swapped between kinds: its rules restart with the new one.
      this.fightKind = fight.kind;
      this.setZones(this.pipeline.zones, 'fight classifier changed');
    }
    const pipeline = this.pipeline;
    const pool = detect ? this.deps.detector() : null;
    if (detect && !pool) return; // the camera's model is not running (unavailable): nothing to analyse with
    if (pool) {
      this.lastModel = pool.model;
      // The ingest buffer may be shared with other listeners: the pool gets its own copy to
      // transfer, into the buffer the pool handed back last time (no allocation per frame).
      const spare = this.spare && this.spare.byteLength === f.data.byteLength ? this.spare : new ArrayBuffer(f.data.byteLength);
      this.spare = null;
      new Uint8Array(spare).set(bgr);
      const r = await pool.submit(
        { cameraId: this.camera.id, width: f.width, height: f.height, data: spare, ts: f.ts },
        { scoreThreshold: 0.2 },
      );
      if (r.buffer && r.buffer.byteLength > 0) this.spare = r.buffer;
      if (r.status !== 'ok' || this.closed) return;
      this.held = r.detections;
      this.detectorRate.add(Date.now());
    }
    if (pipeline !== this.pipeline) return;
    this.analysedRate.add(Date.now());
    const speedKmh = this.deps.speedOf?.(this.camera);
    const held = this.held;
    // Re-ID: the few boxes the tracker asks about (returning people, stale looks) are embedded off this thread.
    const embeddings = this.deps.reid
      ? await embedRequested(this.deps.reid.embedder, this.camera.id, bgr, f.width, f.height, held, pipeline.reidRequests(f.ts, held))
      : undefined;
    if (pipeline !== this.pipeline || this.closed) return;
    const out = pipeline.process({
      t: f.ts,
      width: f.width,
      height: f.height,
      bgr,
      detections: held,
      ...(embeddings ? { embeddings } : {}),
      ...(speedKmh === undefined ? {} : { speedKmh }),
    });
    if (fight.kind === 'model' && pipeline.usesFightModel) {
      const scores = await scoreCandidates(
        fight.pool,
        this.camera.id,
        bgr,
        f.width,
        f.ts,
        pipeline.fightCandidates(out, f.width, f.height),
      );
      out.events.push(...pipeline.applyFightScores(f.ts, scores));
    } else if (this.deps.fightWorker?.watches(this.camera.id)) {
      // The trained classifier scores in its own thread; it gets a copy (this frame's pixels are
      // still needed here for the alert snapshot), into the buffer it handed back last time.
      const copy = this.fightSpare && this.fightSpare.byteLength === bgr.byteLength ? this.fightSpare : new ArrayBuffer(bgr.byteLength);
      this.fightSpare = null;
      new Uint8Array(copy).set(bgr);
      const answer = await this.deps.fightWorker.evaluate(this.camera.id, {
        t: f.ts,
        width: f.width,
        height: f.height,
        data: copy,
        inZone: out.inZone,
      });
      this.fightSpare = answer.buffer;
      if (pipeline !== this.pipeline || this.closed) return;
      out.events.push(...answer.events);
    }
    this.frames++;
    if (detect) this.detected++;
    if (this.deps.onAnalysed) {
      const zonesOf = new Map<number, string[]>();
      for (const [zoneId, ids] of out.inZone) for (const id of ids) zonesOf.set(id, [...(zonesOf.get(id) ?? []), zoneId]);
      this.deps.onAnalysed({
        cameraId: this.camera.id,
        t: f.ts,
        width: f.width,
        height: f.height,
        tracks: out.tracks.map((t) => ({ id: t.id, box: t.box, score: t.score, zones: zonesOf.get(t.id) ?? [] })),
      });
    }
    if (f.ts - this.lastSampleAt >= this.deps.sampleEveryMs) {
      this.lastSampleAt = f.ts;
      // A sample is not worth holding the frame for: written in the background, a lost one is logged.
      void this.deps.occupancy
        .add(this.camera.id, f.ts, out.zones)
        .catch((err: unknown) => this.deps.log.warn({ err, cameraId: this.camera.id }, 'occupancy sample not stored'));
    }
    for (const e of out.events) await this.apply(e, f, bgr, out.tracks);
  }

  private async apply(e: RuleEvent, f: IngestFrame, bgr: Uint8Array, tracks: Parameters<typeof renderSnapshot>[3]): Promise<void> {
    const { alerts, log } = this.deps;
    if (e.type === 'raise') {
      let snapshotPath: string | null = null;
      try {
        const jpeg = await renderSnapshot(bgr, f.width, f.height, tracks, e.trackIds, e.zone, privacyMasks(this.zones));
        mkdirSync(this.deps.snapshotsDir, { recursive: true });
        snapshotPath = join(this.deps.snapshotsDir, `${randomUUID()}.jpg`);
        writeFileSync(snapshotPath, jpeg);
      } catch (err) {
        // An alert without its picture is still an alert.
        log.error({ err, cameraId: this.camera.id }, 'cannot write the alert snapshot');
        snapshotPath = null;
      }
      // The store is the point of truth: `raise` assigns the id now and, if the write fails
      // (SQLITE_BUSY, a full disk), keeps retrying it; the rule's later clear follows it.
      const raised = alerts.raise({
        kind: e.kind,
        cameraId: this.camera.id,
        cameraName: this.camera.name,
        zoneId: e.zone.id,
        zoneName: e.zone.name ?? e.zone.id,
        score: e.score,
        startedAt: new Date(f.ts),
        snapshotPath,
        trackIds: e.trackIds,
        detail: e.detail,
        scope: this.deps.scope(this.camera),
      });
      this.open.set(e.key, raised.id);
      log.info({ alertId: raised.id, kind: e.kind, cameraId: this.camera.id, zoneId: e.zone.id, score: e.score }, 'alert raised');
      return;
    }
    const id = this.open.get(e.key);
    if (!id) return;
    this.open.delete(e.key);
    alerts.change(id, { endedAt: new Date(f.ts), score: e.score, trackIds: e.trackIds, detail: e.detail });
    log.info({ alertId: id, kind: e.kind, cameraId: this.camera.id, zoneId: e.zone.id }, 'alert cleared');
  }
}
