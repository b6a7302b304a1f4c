import { spawn } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';
import { maskRtspUrl, withCredentials, type Camera, type CameraAnalysisHealth, type CameraHealth } from '../../contract/cameras';
import type { FrameListener, IngestFrame } from '../../analytics/ingest/frame-slot';
import { Restreamer } from '../../analytics/ingest/restreamer';
import { IngestSupervisor } from '../../analytics/ingest/supervisor';
import { ClipCutter } from '../../analytics/recording/clips';
import { SegmentRecorder } from '../../analytics/recording/recorder';
import type { Config } from '../config';
import type { SqlDb } from '../db/sql';
import type { Logger } from '../logger';
import { ClipStore, Clips } from '../recording/clips';
import type { HeldRange } from '../recording/holds';
import { SegmentStore } from '../recording/segments';
import type { CameraRecord } from './repository';

interface Running {
  restreamer: Restreamer;
  supervisor: IngestSupervisor;
  recorder: SegmentRecorder | null;
  lastHealthSentAt: number;
  lastState: string;
  snapshot: { seq: number; jpeg: Buffer } | null;
}

/**
 * A restreamer the core opens for viewers of a camera an analytics node holds (docs/scale.md):
 * one more RTSP session on the camera while anyone watches it.
 */
interface OnDemand {
  restreamer: Restreamer;
  holds: number;
  idle: NodeJS.Timeout | null;
  /** When the linger after the last viewer ends (ms since epoch), null while someone watches. */
  closesAtMs: number | null;
  snapshot: { key: Buffer; jpeg: Buffer } | null;
}

/** A viewer's hold on a camera's live stream; `release` when the viewer leaves. */
export interface LiveHold {
  source: Restreamer;
  release(): void;
}

/**
 * How long an on-demand session outlives its last viewer: a player that reconnects, a tile
 * that refreshes its snapshot, or a viewer switching back finds it still live instead of
 * waiting for a new RTSP session (1-3 s).
 */
const ON_DEMAND_LINGER_MS = 5000;
/** How often the recording depth shown in camera health is re-read (another replica's sweep). */
const DEPTH_REFRESH_MS = 30_000;
/** How long a snapshot of a node-held camera waits for the core's session to go live. */
const ON_DEMAND_SNAPSHOT_WAIT_MS = 10_000;

type LiveHealth = NonNullable<CameraHealth['live']>;

