import { motionMasks, type Zone } from '../../contract/zones';
import type { InferencePool } from '../inference/pool';
import { embedRequested, type Embedder } from '../inference/reid';
import { scoreCandidates } from '../rules/fight-model';
import type { RuleEvent } from '../rules/types';
import type { Track } from '../tracking/tracker';
import { MotionGate, type GateOptions } from '../motion/gate';
import { AnalyticsPipeline, type PipelineDetection, type PipelineOptions, type PipelineOutput } from './pipeline';
import { SourceError, type VideoSource } from './source';

/** JSON line for one analysed frame (the `sentinel analyze` format). */
export interface FrameLine {
  type: 'frame';
  /** Video time, seconds. */
  t: number;
  people: number;
  /** Tracks present: id and box normalised to 0..1 ([x1,y1,x2,y2], 3 decimals). */
  tracks: Array<{ id: number; box: [number, number, number, number] }>;
  zones: Record<string, number>;
}

export interface AlertLine {
  type: 'alert' | 'clear';
  kind: RuleEvent['kind'];
  zone: string;
  t: number;
  score: number;
  trackIds: number[];
}

export interface SummaryLine {
  type: 'summary';
  input: string;
  model: string;
  fps: number;
  frames: number;
  /** Frames decoded from the source. */
  framesRead: number;
  /** Frames the tracker and rules ran on (offline: every frame read). */
  framesAnalysed: number;
  /** Frames the person detector ran on; the rest were gated out for lack of motion. */
  detectorRuns: number;
  durationS: number;
  /** false when the video ended early (the error says why); the figures cover what was read. */
  complete: boolean;
  error?: string;
  alerts: number;
  alertsByKind: Record<string, number>;
  people: { mean: number; max: number };
  zones: Record<string, { mean: number; max: number }>;
  tracksStarted: number;
  /** Re-ID in the tracker (present when on): embeddings computed, their cost, tracks given back by appearance. */
  reid?: { embeds: number; msPerEmbed: number; reassociated: number; refused: number };
  /** Wall-clock milliseconds spent, and analysed frames per wall-clock second. */
  ms: number;
  framesPerSecond: number;
}

const r3 = (v: number): number => Math.round(v * 1000) / 1000;

export function frameLine(out: PipelineOutput, width: number, height: number): FrameLine {
  return {
    type: 'frame',
    t: r3(out.t / 1000),
    people: out.people,
    tracks: out.tracks.map((tr: Track) => ({
      id: tr.id,
      box: [r3(tr.box[0] / width), r3(tr.box[1] / height), r3(tr.box[2] / width), r3(tr.box[3] / height)],
    })),
    zones: out.zones,
  };
}

export interface OfflineOptions {
  source: VideoSource;
  zones: readonly Zone[];
  pool: InferencePool;
  /** A clip classifier for fights (watch zones); the motion heuristic is used without one. */
  fightPool?: InferencePool;
  model: string;
  fps: number;
  pipeline?: PipelineOptions;
  /** Detections below this score are not returned by the pool (the tracker's low stage uses them). */
  scoreThreshold?: number;
  /** Motion gating of the detector (default on; `{ enabled: false }` detects on every frame). */
  gate?: GateOptions;
  /** Re-ID in the tracker: the re-identification model's embedder (its absence turns re-ID off). */
  embedder?: Embedder;
  onLine(line: FrameLine | AlertLine | SummaryLine): void;
}

/**
 * Runs a video through detection and the analytics pipeline, one frame at a time (the
 * offline run never drops a frame: each waits for its detections). Emits one line per frame
 * and per alert event, then the summary. A video that ends early still gets its summary
 * (complete: false) before the error is rethrown.
 */
