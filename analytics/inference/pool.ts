import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { SentinelError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { ModelManifest } from './manifest';
import { BadFrameError, checkFrameGeometry } from './preprocess';
import { ControlState, type FromWorker, type InferRequest, type WorkerInit } from './protocol';
import { InferenceScheduler, type SchedulerClient } from './scheduler';
import type { CameraStats, DropReason, Frame, FrameResult, PoolStats } from './types';

// Workers run the TypeScript sources through tsx, like the CLI: the .mjs entry registers
// the loader inside the worker, then imports worker.ts.
const WORKER_URL = new URL('./worker-entry.mjs', import.meta.url);

export interface PoolOptions {
  manifest: ModelManifest;
  /** Verified weights (see registry.requireModel). */
  modelPath: string;
  workers: number;
  intraOpThreads: number;
  /** A frame waiting longer than this is dropped as stale instead of being inferred late. */
  maxFrameAgeMs?: number;
  /** Frames a camera may have waiting; a newer one supersedes the oldest. 1 = keep only the newest. */
  perCameraQueue?: number;
  /**
   * Frames a worker may hold at once (default 2): one in work and one waiting in its port,
   * so a worker never idles for the round trip through the main thread between frames.
   * 1 = strictly one at a time (scheduling decided as late as possible).
   */
  pipelineDepth?: number;
  /**
   * The box's scheduler, shared by every pool on it: a box-wide budget of computing workers
   * and one round robin over cameras across models. Without one the pool schedules alone,
   * all its workers allowed to compute at once.
   */
  scheduler?: InferenceScheduler;
  log: Logger;
}

export interface DetectOptions {
  scoreThreshold?: number;
  nmsIou?: number;
  maxDetections?: number;
}

interface Pending {
  id: number;
  frame: Frame;
  opts: Required<DetectOptions>;
  submittedAt: number;
  resolve: (r: FrameResult) => void;
}

interface Slot {
  id: number;
  worker: Worker;
  state: 'starting' | 'ready' | 'dead';
  /** Frames sent to this worker and not answered yet, by id (at most pipelineDepth). */
  jobs: Map<number, Pending & { dispatchedAt: number }>;
  control: Int32Array;
  /** Being stopped: results it may still post are ignored, its frame counts as crashed. */
  stopping: boolean;
  /** Holds one of the scheduler's tokens: exactly while it has frames (jobs.size > 0). */
  token: boolean;
}

export type PoolState = { state: 'ready' } | { state: 'unavailable'; message: string } | { state: 'closed' };

const emptyCamera = (): CameraStats => ({ submitted: 0, processed: 0, failed: 0, droppedSuperseded: 0, droppedStale: 0 });

/**
 * A pool of inference workers for one model: one onnxruntime session per worker thread.
 *
 * Scheduling: each camera has a small queue (by default one frame: the newest). A new frame
 * supersedes the oldest waiting one of its camera, so a camera producing faster than the
 * pool can serve never builds a backlog. Which camera goes next, and whether a worker may
 * compute now, is the box's scheduler's call (scheduler.ts): round robin over cameras across
 * every pool, within a box-wide budget of computing workers, so a busy camera cannot starve a
 * quiet one whatever their models. Frames that waited longer than maxFrameAgeMs are dropped
 * as stale. Every frame's promise resolves (never rejects) with `ok`, `dropped`
 * or `failed`, and every drop is counted per camera.
 *
 * A worker that dies (crash, out of memory, terminate) is replaced; the frame it was working
 * on resolves as `failed` with code `worker_crashed`, and the pool keeps serving.
 */
export class InferencePool {
  readonly model: string;
  readonly manifest: ModelManifest;
  private readonly slots: Slot[] = [];
  private readonly queues = new Map<string, Pending[]>();
  /** Decides which camera goes next and when a worker may compute (see scheduler.ts). */
  private readonly scheduler: InferenceScheduler;
  private readonly client: SchedulerClient;
  private nextId = 1;
  private nextWorkerId = 0;
  private closed = false;
  private unavailable: string | null = null;
  private restarts = 0;
  private consecutiveCrashes = 0;
  private readonly cameras = new Map<string, CameraStats>();
  private readonly totals = { submitted: 0, processed: 0, failed: 0, dropped: 0 };
  private readonly maxFrameAgeMs: number;
  private readonly perCameraQueue: number;
  private readonly pipelineDepth: number;
  private readonly log: Logger;
  private readonly defaults: Required<DetectOptions>;

  private constructor(private readonly opts: PoolOptions) {
    this.model = opts.manifest.name;
    this.manifest = opts.manifest;
    this.maxFrameAgeMs = opts.maxFrameAgeMs ?? 2000;
    this.perCameraQueue = Math.max(1, opts.perCameraQueue ?? 1);
    this.pipelineDepth = Math.max(1, opts.pipelineDepth ?? 2);
    this.log = opts.log;
    const d = opts.manifest.defaults;
    this.defaults = { scoreThreshold: d.scoreThreshold, nmsIou: d.nmsIou, maxDetections: d.maxDetections };
    this.scheduler = opts.scheduler ?? new InferenceScheduler(opts.workers);
    this.client = {
      waiting: () => this.waitingCameras(),
      room: () => this.room(),
      send: (cameraId, to) => this.send(cameraId, to),
    };
    this.scheduler.register(this.client);
  }

  /**
   * Starts the workers and waits until every session is open. A model that cannot load
   * (corrupt file, input shape not as the manifest says) rejects with a SentinelError naming
   * the file; no worker is left running.
   */
  static async start(opts: PoolOptions): Promise<InferencePool> {
    if (!Number.isInteger(opts.workers) || opts.workers < 1)
      throw new SentinelError(
        `inference workers must be a whole number >= 1, got ${opts.workers}`,
        'validation_failed',
        'inference.workers',
      );
    if (!Number.isInteger(opts.intraOpThreads) || opts.intraOpThreads < 1)
      throw new SentinelError(
        `inference intraOpThreads must be a whole number >= 1, got ${opts.intraOpThreads}`,
        'validation_failed',
        'inference.intraOpThreads',
      );
    const pool = new InferencePool(opts);
    try {
      await Promise.all(Array.from({ length: opts.workers }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw new SentinelError((err as Error).message, 'unavailable', 'model');
    }
    opts.log.debug({ model: pool.model, workers: opts.workers, intraOpThreads: opts.intraOpThreads }, 'inference pool ready');
    return pool;
  }

  get state(): PoolState {
    if (this.closed) return { state: 'closed' };
    if (this.unavailable) return { state: 'unavailable', message: this.unavailable };
    return { state: 'ready' };
  }

  /**
   * Queues a frame for inference. The frame's buffer is transferred to a worker (detached
   * here). Resolves with detections in the frame's own pixels, or why there are none.
   */
  submit(frame: Frame, opts: DetectOptions = {}): Promise<FrameResult> {
    const cam = this.camera(frame.cameraId);
    cam.submitted++;
    this.totals.submitted++;
    const { cameraId, ts } = frame;
    if (this.closed) return Promise.resolve(this.drop(frame, 'closed'));
    if (this.unavailable) {
      cam.failed++;
      this.totals.failed++;
      return Promise.resolve({ status: 'failed', cameraId, ts, code: 'model_unavailable', message: this.unavailable });
    }
    try {
      if (!(frame.data instanceof ArrayBuffer)) throw new BadFrameError('frame data must be an ArrayBuffer of BGR24 pixels');
      checkFrameGeometry(frame.width, frame.height, frame.data.byteLength);
    } catch (err) {
      cam.failed++;
      this.totals.failed++;
      const buffer = frame.data instanceof ArrayBuffer ? { buffer: frame.data } : {};
      return Promise.resolve({
        status: 'failed',
        cameraId,
        ts,
        code: 'bad_frame',
        message: `camera ${cameraId}: ${(err as Error).message}`,
        ...buffer,
      });
    }
    return new Promise((resolve) => {
      const job: Pending = {
        id: this.nextId++,
        frame,
        opts: { ...this.defaults, ...stripUndefined(opts) },
        submittedAt: performance.now(),
        resolve,
      };
      let q = this.queues.get(cameraId);
      if (!q) {
        q = [];
        this.queues.set(cameraId, q);
      }
      q.push(job);
      while (q.length > this.perCameraQueue) {
        const old = q.shift();
        if (old) old.resolve(this.drop(old.frame, 'superseded'));
      }
      this.dispatch();
    });
  }

  stats(): PoolStats {
    let pending = 0;
    for (const q of this.queues.values()) pending += q.length;
    return {
      model: this.model,
      workers: this.slots.length,
      intraOpThreads: this.opts.intraOpThreads,
      busyWorkers: this.slots.filter((s) => s.jobs.size > 0).length,
      pendingFrames: pending,
      workerRestarts: this.restarts,
      ...this.totals,
      cameras: Object.fromEntries([...this.cameras].map(([k, v]) => [k, { ...v }])),
    };
  }

  /** Stops a worker now (operations, and tests of crash recovery): it is replaced like a crash. */
  async killWorker(index: number): Promise<boolean> {
    const slot = this.slots[index];
    if (!slot || slot.state === 'dead' || slot.stopping) return false;
    await this.stopWorker(slot);
    return true;
  }

  /**
   * Terminates a worker at a point where that is safe: never inside an onnxruntime native
   * call (which would abort the process), so at most one inference (tens of ms) later.
   */
  private async stopWorker(slot: Slot): Promise<void> {
    slot.stopping = true;
    while (Atomics.compareExchange(slot.control, 0, ControlState.free, ControlState.stopping) === ControlState.native) {
      await new Promise((r) => setTimeout(r, 1));
    }
    await slot.worker.terminate();
  }

  /** Index of a worker busy with a frame, if any (lets a test kill one mid-inference). */
  busyWorkerIndex(): number {
    return this.slots.findIndex((s) => s.state === 'ready' && s.jobs.size > 0);
  }

  /**
   * Finishes every frame already submitted (waiting or in a worker), then closes: what a
   * hot swap does to the pool it replaces, so no frame handed to it is lost. The caller must
   * have stopped submitting; frames submitted meanwhile are served too. Frames still
   * unanswered after `timeoutMs` (a wedged worker) are closed as `dropped: closed`.
   */
  async drain(timeoutMs = this.maxFrameAgeMs + 5000): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (!this.closed && performance.now() < until && this.inFlight() > 0) await new Promise((r) => setTimeout(r, 5));
    await this.close();
  }

  /** Frames submitted and not answered yet (waiting in a camera's queue or held by a worker). */
  inFlight(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    for (const s of this.slots) n += s.jobs.size;
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queues.values()) for (const p of q.splice(0)) p.resolve(this.drop(p.frame, 'closed'));
    const slots = this.slots.splice(0);
    this.scheduler.unregister(this.client);
    await Promise.all(
      slots.map(async (s) => {
        const jobs = [...s.jobs.values()];
        s.jobs.clear();
        this.releaseIfIdle(s);
        s.state = 'dead';
        for (const job of jobs) job.resolve(this.drop(job.frame, 'closed'));
        await this.stopWorker(s);
      }),
    );
  }

  private camera(id: string): CameraStats {
    let c = this.cameras.get(id);
    if (!c) {
      c = emptyCamera();
      this.cameras.set(id, c);
    }
    return c;
  }

  /** A frame that never reached a worker: its buffer is still the caller's, handed back. */
  private drop(f: Frame, reason: DropReason): FrameResult {
    const c = this.camera(f.cameraId);
    if (reason === 'superseded') c.droppedSuperseded++;
    if (reason === 'stale') c.droppedStale++;
    this.totals.dropped++;
    return { status: 'dropped', cameraId: f.cameraId, ts: f.ts, reason, ...(f.data.byteLength > 0 ? { buffer: f.data } : {}) };
  }

  private waitingCameras(): string[] {
    const out: string[] = [];
    for (const [cam, q] of this.queues) if (q.length > 0) out.push(cam);
    return out;
  }

  private usable(s: Slot): boolean {
    return s.state === 'ready' && !s.stopping;
  }

  private room(): { idle: boolean; ahead: boolean } {
    let idle = false;
    let ahead = false;
    for (const s of this.slots) {
      if (!this.usable(s)) continue;
      if (s.jobs.size === 0) idle = true;
      else if (s.jobs.size < this.pipelineDepth) ahead = true;
    }
    return { idle, ahead };
  }

  /** The scheduler's choice: this camera's oldest fresh frame to an idle worker, or ahead to the least-loaded busy one. */
  private send(cameraId: string, to: 'idle' | 'ahead'): 'sent' | 'stale' | 'nothing' {
    let slot: Slot | null = null;
    for (const s of this.slots) {
      if (!this.usable(s)) continue;
      if (to === 'idle' ? s.jobs.size !== 0 : s.jobs.size === 0 || s.jobs.size >= this.pipelineDepth) continue;
      if (!slot || s.jobs.size < slot.jobs.size) slot = s;
    }
    const q = this.queues.get(cameraId);
    if (!slot || !q || q.length === 0) return 'nothing';
    const now = performance.now();
    let job: Pending | undefined;
    while ((job = q.shift())) {
      if (now - job.submittedAt <= this.maxFrameAgeMs) break;
      job.resolve(this.drop(job.frame, 'stale'));
    }
    if (!job) return 'stale';
    const { frame, opts } = job;
    if (to === 'idle') slot.token = true;
    slot.jobs.set(job.id, { ...job, dispatchedAt: now });
    const req: InferRequest = { type: 'infer', id: job.id, width: frame.width, height: frame.height, data: frame.data, ...opts };
    slot.worker.postMessage(req, [frame.data]);
    return 'sent';
  }

  /** A worker left with no frame gives its token back to the box. */
  private releaseIfIdle(slot: Slot): void {
    if (slot.token && slot.jobs.size === 0) {
      slot.token = false;
      this.scheduler.release();
    }
  }

  private dispatch(): void {
    this.scheduler.pump();
  }

  private spawn(): Promise<void> {
    const control = new SharedArrayBuffer(4);
    const init: WorkerInit = {
      manifest: this.opts.manifest,
      modelPath: this.opts.modelPath,
      intraOpThreads: this.opts.intraOpThreads,
      control,
    };
    const worker = new Worker(WORKER_URL, { workerData: init, name: `inference-${this.model}` });
    const slot: Slot = {
      id: this.nextWorkerId++,
      worker,
      state: 'starting',
      jobs: new Map(),
      control: new Int32Array(control),
      stopping: false,
      token: false,
    };
    this.slots.push(slot);
    return new Promise<void>((resolveReady, rejectReady) => {
      let settled = false;
      worker.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'ready':
            settled = true;
            slot.state = 'ready';
            resolveReady();
            this.dispatch();
            return;
          case 'init-error':
            settled = true;
            slot.state = 'dead';
            this.remove(slot);
            void this.stopWorker(slot);
            rejectReady(new Error(msg.message));
            return;
          case 'result':
          case 'failed':
            if (!slot.stopping) this.finish(slot, msg);
            return;
          default: {
            const never: never = msg;
            this.log.error({ msg: never }, 'unknown message from inference worker');
          }
        }
      });
      worker.on('error', (err) => {
        this.log.error({ err, worker: slot.id, model: this.model }, 'inference worker crashed');
        if (!settled) {
          settled = true;
          slot.state = 'dead';
          rejectReady(new Error(`inference worker for model ${this.model} failed to start: ${err.message}`));
        }
      });
      worker.on('exit', (code) => this.onExit(slot, code, settled));
    });
  }

  private finish(slot: Slot, msg: Extract<FromWorker, { type: 'result' | 'failed' }>): void {
    const job = slot.jobs.get(msg.id);
    slot.jobs.delete(msg.id);
    if (!job) {
      this.releaseIfIdle(slot);
      this.dispatch();
      return;
    }
    const cam = this.camera(job.frame.cameraId);
    const { cameraId, ts } = job.frame;
    if (msg.type === 'failed') {
      cam.failed++;
      this.totals.failed++;
      job.resolve({ status: 'failed', cameraId, ts, code: msg.code, message: `camera ${cameraId}: ${msg.message}`, buffer: msg.data });
    } else {
      this.consecutiveCrashes = 0;
      cam.processed++;
      this.totals.processed++;
      const now = performance.now();
      job.resolve({
        status: 'ok',
        cameraId,
        ts,
        model: this.model,
        detections: msg.detections,
        ...(msg.embedding ? { embedding: msg.embedding } : {}),
        ...(msg.scores ? { scores: msg.scores } : {}),
        timings: {
          queueMs: job.dispatchedAt - job.submittedAt,
          preprocessMs: msg.preprocessMs,
          inferMs: msg.inferMs,
          decodeMs: msg.decodeMs,
          totalMs: now - job.submittedAt,
        },
        worker: slot.id,
        buffer: msg.data,
      });
    }
    // Resolving first lets the camera's next frame (submitted from the callback, a microtask
    // later) compete; the token and the next frame are handed out now.
    this.releaseIfIdle(slot);
    this.dispatch();
  }

  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  private onExit(slot: Slot, code: number, started: boolean): void {
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    this.releaseIfIdle(slot);
    const wasLive = slot.state === 'ready';
    slot.state = 'dead';
    this.remove(slot);
    for (const job of jobs) {
      const cam = this.camera(job.frame.cameraId);
      cam.failed++;
      this.totals.failed++;
      job.resolve({
        status: 'failed',
        cameraId: job.frame.cameraId,
        ts: job.frame.ts,
        code: 'worker_crashed',
        message: `camera ${job.frame.cameraId}: inference worker ${slot.id} stopped (exit code ${code}) while processing this frame`,
      });
    }
    if (this.closed || !started || !wasLive) return;
    // Replace it. Repeated crashes back off (up to 5 s) so a worker that dies on every frame
    // does not spin the CPU; a replacement that cannot even load the model makes the pool
    // unavailable, which the cameras show as "model unavailable".
    this.restarts++;
    this.consecutiveCrashes++;
    const delay = Math.min(5000, 50 * 2 ** (this.consecutiveCrashes - 1));
    this.log.warn(
      { worker: slot.id, code, model: this.model, restarts: this.restarts, delayMs: delay },
      'inference worker exited; replacing it',
    );
    setTimeout(() => {
      if (this.closed) return;
      this.spawn().catch((err: Error) => {
        this.log.error({ err, model: this.model }, 'replacement inference worker cannot load the model');
        if (this.slots.every((s) => s.state === 'dead')) this.markUnavailable(err.message);
      });
    }, delay).unref();
    this.dispatch();
  }

  private markUnavailable(message: string): void {
    this.unavailable = message;
    for (const q of this.queues.values()) {
      for (const p of q.splice(0)) {
        const cam = this.camera(p.frame.cameraId);
        cam.failed++;
        this.totals.failed++;
        p.resolve({ status: 'failed', cameraId: p.frame.cameraId, ts: p.frame.ts, code: 'model_unavailable', message });
      }
    }
  }
}

function stripUndefined(o: DetectOptions): DetectOptions {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as DetectOptions;
}
