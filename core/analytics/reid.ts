import { openRegistry } from '../../analytics/inference';
import { Embedder } from '../../analytics/inference/reid';
import type { Config } from '../config';
import type { Logger } from '../logger';

/**
 * The re-identification embedder for every camera of this process (analytics.reid, off by
 * default: docs/analytics.md), or null. A model that cannot run leaves tracking by position
 * only, and says so: it must not keep the cameras from being analysed.
 */
export async function openReid(config: Config, log: Logger): Promise<Embedder | null> {
  if (!config.analytics.reid.enabled) return null;
  try {
    const embedder = await Embedder.open(
      openRegistry({ modelsDir: config.inference.modelsDir, assetsDir: config.assetsDir, manifestDir: config.inference.manifestDir }),
      log,
    );
    log.info({ model: embedder.pool.model }, 're-identification in the tracker on');
    return embedder;
  } catch (err) {
    log.warn({ err }, `re-identification off: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}