/** `live` of a camera an analytics node runs while the core holds no session of its own on it (nobody watches). */
const NO_VIEWERS_SESSION: LiveHealth = {
  state: 'idle',
  session: 'viewers',
  codec: null,
  width: null,
  height: null,
  fps: 0,
  kbps: 0,
  consumers: 0,
  transcoding: null,
  lastError: null,
  closesAt: null,
};

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
  private readonly onDemand = new Map<string, OnDemand>();
  private readonly frameListeners = new Set<FrameListener>();
  readonly segments: SegmentStore;
  readonly clips: Clips;
  /**
   * How far back each camera's recording goes, for the health reports (several a second
   * across cameras, synchronous, so no query each). Loaded at start (`startDepth`), moved back
   * by every segment this process indexes, re-read after each retention sweep here and every
   * DEPTH_REFRESH_MS, so a sweep by another replica shows within that.
   */
  private depth = new Map<string, number>();
  private depthTimer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private readonly recordingsDir: string;

  constructor(
    private readonly config: Config,
    db: SqlDb,
    private readonly log: Logger,
    private readonly onHealth: (cameraId: string, health: CameraHealth) => void,
  ) {
    const base = config.recording.dir ?? config.dataDir;
    this.recordingsDir = join(base, 'recordings');
    this.segments = new SegmentStore(db, log.child({ name: 'segments' }));
    this.clips = new Clips(
      new ClipCutter(this.segments, join(base, 'clips'), log.child({ name: 'clips' }), config.ingest.ffmpegPath, config.ingest.ffprobePath),
      new ClipStore(db),
    );
  }

  /** Indexes a finished segment (the recorder's, or a node's) and moves the camera's depth back to it. */
  async addSegment(s: Parameters<SegmentStore['add']>[0]): Promise<void> {
    await this.segments.add(s);
    const d = this.depth.get(s.cameraId);
    if (d === undefined || s.startMs < d) this.depth.set(s.cameraId, s.startMs);
  }

  /** Re-reads how far back every camera's recording goes into the cache the health reports use. */
  async refreshDepth(): Promise<void> {
    this.depth = await this.segments.oldestStartByCamera();
  }

  /** Loads the recording depths, then keeps them fresh (stopped by stopAll). */
  async startDepth(): Promise<void> {
    await this.refreshDepth();
    this.depthTimer ??= setInterval(
      () => void this.refreshDepth().catch((err: unknown) => this.log.debug({ err }, 'recording depth not refreshed')),
      DEPTH_REFRESH_MS,
    );
    this.depthTimer.unref();
  }

  /** `held()` lists the ranges retention must keep (evidence holds), asked at each sweep. */
  startRetention(held: () => Promise<readonly HeldRange[]> = () => Promise.resolve([])): void {
    let sweeping = false;
    const sweep = async (): Promise<void> => {
      // A sweep slower than the interval (a large backlog) is not overlapped by the next.
      if (sweeping) return;
      sweeping = true;
      try {
        await this.segments.sweep(
          { maxAgeMs: this.config.recording.retentionHours * 3600_000, maxBytes: this.config.recording.maxDiskGb * 1024 ** 3 },
          Date.now(),
          await held(),
        );
        await this.refreshDepth();
      } finally {
        sweeping = false;
      }
    };
    const run = (): void => void sweep().catch((err: unknown) => this.log.error({ err }, 'retention sweep failed'));
    run();
    this.retentionTimer = setInterval(run, 30_000);
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
    if (!r) {
      const remote = this.remoteHealth?.(id);
      return remote ? { ...remote, live: this.viewersLive(id) } : IDLE_HEALTH;
    }
    const live: LiveHealth = { ...r.restreamer.health(), session: 'camera', closesAt: null };
    const h = r.supervisor.health();
    // Analysis fed by the restreamer never sees the camera itself: while the camera's session
    // is down, its reason (401, refused, 404...) is the camera's.
    if (r.supervisor.opts.source && live.state !== 'live' && h.state !== 'live' && live.lastError)
      return { ...h, state: 'offline', lastError: live.lastError, live };
    return { ...h, live };
  }

  /**
   * The core's own session on a camera an analytics node runs (holdLive), as its health's
   * `live`: the node reports its ingest, but only this process knows that it holds an RTSP
   * session of its own on the camera, how many it feeds, and why that one failed.
   */
  private viewersLive(id: string): LiveHealth {
    const d = this.onDemand.get(id);
    if (!d) return { ...NO_VIEWERS_SESSION };
    return {
      ...d.restreamer.health(),
      session: 'viewers',
      closesAt: d.closesAtMs === null ? null : new Date(d.closesAtMs).toISOString(),
    };
  }

  /** One RTSP session on the camera's main stream, fanned out to its readers (not started). */
  private mainStream(c: CameraRecord): Restreamer {
    const { ingest } = this.config;
    return new Restreamer({
      cameraId: c.id,
      url: c.url,
      username: c.credentials.username,
      password: c.credentials.password,
      stallTimeoutMs: ingest.stallTimeoutS * 1000,
      backoffMaxMs: ingest.backoffMaxS * 1000,
      ffmpegPath: ingest.ffmpegPath,
      log: this.log.child({ name: 'restream' }),
    });
  }

  /** Whether holdLive can serve the camera: it runs here, or analytics nodes run it and the core pulls it for viewers. */
  liveAvailable(id: string): boolean {
    return this.running.has(id) || this.config.analytics.nodes;
  }

  /**
   * A hold on the camera's live stream for one viewer: its own restreamer when this process
   * runs the camera; with analytics nodes, a restreamer opened for viewers (the node's is on
   * another machine), closed ON_DEMAND_LINGER_MS after the last hold is released. Null when the
   * camera runs nowhere this process can pull it from.
   */
  holdLive(c: CameraRecord): LiveHold | null {
    const local = this.running.get(c.id);
    if (local) return { source: local.restreamer, release: () => undefined };
    if (!this.config.analytics.nodes) return null;
    let d = this.onDemand.get(c.id);
    if (!d) {
      const restreamer = this.mainStream(c);
      const created: OnDemand = { restreamer, holds: 0, idle: null, closesAtMs: null, snapshot: null };
      d = created;
      this.onDemand.set(c.id, d);
      // Its state changes (live, offline with a reason) go to the camera's health viewers at once.
      restreamer.on('health', () => {
        if (this.onDemand.get(c.id) === created) this.publishHealth(c.id);
      });
      restreamer.start();
      this.log.info({ cameraId: c.id }, 'live session opened for viewers of a camera an analytics node holds');
    }
    const entry = d;
    entry.holds++;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = null;
    entry.closesAtMs = null;
    let released = false;
    return {
      source: entry.restreamer,
      release: () => {
        if (released) return;
        released = true;
        entry.holds--;
        if (entry.holds > 0 || this.onDemand.get(c.id) !== entry) return;
        entry.closesAtMs = Date.now() + ON_DEMAND_LINGER_MS;
        entry.idle = setTimeout(() => {
          if (entry.holds > 0 || this.onDemand.get(c.id) !== entry) return;
          // Closed for want of viewers (the camera stays): its health now says no session is open.
          void this.stopOnDemand(c.id).then(() => this.publishHealth(c.id));
        }, ON_DEMAND_LINGER_MS);
        entry.idle.unref();
        this.publishHealth(c.id);
      },
    };
  }

  private async stopOnDemand(id: string): Promise<void> {
    const d = this.onDemand.get(id);
    if (!d) return;
    this.onDemand.delete(id);
    if (d.idle) clearTimeout(d.idle);
    // Its viewers get `end('stopped')` and reconnect (to a new session with the camera's new settings).
    await d.restreamer.stop();
    this.log.info({ cameraId: id }, 'live session for viewers closed');
  }

  /** Adds how far back the camera's recording goes (from the cache: health reports are synchronous). */
  private withDepth(id: string, h: CameraHealth): CameraHealth {
    const since = this.depth.get(id);
    return { ...h, recordingSince: since === undefined ? null : new Date(since).toISOString() };
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
    const restreamer = this.mainStream(c);
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
      // The write runs beside ffmpeg, never in its way: a failure is logged and the recorder goes on.
      r.recorder.on('segment', (s) => {
        // The usual failure: the camera was deleted while its last segment was being written.
        void this.addSegment(s).catch((err: unknown) => log.debug({ err }, 'segment not indexed'));
      });
      r.recorder.start();
    }
    this.running.set(c.id, r);
    restreamer.start();
    supervisor.start();
  }

  async stop(id: string): Promise<void> {
    await this.stopOnDemand(id);
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
    if (this.depthTimer) clearInterval(this.depthTimer);
    this.depthTimer = null;
    await Promise.all([...new Set([...this.running.keys(), ...this.onDemand.keys()])].map((id) => this.stop(id)));
  }

  /**
   * JPEG of the newest analysis frame (cached per frame), or null before the first frame. A
   * camera an analytics node holds has no analysis frame here: its picture is the newest
   * keyframe of the viewers' session (holdLive), decoded by ffmpeg.
   */
  async snapshot(id: string, record?: CameraRecord): Promise<Buffer | null> {
    if (!this.running.has(id) && record && this.config.analytics.nodes) return this.onDemandSnapshot(record);
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

  private async onDemandSnapshot(c: CameraRecord): Promise<Buffer | null> {
    const hold = this.holdLive(c);
    if (!hold) return null;
    try {
      if (!(await hold.source.waitLive(ON_DEMAND_SNAPSHOT_WAIT_MS))) return null;
      // attach() hands a live stream's init and newest GOP over at once; the GOP starts with its keyframe.
      const got: { init: Buffer | null; key: Buffer | null } = { init: null, key: null };
      const detach = hold.source.attach({
        init: (data) => {
          got.init = data;
          got.key = null;
        },
        fragment: (data, isKey) => {
          if (isKey && got.init && !got.key) got.key = data;
        },
        end: () => undefined,
      });
      detach();
      const { init, key } = got;
      if (!init || !key) return null;
      const d = this.onDemand.get(c.id);
      if (d?.snapshot?.key === key) return d.snapshot.jpeg;
      const jpeg = await this.decodeKeyframe(c.id, init, key);
      if (d && jpeg) d.snapshot = { key, jpeg };
      return jpeg;
    } finally {
      hold.release();
    }
  }

  /** One fMP4 keyframe (init + fragment) to JPEG through ffmpeg's stdin/stdout: no files. */
  private decodeKeyframe(cameraId: string, init: Buffer, key: Buffer): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const ff = spawn(
        this.config.ingest.ffmpegPath,
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-f',
          'mp4',
          '-i',
          'pipe:0',
          '-frames:v',
          '1',
          '-q:v',
          '4',
          '-f',
          'image2',
          '-c:v',
          'mjpeg',
          'pipe:1',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const out: Buffer[] = [];
      let err = '';
      const timer = setTimeout(() => ff.kill('SIGKILL'), 10_000);
      ff.stdout.on('data', (b: Buffer) => out.push(b));
      ff.stderr.on('data', (b: Buffer) => (err += b.toString()));
      ff.stdin.on('error', () => undefined); // ffmpeg may exit before reading everything
      ff.on('error', (e) => {
        clearTimeout(timer);
        this.log.warn({ err: e, cameraId }, 'snapshot decoder could not start');
        resolve(null);
      });
      ff.on('close', (code) => {
        clearTimeout(timer);
        const jpeg = Buffer.concat(out);
        if (code === 0 && jpeg.length > 0) return resolve(jpeg);
        this.log.warn({ cameraId, code, stderr: err.slice(-500) }, 'snapshot decode failed');
        resolve(null);
      });
      ff.stdin.end(Buffer.concat([init, key]));
    });
  }
}
