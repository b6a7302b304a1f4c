import type { Logger } from '../../common/logger';
import { InferencePool } from './pool';
import { checkModel, type ModelRegistry } from './registry';
import type { ModelStatus } from './types';

/** The `inference` section of the config (core/config.ts), as the pool needs it. */
export interface InferenceSettings {
  workers: number;
  intraOpThreads: number;
  maxFrameAgeMs: number;
}

export type OpenedModel =
  | { state: 'ready'; pool: InferencePool; status: Extract<ModelStatus, { state: 'ready' }> }
  | { state: 'unavailable'; status: ModelStatus & { state: 'unavailable' } };

/**
 * Starts a pool for a named model, or says why it cannot: never throws. This is what a
 * camera's analytics call, so that a missing file, a hash mismatch or a model that does not
 * load shows as "model unavailable" (with the message) instead of stopping anything else.
 */
export async function openModel(registry: ModelRegistry, name: string, settings: InferenceSettings, log: Logger): Promise<OpenedModel> {
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
  const status = checkModel(manifest, registry.modelsDir);
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
