import {
  InferenceScheduler,
  openModel,
  openRegistry,
  openVerifiedModel,
  type InferencePool,
  type InferenceSettings,
  type ModelRegistry,
} from '../../analytics/inference';
import {
  BUILTIN_FIGHT_MODEL,
  type AnalyticsModels as AnalyticsModelsState,
  type ModelSlotState,
  type NodeModelState,
} from '../../contract';
import { SentinelError } from '../errors';
import type { Logger } from '../logger';
import type { ModelChoiceStore } from './store';

export interface ModelConfig {
  /** The configured default detector (analytics.model, else inference.defaultModel). */
  detector: string;
  /** The configured fight classifier (analytics.fightModel), or null for the built-in one. */
  fight: string | null;
  modelsDir: string | undefined;
  /** inference.manifestDir: where manifests are read from (default the install's models/). */
  manifestDir?: string | undefined;
  assetsDir: string | null;
  inference: InferenceSettings;
  /** With analytics nodes: what each live node runs as its fight classifier (core/nodes/models.ts). */
  nodeFight?: (() => Promise<NodeModelState[]>) | undefined;
}

/** What decides fights for the cameras now: the built-in trained classifier, or an ONNX clip classifier's pool. */
export type FightChoice = { kind: 'classifier' } | { kind: 'model'; pool: InferencePool };

/**
 * Opens a fight classifier that is to take over, proven first (openVerifiedModel: the
 * classify-clip task, sha256, session, a test inference), on one worker: what the core's
 * ModelManager and an analytics node (core/nodes/fight.ts) both do before a swap.
 */
export async function openFightModel(
  registry: ModelRegistry,
  name: string,
  settings: InferenceSettings,
  log: Logger,
): Promise<{ ok: true; pool: InferencePool } | { ok: false; reason: string }> {
  const r = await openVerifiedModel(registry, name, 'classify-clip', { ...settings, workers: 1 }, log);
  return r.state === 'ready' ? { ok: true, pool: r.pool } : { ok: false, reason: r.status.message };
}

/**
 * The models analytics runs, swapped while everything runs. Runners ask for their camera's
 * detector pool on every frame (`detectorFor`), so a change takes effect on the next frame:
 * the new model's pool is opened and proven first (openVerifiedModel: task, sha256, sessions,
 * a test inference), then it becomes the answer, and the pool it replaces finishes the frames
 * it already holds (`drain`) before its workers stop. Nothing restarts, no frame is lost, and a
 * refused model leaves the running one in place. Pools are shared: every camera on the same
 * model uses one pool; a pool no analysed camera needs any more is drained and closed.
 */
export class ModelManager {
  private readonly pools = new Map<string, InferencePool>();
  /** A model that failed to open for a camera (not a change request): why, so it is not retried every refresh. */
  private readonly failed = new Map<string, string>();
  private opening = new Map<string, Promise<InferencePool | null>>();
  private cameraChoice = new Map<string, string>();
  /** Bumped by every choice set here, so a slower read of the stored choices cannot undo it. */
  private choiceGen = 0;
  private detector: string;
  private fight: string;
  private fightPool: InferencePool | null = null;
  private fightProblem: string | null = null;
  /** Changes are made one at a time, in the order asked. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly retiring = new Set<Promise<void>>();
  private analysed: ReadonlySet<string> = new Set();
  private closed = false;
  /**
   * One scheduler for every pool this core runs (default detector, cameras' own detectors, the
   * fight model, and a replacement while it is proven): together they compute on at most
   * `inference.workers` workers at once, and cameras are served in turn whatever their model.
   */
  readonly scheduler: InferenceScheduler;
  private readonly settings: InferenceSettings;

  constructor(
    private readonly config: ModelConfig,
    private readonly store: ModelChoiceStore,
    private readonly log: Logger,
  ) {
    this.scheduler = new InferenceScheduler(config.inference.workers);
    this.settings = { ...config.inference, scheduler: this.scheduler };
    this.detector = config.detector;
    this.fight = config.fight ?? BUILTIN_FIGHT_MODEL;
  }

  /** Reads the choices made from the console (they override the config's); before any sync. */
  async load(): Promise<void> {
    this.detector = (await this.store.slot('detector')) ?? this.config.detector;
    this.fight = (await this.store.slot('fight')) ?? this.config.fight ?? BUILTIN_FIGHT_MODEL;
    this.cameraChoice = await this.store.cameras();
  }

