import { Worker } from 'node:worker_threads';
import type { Logger } from '../../common/logger';
import type { Zone } from '../../contract/zones';
import type { RuleEvent } from '../rules/types';
import type { FightFromWorker, FightToWorker } from './fight-protocol';

const WORKER_URL = new URL('./fight-worker-entry.mjs', import.meta.url);

export interface FightFrame {
  t: number;
  width: number;
  height: number;
  /** BGR24 pixels; transferred to the worker (detached here), handed back as `buffer`. */
  data: ArrayBuffer;
  inZone: ReadonlyMap<string, readonly number[]>;
}

export interface FightAnswer {
  events: RuleEvent[];
  /** The frame's memory back, for the next frame's copy (null when the worker died holding it). */
  buffer: ArrayBuffer | null;
}

interface Waiting {
  resolve: (a: FightAnswer) => void;
}

/**
 * The default fight rule (the trained clip classifier) off the core's main thread: one worker
 * thread keeps every camera's windows and scores them; the caller sends each analysed frame
 * and gets that frame's raise/clear events back. A camera has at most one frame in the worker
 * (its runner awaits the answer), so the worker's backlog is bounded by the number of cameras.
 *
 * A worker that dies is replaced on the next frame; its windows start afresh (a fight in
 * progress is found again after a window, 2-3 s) and the frames it held answer with no events.
 */
export class FightWorker {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  /** Zone list version sent per key: the worker rebuilds a camera's rules when it changes. */
  private readonly sent = new Map<string, number>();
  private readonly versions = new Map<string, { zones: readonly Zone[]; version: number }>();
  private nextId = 1;
  private nextVersion = 1;
  private closed = false;
  crashes = 0;
  frames = 0;

  constructor(private readonly log: Logger) {}

  /** Sets a key's watch zones (a new list restarts its windows). */
  setZones(key: string, zones: readonly Zone[]): void {
    this.versions.set(key, { zones: zones.filter((z) => z.kind === 'watch'), version: this.nextVersion++ });
  }

  /** Whether any of the key's zones is a watch zone (no frame needs to go to the worker otherwise). */
  watches(key: string): boolean {
    return (this.versions.get(key)?.zones.length ?? 0) > 0;
  }

  evaluate(key: string, f: FightFrame): Promise<FightAnswer> {
    const v = this.versions.get(key);
    if (this.closed || !v || v.zones.length === 0) return Promise.resolve({ events: [], buffer: f.data });
    const w = this.ensure();
    const id = this.nextId++;
    const msg: FightToWorker = {
      type: 'frame',
      id,
      key,
      version: v.version,
      ...(this.sent.get(key) !== v.version ? { zones: v.zones } : {}),
      t: f.t,
      width: f.width,
      height: f.height,
      data: f.data,
      inZone: [...f.inZone].map(([z, ids]) => [z, [...ids]]),
    };
    this.sent.set(key, v.version);
    this.frames++;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve });
      w.postMessage(msg, [f.data]);
    });
  }

  /** Drops a key's windows (its camera is no longer analysed). */
  forget(key: string): void {
    this.versions.delete(key);
    this.sent.delete(key);
    this.worker?.postMessage({ type: 'forget', key } satisfies FightToWorker);
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.settleAll();
    await w?.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_URL, { name: 'fight-classifier' });
    w.on('message', (m: FightFromWorker) => {
      const job = this.waiting.get(m.id);
      if (!job) return;
      this.waiting.delete(m.id);
      if (m.type === 'failed') {
        this.log.error({ message: m.message }, 'fight classifier failed on a frame');
        job.resolve({ events: [], buffer: m.data });
      } else job.resolve({ events: m.events, buffer: m.data });
    });
    w.on('error', (err) => this.log.error({ err }, 'fight classifier worker crashed'));
    w.on('exit', (code) => {
      if (this.worker !== w) return;
      this.worker = null;
      this.sent.clear();
      if (this.closed) return;
      this.crashes++;
      this.log.warn({ code, crashes: this.crashes }, 'fight classifier worker exited; a new one starts with the next frame');
      this.settleAll();
    });
    this.worker = w;
    return w;
  }

  private settleAll(): void {
    for (const job of this.waiting.values()) job.resolve({ events: [], buffer: null });
    this.waiting.clear();
  }

  /** Stops the worker now, like a crash (tests of recovery). */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }
}
