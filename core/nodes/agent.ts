import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, sep } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { NODES_NAMESPACE, SOCKET_PATH, type Alert, type AlertScope } from '../../contract';
import {
  NodeAssignment,
  type CoreToNodeEvents,
  type NodeAck,
  type NodeCamera,
  type NodeFrame,
  type NodeHeartbeat,
  type NodeToCoreEvents,
} from '../../contract/nodes';
import type { AlertChange, NewAlert } from '../alerts/store';
import { openReid } from '../analytics/reid';
import { CameraRunner, type RunnerAlerts } from '../analytics/runner';
import type { Config } from '../config';
import { SentinelError } from '../errors';
import type { Logger } from '../logger';
import {
  FightWorker,
  InferenceScheduler,
  openModel,
  openRegistry,
  type InferencePool,
  type InferenceSettings,
  type ModelRegistry,
} from '../../analytics/inference';
import type { Embedder } from '../../analytics/inference/reid';
import { IngestSupervisor } from '../../analytics/ingest/supervisor';
import { SegmentRecorder } from '../../analytics/recording/recorder';
import { openFightModel } from '../analytics/models';
import { NodeFightModel } from './fight';
import { Outbox, type OutboxItem } from './outbox';

type CoreSocket = Socket<CoreToNodeEvents, NodeToCoreEvents>;

/** The core places alerts itself (node.ts sends none); the runner's alert shape needs one. */
const NO_SCOPE: AlertScope = { placement: null, district: null, lines: [], routes: [] };
/** How long the core has to answer a message before it is sent again. */
const ACK_TIMEOUT_MS = 10_000;

interface Held {
  cam: NodeCamera;
  supervisor: IngestSupervisor;
  recorder: SegmentRecorder | null;
  runner: CameraRunner | null;
  zonesJson: string;
}

export interface NodeOptions {
  coreUrl: string;
  token: string;
  config: Config;
  log: Logger;
  /** Where snapshots wait to be sent and the alert outbox is kept. */
  workDir: string;
  /** An administrator revoked this node's token (the CLI exits: a supervisor restarting it would be refused anyway). */
  onRevoked?: () => void;
}

/** Machine CPU in use since the previous call, 0..1 over all cores. */
function cpuMeter(): () => number {
  const read = () =>
    cpus().reduce((a, c) => ({ idle: a.idle + c.times.idle, total: a.total + Object.values(c.times).reduce((x, y) => x + y, 0) }), {
      idle: 0,
      total: 0,
    });
  let last = read();
  return () => {
    const now = read();
    const total = now.total - last.total;
    const busy = total > 0 ? 1 - (now.idle - last.idle) / total : 0;
    last = now;
    return Math.round(Math.max(0, busy) * 1000) / 1000;
  };
}

/**
 * `sentinel analytics-node`: ingest and analytics for the cameras the core hands this node.
 * Every heartbeat (a third of the lease time) reports load and camera health and gets back
 * the cameras to hold, with their RTSP URLs (only those); the node starts what is new, stops
 * what is gone. Without an answer for a lease time it stops everything, since its claims may
 * have passed to another node. Alerts go through the outbox (acknowledged after commit).
 */
export class AnalyticsNode {
  private socket: CoreSocket | null = null;
  private readonly held = new Map<string, Held>();
  private readonly outbox: Outbox;
  private readonly fight: FightWorker;
  /** The fight classifier the core chose, opened from this node's registry (the built-in one until then). */
  private readonly fightModel: NodeFightModel;
  /**
   * Person detectors by model name, opened when a camera first needs one: the core names each
   * camera's model (the technician's choice) in every assignment. All share one worker budget.
   */
  private readonly pools = new Map<string, InferencePool | 'opening' | 'failed'>();
  private scheduler: InferenceScheduler | null = null;
  private defaultModel = '';
  /** Re-ID in the tracker, as on the core (analytics.reid); opened before any camera is claimed. */
  private reid: Embedder | null = null;
  /** Why re-ID is off although the config asks for it (its model failed to load), reported in each camera's health. */
  private reidError: string | null = null;
  private heartbeatMs = 2000;
  private leaseTtlMs = 6000;
  /** Where this node writes segments: its own recording.dir when set (the share mounted elsewhere), else the core's path. */
  private recordingsDir: string | null = null;
  private segmentSeconds = 10;
  private lastAssignedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private offlineTimer: NodeJS.Timeout | null = null;
  private frames: NodeFrame[] = [];
  private readonly cpu = cpuMeter();
  private closed = false;
  /** Details of this node's open alerts (the runner reads them back when it closes one). */
  private readonly open = new Map<string, Alert['detail']>();
  nodeId: string | null = null;