  private registry(): ModelRegistry {
    // Re-read each time: a manifest dropped into models/ is choosable without a restart.
    return openRegistry({ modelsDir: this.config.modelsDir, assetsDir: this.config.assetsDir, manifestDir: this.config.manifestDir });
  }

  /** The detector a camera uses: its own choice, else the default. */
  effective(cameraId: string): string {
    return this.cameraChoice.get(cameraId) ?? this.detector;
  }

  /** The pool serving a camera's frames now, or null when its model is not running. */
  detectorFor(cameraId: string): InferencePool | null {
    return this.pools.get(this.effective(cameraId)) ?? null;
  }

  fightChoice(): FightChoice {
    return this.fightPool ? { kind: 'model', pool: this.fightPool } : { kind: 'classifier' };
  }

  /**
   * The cameras being analysed now: opens the models they need (once; a model that cannot
   * open is reported once and left out until a change) and retires the ones nobody needs.
   */
  async sync(cameraIds: Iterable<string>): Promise<void> {
    // A read that began before a choice was set here must not put the old choices back.
    const gen = this.choiceGen;
    const choices = await this.store.cameras();
    if (gen === this.choiceGen) this.cameraChoice = choices;
    this.analysed = new Set(cameraIds);
    const needed = new Set([...this.analysed].map((id) => this.effective(id)));
    await Promise.all([...needed].filter((n) => !this.pools.has(n) && !this.failed.has(n)).map((n) => this.open(n)));
    if (this.fight !== BUILTIN_FIGHT_MODEL && !this.fightPool && this.fightProblem === null && this.analysed.size > 0) {
      const r = await openModel(this.registry(), this.fight, { ...this.settings, workers: 1 }, this.log);
      if (this.closed) {
        if (r.state === 'ready') await r.pool.close();
        return;
      }
      if (r.state === 'ready' && r.pool.manifest.task === 'classify-clip') this.fightPool = r.pool;
      else {
        if (r.state === 'ready') await r.pool.close();
        this.fightProblem =
          r.state === 'ready' ? `model ${this.fight} is a ${r.pool.manifest.task} model, not a clip classifier` : r.status.message;
        this.log.warn({ model: this.fight, reason: this.fightProblem }, 'fight model unavailable; using the trained clip classifier');
      }
    }
    this.retireUnused();
  }

  private open(name: string): Promise<InferencePool | null> {
    let p = this.opening.get(name);
    if (p) return p;
    p = (async () => {
      const r = await openModel(this.registry(), name, this.settings, this.log);
      this.opening.delete(name);
      if (this.closed) {
        if (r.state === 'ready') await r.pool.close();
        return null;
      }
      if (r.state !== 'ready') {
        this.failed.set(name, r.status.message);
        this.log.warn({ model: name, reason: r.status.message }, 'person detector unavailable: cameras using it are not analysed');
        return null;
      }
      if (r.pool.manifest.task !== 'detect') {
        await r.pool.close();
        this.failed.set(name, `model ${name} is a ${r.pool.manifest.task} model, not a detector`);
        return null;
      }
      this.pools.set(name, r.pool);
      this.log.info({ model: name }, 'analytics model ready');
      return r.pool;
    })();
    this.opening.set(name, p);
    return p;
  }

