import { join } from 'node:path';
import sharp from 'sharp';
import { maskRtspUrl, withCredentials, type Camera, type CameraAnalysisHealth, type CameraHealth } from '../../contract/cameras';
import type { FrameListener, IngestFrame } from '../../analytics/ingest/frame-slot';
import { Restreamer } from '../../analytics/ingest/restreamer';
import { IngestSupervisor } from '../../analytics/ingest/supervisor';
import { ClipCutter } from '../../analytics/recording/clips';
import { SegmentRecorder } from '../../analytics/recording/recorder';
import { SegmentStore } from '../../analytics/recording/store';
import type { HeldRange } from '../../analytics/recording/holds';
import type { Config } from '../config';
import type { Database } from '../db/database';
import type { Logger } from '../logger';
import type { CameraRecord } from './repository';

interface Running {
  restreamer: Restreamer;
  supervisor: IngestSupervisor;
  recorder: SegmentRecorder | null;
  lastHealthSentAt: number;
  lastState: string;
  snapshot: { seq: number; jpeg: Buffer } | null;
}

const IDLE_HEALTH: CameraHealth = {
  state: 'disabled',
  fpsIn: 0,
  fpsOut: 0,
  frames: 0,
  dropped: 0,
  reconnects: 0,
  lastFrameAt: null,
  lastError: null,
  sourceWidth: null,
  sourceHeight: null,
  since: new Date(0).toISOString(),
};

/**
 * Runs the video path of every registered camera: an ingest supervisor (analysis frames,
 * health) and a segment recorder each, a retention sweep, and clip cutting. Everything
 * outward-facing goes through `toPublic`, which masks URLs and drops the secrets.
 */
export class CameraService {
  private readonly running = new Map<string, Running>();
  private readonly frameListeners = new Set<FrameListener>();
  readonly segments: SegmentStore;
  readonly clips: ClipCutter;
  private retentionTimer: NodeJS.Timeout | null = null;
  private readonly recordingsDir: string;

  constructor(
    private readonly config: Config,
    db: Database,
    private readonly log: Logger,
    private readonly onHealth: (cameraId: string, health: CameraHealth) => void,
  ) {
    const base = config.recording.dir ?? config.dataDir;
    this.recordingsDir = join(base, 'recordings');
    this.segments = new SegmentStore(db, log.child({ name: 'segments' }));
    this.clips = new ClipCutter(
      db,
      this.segments,
      join(base, 'clips'),
      log.child({ name: 'clips' }),
      config.ingest.ffmpegPath,
      config.ingest.ffprobePath,
    );
  }

  /** `held()` lists the ranges retention must keep (evidence holds), asked at each sweep. */
  startRetention(held: () => readonly HeldRange[] = () => []): void {
    const sweep = (): void => {
      try {
        this.segments.sweep(
          { maxAgeMs: this.config.recording.retentionHours * 3600_000, maxBytes: this.config.recording.maxDiskGb * 1024 ** 3 },
          Date.now(),
          held(),
        );
      } catch (err) {
        this.log.error({ err }, 'retention sweep failed');
      }
    };
    sweep();
    this.retentionTimer = setInterval(sweep, 30_000);
    this.retentionTimer.unref();
  }

  stopRetention(): void {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
  }

  /** Where a camera's analysis figures come from (the analytics feature sets it; cameras do not import analytics). */
  private analysisOf: ((id: string) => CameraAnalysisHealth | null) | null = null;

  setAnalysisSource(fn: ((id: string) => CameraAnalysisHealth | null) | null): void {
    this.analysisOf = fn;
  }

  private withAnalysis(id: string, h: CameraHealth): CameraHealth {
    const analysis = this.analysisOf?.(id) ?? null;
    return analysis ? { ...h, analysis } : h;
  }

  health(id: string): CameraHealth {
    return this.withAnalysis(id, this.withDepth(id, this.cameraHealth(id)));
  }

  /** Health of cameras that run elsewhere (analytics nodes: core/nodes), asked when this process does not run the camera. */
  private remoteHealth: ((id: string) => CameraHealth | null) | null = null;

  setRemoteHealth(fn: ((id: string) => CameraHealth | null) | null): void {
    this.remoteHealth = fn;
  }

  /** Sends a camera's health to its viewers now (a node reported it). */
  publishHealth(id: string): void {
    this.onHealth(id, this.health(id));
  }

  private cameraHealth(id: string): CameraHealth {
    const r = this.running.get(id);
    if (!r) return this.remoteHealth?.(id) ?? IDLE_HEALTH;
    const { lastError, ...live } = r.restreamer.health();
    const h = r.supervisor.health();
    // Analysis fed by the restreamer never sees the camera itself: while the camera's session
    // is down, its reason (401, refused, 404...) is the camera's.
    if (r.supervisor.opts.source && live.state !== 'live' && h.state !== 'live' && lastError)
      return { ...h, state: 'offline', lastError, live };
    return { ...h, live };
  }

  /** The camera's live stream (one RTSP session, fanned out), or null when it is not running. */
  live(id: string): Restreamer | null {
    return this.running.get(id)?.restreamer ?? null;
  }

  /** Adds how far back the camera's recording goes (one indexed MIN per health report). */
  private withDepth(id: string, h: CameraHealth): CameraHealth {
    let since: number | null = null;
    try {
      since = this.segments.oldestStartMs(id);
    } catch (err) {
      this.log.debug({ err, cameraId: id }, 'recording depth unavailable');
    }
    return { ...h, recordingSince: since === null ? null : new Date(since).toISOString() };
  }

