import type { Logger } from '../../common/logger';
import { clipFrames, inputSize, type ModelTask } from './manifest';
import { InferencePool } from './pool';
import { checkModel, type ModelRegistry } from './registry';
import type { InferenceScheduler } from './scheduler';
import type { ModelStatus } from './types';

/** The `inference` section of the config (core/config.ts), as the pool needs it. */
export interface InferenceSettings {
  workers: number;
  intraOpThreads: number;
  maxFrameAgeMs: number;
  /** The box's scheduler shared by all its pools (see scheduler.ts); without one the pool schedules alone. */
  scheduler?: InferenceScheduler;
}

export type OpenedModel =
  | { state: 'ready'; pool: InferencePool; status: Extract<ModelStatus, { state: 'ready' }> }
  | { state: 'unavailable'; status: ModelStatus & { state: 'unavailable' } };

/**
 * Starts a pool for a named model, or says why it cannot: never throws. This is what a
 * camera's analytics call, so that a missing file, a hash mismatch or a model that does not
 * load shows as "model unavailable" (with the message) instead of stopping anything else.
 */
export async function openModel(
  registry: ModelRegistry,
  name: string,
  settings: InferenceSettings,
  log: Logger,
  opts: { fresh?: boolean } = {},
): Promise<OpenedModel> {
  const manifest = registry.get(name);
  if (!manifest) {
    const names = registry.manifests.map((m) => m.name).join(', ') || '(none)';
    return {
      state: 'unavailable',
      status: {
        name,
        task: 'unknown',
        file: '',
        state: 'unavailable',
        reason: 'invalid_model',
        message: `unknown model "${name}"; available: ${names}`,
      },
    };
  }
  const status = checkModel(manifest, registry.modelsDir, opts);
  if (status.state === 'unavailable') {
    log.warn({ model: name, reason: status.reason }, status.message);
    return { state: 'unavailable', status };
  }
  try {
    const pool = await InferencePool.start({
      manifest,
      modelPath: status.path,
      workers: settings.workers,
      intraOpThreads: settings.intraOpThreads,
      maxFrameAgeMs: settings.maxFrameAgeMs,
      ...(settings.scheduler ? { scheduler: settings.scheduler } : {}),
      log,
    });
    return { state: 'ready', pool, status };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.error({ model: name }, message);
    return {
      state: 'unavailable',
      status: {
        name,
        task: manifest.task,
        file: manifest.file,
        state: 'unavailable',
        reason: 'invalid_model',
        message: `model ${name} unavailable: ${message}`,
      },
    };
  }
}

/**
 * Opens a model that is to replace a running one, and proves it works before anything is
 * switched: the task is the one the slot needs, the weights hash to the manifest's sha256
 * (hashed afresh, not from the cache), every worker opened its session against the
 * manifest's shapes, and one test inference (a mid-grey frame at the model's input size)
 * comes back `ok` with finite numbers. Never throws: a refusal is `unavailable` with the
 * reason, and no worker of the refused model is left running.
 */
export async function openVerifiedModel(
  registry: ModelRegistry,
  name: string,
  task: ModelTask,
  settings: InferenceSettings,
  log: Logger,
): Promise<OpenedModel> {
  const manifest = registry.get(name);
  if (manifest && manifest.task !== task) {
    return {
      state: 'unavailable',
      status: {
        name,
        task: manifest.task,
        file: manifest.file,
        state: 'unavailable',
        reason: 'invalid_model',
        message: `model ${name} is a ${manifest.task} model; this slot needs task ${task}`,
      },
    };
  }
  const opened = await openModel(registry, name, settings, log, { fresh: true });
  if (opened.state !== 'ready') return opened;
  const { width, height: frameHeight } = inputSize(opened.pool.manifest);
  // A T-frame clip model is probed with T grey frames stacked top to bottom (see clipFrames).
  const height = frameHeight * clipFrames(opened.pool.manifest);
  const probe = new Uint8Array(width * height * 3).fill(128);
  const r = await opened.pool.submit({ cameraId: '#verify', width, height, data: probe.buffer, ts: 0 });
  const finite = (xs: readonly number[]): boolean => xs.every((x) => Number.isFinite(x));
  let problem: string | null = null;
  if (r.status !== 'ok') problem = `the test inference ${r.status === 'failed' ? `failed: ${r.message}` : `was dropped (${r.reason})`}`;
  else if (task === 'embed' && !(r.embedding && r.embedding.length > 0 && finite(r.embedding)))
    problem = 'the test inference gave no finite embedding';
  else if (task === 'classify-clip' && !(r.scores && r.scores.length > 0 && finite(r.scores.map((x) => x.score))))
    problem = 'the test inference gave no finite scores';
  else if (task === 'detect' && !finite(r.detections.flatMap((d) => [d.score, ...d.box])))
    problem = 'the test inference gave non-finite detections';
  if (problem) {
    await opened.pool.close();
    log.warn({ model: name }, `model ${name} refused: ${problem}`);
    return {
      state: 'unavailable',
      status: {
        name,
        task: manifest?.task ?? task,
        file: manifest?.file ?? '',
        state: 'unavailable',
        reason: 'invalid_model',
        message: `model ${name} refused: ${problem}`,
      },
    };
  }
  return opened;
}
