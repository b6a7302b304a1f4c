import { openRegistry } from '../../analytics/inference';
import { Embedder } from '../../analytics/inference/reid';
import type { Config } from '../config';
import type { Logger } from '../logger';

/** Re-ID as this process opened it: the embedder, or why there is none although the config asks for one. */
export interface ReidSetup {
  embedder: Embedder | null;
  /** The model failed to load (analytics.reid.enabled on): the reason each camera's health shows. Null otherwise. */
  error: string | null;
}

/**
 * The re-identification embedder for every camera of this process (analytics.reid, off by
 * default: docs/analytics.md), or null. A model that cannot run leaves tracking by position
 * only, and says so (in the log and in every analysed camera's health): it must not keep the
 * cameras from being analysed.
 */
export async function openReid(config: Config, log: Logger): Promise<ReidSetup> {
  if (!config.analytics.reid.enabled) return { embedder: null, error: null };
  try {
    const embedder = await Embedder.open(
      openRegistry({ modelsDir: config.inference.modelsDir, assetsDir: config.assetsDir, manifestDir: config.inference.manifestDir }),
      log,
    );
    log.info({ model: embedder.pool.model }, 're-identification in the tracker on');
    return { embedder, error: null };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    log.warn({ err }, `re-identification off: ${error}`);
    return { embedder: null, error };
  }
}