  constructor(private readonly opts: NodeOptions) {
    mkdirSync(join(opts.workDir, 'snapshots'), { recursive: true });
    this.outbox = new Outbox(join(opts.workDir, 'outbox.json'), (item) => this.send(item), opts.log.child({ name: 'outbox' }));
    this.fight = new FightWorker(opts.log);
    this.fightModel = new NodeFightModel((name) => openFightModel(this.registry(), name, this.inference(), opts.log), opts.log);
  }

  private registry(): ModelRegistry {
    const { config } = this.opts;
    // Re-read each time: a manifest dropped in is usable without a restart, as on the core.
    return openRegistry({ modelsDir: config.inference.modelsDir, assetsDir: config.assetsDir, manifestDir: config.inference.manifestDir });
  }

  private inference(): InferenceSettings {
    return { ...this.opts.config.inference, ...(this.scheduler ? { scheduler: this.scheduler } : {}) };
  }

  private send(item: OutboxItem): Promise<NodeAck> {
    const s = this.socket;
    if (!s?.connected) return Promise.reject(new Error('not connected'));
    const t = s.timeout(ACK_TIMEOUT_MS);
    if (item.type === 'alert') return t.emitWithAck('node:alert', item.body);
    if (item.type === 'change') return t.emitWithAck('node:alert-change', item.body);
    return t.emitWithAck('node:segment', item.body);
  }