  toPublic(c: CameraRecord): Camera {
    return {
      id: c.id,
      name: c.name,
      url: maskRtspUrl(withCredentials(c.url, c.credentials.username, c.credentials.password)),
      subUrl: c.subUrl ? maskRtspUrl(withCredentials(c.subUrl, c.credentials.username, c.credentials.password)) : null,
      username: c.credentials.username ?? null,
      hasPassword: Boolean(c.credentials.password),
      mount: c.mount,
      location: c.location,
      analyticsEnabled: c.analyticsEnabled,
      recordingEnabled: c.recordingEnabled,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
      health: this.health(c.id),
    };
  }

  /**
   * Every analysis frame of every camera. The listener gets a reference of its own and must
   * `release()` it; the buffer is shared and read-only: copy it before transferring.
   */
  onFrame(fn: FrameListener): () => void {
    this.frameListeners.add(fn);
    return () => this.frameListeners.delete(fn);
  }

  /** The newest frame of one camera as the analytics path takes it. */
  latestFrame(id: string): IngestFrame | null {
    return this.running.get(id)?.supervisor.slot.latest() ?? null;
  }

  subscribe(id: string, fn: FrameListener): (() => void) | null {
    return this.running.get(id)?.supervisor.slot.subscribe(fn) ?? null;
  }

  start(c: CameraRecord): void {
    // With analytics nodes the nodes holding the cameras ingest and record them (core/nodes).
    if (this.config.analytics.nodes) return;
    if (this.running.has(c.id)) return;
    const { ingest, recording } = this.config;
    // The supervisor and recorder put the camera id on every line themselves.
    const log = this.log;
    // The camera's one session on its main stream: viewers, the recorder and (without a
    // sub-stream) the analysis decoder all read from it.
    const restreamer = new Restreamer({
      cameraId: c.id,
      url: c.url,
      username: c.credentials.username,
      password: c.credentials.password,
      stallTimeoutMs: ingest.stallTimeoutS * 1000,
      backoffMaxMs: ingest.backoffMaxS * 1000,
      ffmpegPath: ingest.ffmpegPath,
      log: log.child({ name: 'restream' }),
    });
    const supervisor = new IngestSupervisor({
      cameraId: c.id,
      // Detection reads the sub-stream when there is one: fewer pixels to decode.
      url: c.subUrl ?? c.url,
      source: c.subUrl ? undefined : restreamer,
      username: c.credentials.username,
      password: c.credentials.password,
      fps: ingest.fps,
      maxWidth: ingest.maxWidth,
      maxHeight: ingest.maxHeight,
      stallTimeoutMs: ingest.stallTimeoutS * 1000,
      backoffMaxMs: ingest.backoffMaxS * 1000,
      ffmpegPath: ingest.ffmpegPath,
      log,
    });
    const r: Running = { restreamer, supervisor, recorder: null, lastHealthSentAt: 0, lastState: '', snapshot: null };
    const report = (h: CameraHealth): void => {
      const now = Date.now();
      // State changes go out at once; fps updates at most every 2 s per camera.
      if (h.state !== r.lastState || now - r.lastHealthSentAt >= 2000) {
        r.lastState = h.state;
        r.lastHealthSentAt = now;
        this.onHealth(c.id, this.withDepth(c.id, h));
      }
    };
    supervisor.on('health', () => report(this.health(c.id)));
    restreamer.on('health', () => {
      // The live state changed: send at once (the player and the health panel show it).
      r.lastState = '';
      report(this.health(c.id));
    });
    supervisor.slot.subscribe((f) => {
      // The slot gave us one reference; every frame listener gets one of its own to release.
      try {
        for (const fn of this.frameListeners) fn(f.retain());
      } finally {
        f.release();
      }
    });
    if (recording.enabled && c.recordingEnabled) {
      r.recorder = new SegmentRecorder({
        cameraId: c.id,
        url: c.url,
        username: c.credentials.username,
        password: c.credentials.password,
        dir: join(this.recordingsDir, c.id),
        segmentSeconds: recording.segmentSeconds,
        stallTimeoutMs: ingest.stallTimeoutS * 1000,
        backoffMaxMs: ingest.backoffMaxS * 1000,
        ffmpegPath: ingest.ffmpegPath,
        source: restreamer,
        log: log.child({ name: 'recorder' }),
      });
      r.recorder.on('segment', (s) => {
        try {
          this.segments.add(s);
        } catch (err) {
          // The camera was deleted while its last segment was being written.
          log.debug({ err }, 'segment not indexed');
        }
      });
      r.recorder.start();
    }
    this.running.set(c.id, r);
    restreamer.start();
    supervisor.start();
  }

  async stop(id: string): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    await Promise.all([r.supervisor.stop(), r.recorder?.stop()]);
    await r.restreamer.stop();
    this.onHealth(id, this.withDepth(id, IDLE_HEALTH));
  }

  async restart(c: CameraRecord): Promise<void> {
    await this.stop(c.id);
    this.start(c);
  }

  async stopAll(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }

  /** JPEG of the newest analysis frame (cached per frame), or null before the first frame. */
  async snapshot(id: string): Promise<Buffer | null> {
    const r = this.running.get(id);
    const f = r?.supervisor.slot.latest();
    if (!r || !f) return null;
    if (r.snapshot?.seq === f.seq) return r.snapshot.jpeg;
    const bgr = new Uint8Array(f.data);
    const rgb = Buffer.allocUnsafe(bgr.length);
    for (let i = 0; i < bgr.length; i += 3) {
      rgb[i] = bgr[i + 2]!;
      rgb[i + 1] = bgr[i + 1]!;
      rgb[i + 2] = bgr[i]!;
    }
    const jpeg = await sharp(rgb, { raw: { width: f.width, height: f.height, channels: 3 } })
      .jpeg({ quality: 75 })
      .toBuffer();
    r.snapshot = { seq: f.seq, jpeg };
    return jpeg;
  }
}