export async function runOffline(o: OfflineOptions): Promise<SummaryLine> {
  const started = Date.now();
  const pipe = new AnalyticsPipeline(o.zones, {
    ...o.pipeline,
    tracker: { ...o.pipeline?.tracker, reid: { ...o.pipeline?.tracker?.reid, enabled: o.embedder !== undefined } },
    ...(o.fightPool ? { fight: 'model' as const } : {}),
  });
  let frames = 0;
  let lastT = 0;
  let peopleSum = 0;
  let peopleMax = 0;
  let maxTrackId = 0;
  const zoneSum: Record<string, number> = {};
  const zoneMax: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  let alerts = 0;
  let error: SourceError | null = null;
  // Motion masks drawn among the zones count with the configured ones, as they do live.
  const gate = new MotionGate({ ...o.gate, masks: [...(o.gate?.masks ?? []), ...motionMasks(o.zones)] });
  // A frame the gate skips keeps the last detections: nothing moved, so whoever was there still is.
  let held: readonly PipelineDetection[] = [];
  try {
    for await (const f of o.source.frames()) {
      const view = new Uint8Array(f.data);
      const decision = gate.decide(f.t, view, f.width, f.height);
      let bgr = view;
      if (decision.run) {
        // The pool takes (transfers) the frame's buffer; the rules keep reading a copy.
        bgr = new Uint8Array(f.data.slice(0));
        const r = await o.pool.submit(
          { cameraId: 'analyze', width: f.width, height: f.height, data: f.data, ts: f.t },
          o.scoreThreshold === undefined ? {} : { scoreThreshold: o.scoreThreshold },
        );
        if (r.status !== 'ok')
          throw new SourceError(
            `frame ${f.index} (t=${(f.t / 1000).toFixed(1)} s): detection ${r.status === 'failed' ? `failed: ${r.message}` : `dropped (${r.reason})`}`,
          );
        held = r.detections;
      }
      const embeddings = o.embedder
        ? await embedRequested(o.embedder, 'analyze', bgr, f.width, f.height, held, pipe.reidRequests(f.t, held))
        : undefined;
      const out = pipe.process({ t: f.t, width: f.width, height: f.height, bgr, detections: held, ...(embeddings ? { embeddings } : {}) });
      if (o.fightPool && pipe.usesFightModel) {
        const scores = await scoreCandidates(o.fightPool, 'analyze', bgr, f.width, f.t, pipe.fightCandidates(out, f.width, f.height));
        out.events.push(...pipe.applyFightScores(f.t, scores));
      }
      frames++;
      lastT = f.t;
      peopleSum += out.people;
      peopleMax = Math.max(peopleMax, out.people);
      for (const tr of out.tracks) maxTrackId = Math.max(maxTrackId, tr.id);
      for (const [z, n] of Object.entries(out.zones)) {
        zoneSum[z] = (zoneSum[z] ?? 0) + n;
        zoneMax[z] = Math.max(zoneMax[z] ?? 0, n);
      }
      o.onLine(frameLine(out, f.width, f.height));
      for (const e of out.events) {
        if (e.type === 'raise') {
          alerts++;
          byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
        }
        o.onLine({
          type: e.type === 'raise' ? 'alert' : 'clear',
          kind: e.kind,
          zone: e.zone.id,
          t: r3(e.t / 1000),
          score: r3(e.score),
          trackIds: e.trackIds,
        });
      }
    }
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    error = err;
  }
  const ms = Date.now() - started;
  const summary: SummaryLine = {
    type: 'summary',
    input: o.source.info.live ? 'rtsp' : o.source.input,
    model: o.model,
    fps: o.fps,
    frames,
    framesRead: gate.stats.framesSeen,
    framesAnalysed: frames,
    detectorRuns: gate.stats.detectorRuns,
    durationS: r3(frames ? lastT / 1000 + 1 / o.fps : 0),
    complete: error === null,
    ...(error ? { error: error.message } : {}),
    alerts,
    alertsByKind: byKind,
    people: { mean: r3(frames ? peopleSum / frames : 0), max: peopleMax },
    zones: Object.fromEntries(
      o.zones.map((z) => [z.id, { mean: r3(frames ? (zoneSum[z.id] ?? 0) / frames : 0), max: zoneMax[z.id] ?? 0 }]),
    ),
    tracksStarted: maxTrackId,
    ...(o.embedder
      ? {
          reid: {
            embeds: o.embedder.stats().embeds,
            msPerEmbed: o.embedder.stats().msPerEmbed,
            reassociated: pipe.reidStats.reassociated,
            refused: pipe.reidStats.refused,
          },
        }
      : {}),
    ms,
    framesPerSecond: r3(ms > 0 ? (frames * 1000) / ms : 0),
  };
  o.onLine(summary);
  if (error) throw error;
  return summary;
}