  /** Connects and resolves once the core accepted the token; a refused token is a SentinelError. */
  async start(): Promise<void> {
    const { config, log } = this.opts;
    this.defaultModel = config.analytics.model ?? config.inference.defaultModel;
    this.scheduler = new InferenceScheduler(config.inference.workers);
    ({ embedder: this.reid, error: this.reidError } = await openReid(config, log));
    const opening = this.openPool(this.defaultModel);
    const url = new URL(NODES_NAMESPACE, this.opts.coreUrl).toString();
    const socket: CoreSocket = ioClient(url, {
      path: SOCKET_PATH,
      transports: ['websocket'],
      auth: { token: this.opts.token },
      reconnectionDelay: 500,
      reconnectionDelayMax: 2000,
    });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      let first = true;
      socket.on('connect', () => {
        log.info({ core: this.opts.coreUrl }, 'connected to the core');
        if (this.offlineTimer) clearTimeout(this.offlineTimer);
        this.offlineTimer = null;
        void this.beat();
        void this.outbox.pump();
        if (first) {
          first = false;
          resolve();
        }
      });
      socket.on('connect_error', (err) => {
        if (err.message.startsWith('unauthorized')) {
          socket.disconnect();
          const e = new SentinelError(`the core at ${this.opts.coreUrl} refused this node: ${err.message}`, 'unauthorized');
          if (first) {
            first = false;
            reject(e);
          } else {
            log.fatal({ err: err.message }, 'the core refused this node; stopping its cameras');
            this.stopAll();
          }
          return;
        }
        if (first) log.warn({ core: this.opts.coreUrl, err: err.message }, 'cannot reach the core yet; retrying');
      });
      socket.on('disconnect', () => {
        // The core gives our cameras away one heartbeat after it saw us go: stop them before that.
        if (this.closed || this.held.size === 0) return;
        this.offlineTimer ??= setTimeout(() => {
          this.offlineTimer = null;
          if (socket.connected || this.closed) return;
          log.warn(
            { cameras: [...this.held.keys()] },
            'no connection to the core; stopping the cameras (the core gives them to other nodes)',
          );
          this.stopAll();
        }, this.heartbeatMs / 2);
      });
      socket.on('node:revoked', () => {
        log.fatal('this node was revoked by an administrator; stopping its cameras');
        socket.disconnect();
        this.stopAll();
        this.opts.onRevoked?.();
      });
    });
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    await opening;
  }

  private heartbeatBody(): NodeHeartbeat {
    let fps = 0;
    const cameras: NodeHeartbeat['cameras'] = [];
    for (const [id, h] of this.held) {
      const analysis = h.runner?.health() ?? null;
      fps += analysis?.fps ?? 0;
      cameras.push({ cameraId: id, health: h.supervisor.health(), analysis });
    }
    return { load: { cameras: this.held.size, fps: Math.round(fps * 10) / 10, cpu: this.cpu() }, fight: this.fightModel.state(), cameras };
  }

  private beating = false;

  private async beat(): Promise<void> {
    const s = this.socket;
    if (this.closed || this.beating) return;
    // No answer for a lease time: another node may hold our cameras now.
    if (this.held.size && Date.now() - this.lastAssignedAt > this.leaseTtlMs - this.heartbeatMs / 2) {
      this.opts.log.warn(
        { cameras: [...this.held.keys()] },
        'no heartbeat answer from the core within the lease time; stopping the cameras',
      );
      this.stopAll();
    }
    if (!s?.connected) return;
    this.beating = true;
    try {
      const frames = this.frames.splice(0);
      if (frames.length) s.volatile.emit('node:frames', frames);
      const answer: unknown = await s.timeout(this.heartbeatMs * 2).emitWithAck('node:heartbeat', this.heartbeatBody());
      const a = NodeAssignment.safeParse(answer);
      if (!a.success) {
        this.opts.log.error({ answer: (answer as { error?: string }).error ?? 'unreadable' }, 'the core did not accept the heartbeat');
        return;
      }
      this.lastAssignedAt = Date.now();
      this.nodeId = a.data.nodeId;
      this.leaseTtlMs = a.data.leaseTtlMs;
      const own = this.opts.config.recording.dir;
      this.recordingsDir = a.data.recordingsDir === null ? null : own ? join(own, 'recordings') : a.data.recordingsDir;
      this.segmentSeconds = a.data.segmentSeconds;
      if (a.data.heartbeatMs !== this.heartbeatMs) {
        this.heartbeatMs = a.data.heartbeatMs;
        if (this.timer) clearInterval(this.timer);
        this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
      }
      this.apply(a.data.cameras);
      this.fightModel.follow(a.data.fightModel);
      void this.outbox.pump();
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'heartbeat not answered');
    } finally {
      this.beating = false;
    }
  }

  /** Brings the running cameras in line with the core's list. */
  private apply(cams: readonly NodeCamera[]): void {
    const wanted = new Map(cams.map((c) => [c.id, c]));
    for (const [id, h] of this.held) {
      const w = wanted.get(id);
      // A new fence: the camera was another node's in between; start it afresh.
      if (
        !w ||
        w.fence !== h.cam.fence ||
        w.url !== h.cam.url ||
        w.subUrl !== h.cam.subUrl ||
        w.password !== h.cam.password ||
        w.recordingEnabled !== h.cam.recordingEnabled
      )
        this.stop(id);
    }
    for (const c of cams) {
      const h = this.held.get(c.id);
      if (!h) {
        this.begin(c);
        continue;
      }
      h.cam = c;
      const z = JSON.stringify(c.zones);
      if (z !== h.zonesJson) {
        h.zonesJson = z;
        if (h.runner && c.zones.length && c.analyticsEnabled) h.runner.setZones(c.zones);
        else {
          h.runner?.close();
          h.runner = this.runnerFor(c);
        }
      }
    }
    // A camera's new model takes over as soon as it is open (the runner asks every frame).
    for (const c of cams) if (c.analyticsEnabled) void this.openPool(c.model ?? this.defaultModel);
    this.retirePools();
  }

  private alertsFor(): RunnerAlerts {
    return {
      raise: (input: NewAlert) => {
        const id = randomUUID();
        let snapshot: string | null = null;
        if (input.snapshotPath) {
          try {
            snapshot = readFileSync(input.snapshotPath).toString('base64');
            rmSync(input.snapshotPath, { force: true });
          } catch (err) {
            this.opts.log.error({ err }, 'cannot read the alert snapshot; the alert goes without it');
          }
        }
        this.open.set(id, input.detail);
        this.outbox.add({
          type: 'alert',
          body: {
            id,
            kind: input.kind,
            cameraId: input.cameraId,
            zoneId: input.zoneId,
            zoneName: input.zoneName,
            score: input.score,
            startedAt: (input.startedAt ?? new Date()).toISOString(),
            trackIds: input.trackIds,
            detail: input.detail,
            snapshot,
          },
        });
        return { id, stored: null };
      },
      change: (id: string, change: AlertChange) => {
        // A detail made from the current one (the runner closing an alert) is made from what this node sent last.
        const detail = typeof change.detail === 'function' ? change.detail(this.open.get(id) ?? {}) : change.detail;
        if (detail) this.open.set(id, detail);
        if (change.endedAt) this.open.delete(id);
        this.outbox.add({
          type: 'change',
          body: {
            id,
            ...(change.endedAt ? { endedAt: change.endedAt.toISOString() } : {}),
            ...(change.score !== undefined ? { score: change.score } : {}),
            ...(change.trackIds ? { trackIds: change.trackIds } : {}),
            ...(detail ? { detail } : {}),
          },
        });
      },
    };
  }

  private async openPool(name: string): Promise<void> {
    if (this.pools.has(name)) return;
    const { log } = this.opts;
    this.pools.set(name, 'opening');
    const r = await openModel(this.registry(), name, this.inference(), log);
    if (this.closed || this.pools.get(name) !== 'opening') {
      if (r.state === 'ready') void r.pool.close();
      return;
    }
    if (r.state === 'ready') {
      this.pools.set(name, r.pool);
      log.info({ model: name }, 'person detector ready');
    } else {
      this.pools.set(name, 'failed');
      log.warn(
        { model: name, reason: r.status.message },
        'person detector unavailable: its cameras are analysed with the default, or not at all',
      );
    }
  }

  /**
   * The pool for a camera's model now (asked every frame): while a newly chosen model opens, or
   * when it cannot run, the camera keeps the default detector, so a swap loses no frame.
   */
  private detectorFor(model: string | undefined): InferencePool | null {
    const name = model ?? this.defaultModel;
    const p = this.pools.get(name);
    if (p === undefined) void this.openPool(name);
    if (p !== undefined && p !== 'opening' && p !== 'failed') return p;
    const d = this.pools.get(this.defaultModel);
    return d !== undefined && d !== 'opening' && d !== 'failed' ? d : null;
  }

  /** Closes the detectors no held camera uses any more (the default stays). */
  private retirePools(): void {
    const needed = new Set([this.defaultModel, ...[...this.held.values()].map((h) => h.cam.model ?? this.defaultModel)]);
    for (const [name, p] of this.pools) {
      if (needed.has(name)) continue;
      this.pools.delete(name);
      if (p !== 'opening' && p !== 'failed') void p.close();
      this.opts.log.info({ model: name }, 'person detector closed: no camera here uses it');
    }
  }

  private runnerFor(c: NodeCamera): CameraRunner | null {
    if (!c.analyticsEnabled || c.zones.length === 0) return null;
    const { config, log } = this.opts;
    const motion = config.analytics.motion;
    const socket = this.socket;
    return new CameraRunner({ id: c.id, name: c.name, mount: c.mount, location: c.location }, c.zones, {
      alerts: this.alertsFor(),
      occupancy: {
        // Sent unacknowledged: nothing to wait for.
        add: (cameraId, t, counts) => {
          socket?.volatile.emit('node:occupancy', { cameraId, t, counts });
          return Promise.resolve();
        },
      },
      snapshotsDir: join(this.opts.workDir, 'snapshots'),
      log,
      scope: () => NO_SCOPE,
      // Absent for a fixed camera, null when its vehicle's speed is unknown (the core has the feeds).
      speedOf: () => (this.held.get(c.id) ?? { cam: c }).cam.speed,
      sampleEveryMs: config.analytics.sampleEveryS * 1000,
      detector: () => this.detectorFor((this.held.get(c.id) ?? { cam: c }).cam.model),
      ...(this.reid ? { reid: { embedder: this.reid, options: config.analytics.reid } } : {}),
      reidError: this.reidError,
      fight: () => this.fightModel.choice(),
      fightWorker: this.fight,
      gate: {
        enabled: motion.enabled,
        threshold: motion.threshold,
        keepAliveMs: motion.keepAliveS * 1000,
        holdMs: motion.holdS * 1000,
        masks: motion.masks[c.id] ?? [],
      },
      onAnalysed: (f) => {
        // Detections for the reviewers' replay travel once a heartbeat; a backlog is capped (they are not alerts).
        if (this.frames.length < 500) this.frames.push(f);
      },
    });
  }

  /** The camera's rolling recording into the shared directory; each finished segment is reported through the outbox. */
  private recorderFor(c: NodeCamera): SegmentRecorder | null {
    const root = this.recordingsDir;
    if (!root || !c.recordingEnabled) return null;
    const { ingest } = this.opts.config;
    const recorder = new SegmentRecorder({
      cameraId: c.id,
      url: c.url,
      username: c.username ?? undefined,
      password: c.password ?? undefined,
      dir: join(root, c.id),
      segmentSeconds: this.segmentSeconds,
      stallTimeoutMs: ingest.stallTimeoutS * 1000,
      backoffMaxMs: ingest.backoffMaxS * 1000,
      ffmpegPath: ingest.ffmpegPath,
      log: this.opts.log.child({ name: 'recorder' }),
    });
    recorder.on('segment', (seg) => {
      const file = relative(root, seg.path).split(sep).join('/');
      this.outbox.add({
        type: 'segment',
        body: { id: randomUUID(), cameraId: c.id, file, startMs: seg.startMs, endMs: seg.endMs, bytes: seg.bytes, session: seg.session },
      });
    });
    return recorder;
  }

  private begin(c: NodeCamera): void {
    const { ingest } = this.opts.config;
    const supervisor = new IngestSupervisor({
      cameraId: c.id,
      url: c.subUrl ?? c.url,
      username: c.username ?? undefined,
      password: c.password ?? undefined,
      fps: ingest.fps,
      maxWidth: ingest.maxWidth,
      maxHeight: ingest.maxHeight,
      stallTimeoutMs: ingest.stallTimeoutS * 1000,
      backoffMaxMs: ingest.backoffMaxS * 1000,
      ffmpegPath: ingest.ffmpegPath,
      log: this.opts.log,
    });
    const h: Held = { cam: c, supervisor, recorder: this.recorderFor(c), runner: this.runnerFor(c), zonesJson: JSON.stringify(c.zones) };
    // The runner releases the frame; without one it goes back to the ingest pool at once.
    supervisor.slot.subscribe((f) => (h.runner ? h.runner.onFrame(f) : f.release()));
    this.held.set(c.id, h);
    supervisor.start();
    h.recorder?.start();
    this.opts.log.info({ cameraId: c.id, fence: c.fence, analysed: h.runner !== null }, 'camera taken');
  }

  private stop(id: string): void {
    const h = this.held.get(id);
    if (!h) return;
    this.held.delete(id);
    h.runner?.close();
    void h.supervisor.stop();
    void h.recorder?.stop();
    this.opts.log.info({ cameraId: id }, 'camera given up');
  }

  private stopAll(): void {
    for (const id of [...this.held.keys()]) this.stop(id);
  }

  /** Cameras this node runs now (tests, the CLI's status line). */
  cameras(): string[] {
    return [...this.held.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.offlineTimer) clearTimeout(this.offlineTimer);
    // What is still unacknowledged stays in the outbox file for the next start.
    this.outbox.close();
    // Our cameras go to the other nodes now rather than when the leases lapse.
    const s = this.socket;
    if (s?.connected)
      await s
        .timeout(2000)
        .emitWithAck('node:bye')
        .catch(() => undefined);
    const stops = [...this.held.values()].map((h) => {
      h.runner?.close();
      return Promise.all([h.supervisor.stop(), h.recorder?.stop()]);
    });
    this.held.clear();
    await Promise.allSettled(stops);
    this.socket?.disconnect();
    await Promise.all([...this.pools.values()].map((p) => (p !== 'opening' && p !== 'failed' ? p.close() : undefined)));
    this.pools.clear();
    await this.reid?.close();
    await this.fightModel.close();
    await this.fight.close();
  }
}