  /** Proves a detector before anything points at it; throws the refusal. */
  private async verified(name: string): Promise<InferencePool> {
    const running = this.pools.get(name);
    if (running) return running;
    const r = await openVerifiedModel(this.registry(), name, 'detect', this.settings, this.log);
    if (r.state !== 'ready') throw new SentinelError(r.status.message, 'validation_failed', 'model');
    if (this.closed) {
      await r.pool.close();
      throw new SentinelError('the core is shutting down', 'unavailable');
    }
    this.failed.delete(name);
    this.pools.set(name, r.pool);
    return r.pool;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Replaces the default detector. Resolves with the previous choice; rejects with the refusal. */
  setDetector(name: string, by: string | null): Promise<{ from: string }> {
    return this.serial(async () => {
      const from = this.detector;
      if (name === from && this.pools.has(name)) return { from };
      // Open it now if any analysed camera will use it; otherwise still prove it, then let it go.
      await this.verified(name);
      this.detector = name;
      await this.store.setSlot('detector', name, by);
      this.log.info({ from, to: name, by }, 'default detector changed');
      this.retireUnused();
      return { from };
    });
  }

  /** A camera's own detector (null: back to the default). */
  setCamera(cameraId: string, name: string | null, by: string | null): Promise<{ from: string | null }> {
    return this.serial(async () => {
      const from = this.cameraChoice.get(cameraId) ?? null;
      await this.verified(name ?? this.detector);
      await this.store.setCamera(cameraId, name, by);
      this.choiceGen++;
      if (name === null) this.cameraChoice.delete(cameraId);
      else this.cameraChoice.set(cameraId, name);
      this.log.info({ cameraId, from, to: name ?? `default (${this.detector})`, by }, 'camera detector changed');
      this.retireUnused();
      return { from };
    });
  }

  /** Replaces the fight classifier: `builtin` or a classify-clip model, proven first. */
  setFight(name: string, by: string | null): Promise<{ from: string }> {
    return this.serial(async () => {
      const from = this.fight;
      const old = this.fightPool;
      if (name === BUILTIN_FIGHT_MODEL) {
        this.fightPool = null;
      } else {
        const r = await openFightModel(this.registry(), name, this.settings, this.log);
        if (!r.ok) throw new SentinelError(r.reason, 'validation_failed', 'model');
        this.fightPool = r.pool;
      }
      this.fight = name;
      this.fightProblem = null;
      await this.store.setSlot('fight', name, by);
      this.log.info({ from, to: name, by }, 'fight classifier changed');
      if (old && old !== this.fightPool) this.retire(old);
      return { from };
    });
  }

  private retireUnused(): void {
    const needed = new Set([this.detector, ...[...this.analysed].map((id) => this.effective(id))]);
    for (const [name, pool] of this.pools) {
      if (needed.has(name)) continue;
      this.pools.delete(name);
      this.retire(pool);
    }
  }

  private retire(pool: InferencePool): void {
    const p = pool
      .drain()
      .catch((err: unknown) => this.log.error({ err, model: pool.model }, 'closing a replaced model failed'))
      .finally(() => this.retiring.delete(p));
    this.retiring.add(p);
    this.log.info({ model: pool.model, inFlight: pool.inFlight() }, 'replaced model finishing its frames, then stopping');
  }

  private slotState(model: string, source: 'config' | 'console', running: string | null, problem: string | null): ModelSlotState {
    return { model, source, running, problem };
  }

  async state(): Promise<AnalyticsModelsState> {
    const reg = this.registry();
    const [detectorChosen, fightChosen] = await Promise.all([this.store.slot('detector'), this.store.slot('fight')]);
    const detRunning = this.pools.has(this.detector) ? this.detector : null;
    const fightRunning = this.fight === BUILTIN_FIGHT_MODEL ? BUILTIN_FIGHT_MODEL : (this.fightPool?.model ?? null);
    return {
      detector: this.slotState(this.detector, detectorChosen ? 'console' : 'config', detRunning, this.failed.get(this.detector) ?? null),
      fight: {
        ...this.slotState(this.fight, fightChosen ? 'console' : 'config', fightRunning, this.fightProblem),
        ...(this.config.nodeFight ? { nodes: await this.config.nodeFight() } : {}),
      },
      models: reg.manifests.map((m) => {
        const s = reg.status(m.name);
        return {
          name: m.name,
          task: m.task,
          description: m.description || null,
          state: s?.state ?? 'unavailable',
          message: s?.state === 'unavailable' ? s.message : null,
        };
      }),
    };
  }

  camera(cameraId: string): { model: string | null; effective: string; running: string | null } {
    const effective = this.effective(cameraId);
    return {
      model: this.cameraChoice.get(cameraId) ?? null,
      effective,
      running: this.analysed.has(cameraId) && this.pools.has(effective) ? effective : null,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const pools = [...this.pools.values(), ...(this.fightPool ? [this.fightPool] : [])];
    this.pools.clear();
    this.fightPool = null;
    await Promise.all([...pools.map((p) => p.close()), ...this.retiring]);
  }
}
