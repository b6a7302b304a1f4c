import type { Logger } from '../../common/logger';
import type { Box } from '../tracking/tracker';
import { InferencePool } from './pool';
import { requireModel, type ModelRegistry } from './registry';

/** The shipped re-identification model (models/person-reid-0288.json). */
export const REID_MODEL = 'person-reid-0288';

/**
 * A person crop out of a BGR24 frame, clipped to the frame: the re-identification model
 * stretches it to its 128x256 input itself (the manifest's `stretch` rule), so no resize here.
 */
export function cropPerson(bgr: Uint8Array, width: number, height: number, box: Box): { width: number; height: number; data: ArrayBuffer } {
  const x1 = Math.max(0, Math.min(width - 2, Math.floor(box[0])));
  const y1 = Math.max(0, Math.min(height - 2, Math.floor(box[1])));
  const x2 = Math.max(x1 + 2, Math.min(width, Math.ceil(box[2])));
  const y2 = Math.max(y1 + 2, Math.min(height, Math.ceil(box[3])));
  const w = x2 - x1;
  const h = y2 - y1;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const src = ((y1 + y) * width + x1) * 3;
    out.set(bgr.subarray(src, src + w * 3), y * w * 3);
  }
  return { width: w, height: h, data: out.buffer };
}

/** What re-ID has cost since it started: embeddings computed and the time they took. */
export interface EmbedderStats {
  embeds: number;
  failed: number;
  /** Submit to answer per embedding, as the caller waits for it (crop, queue, preprocess, inference). */
  msPerEmbed: number;
}

/**
 * Appearance embeddings of person boxes for the tracker's re-identification, computed off the
 * main thread by an inference pool of the re-ID model (its own workers: the detector's pool
 * is not slowed by a queue of crops). One camera's crops go one after another through the
 * pool's slot `<camera>#reid`; a crop that fails or is dropped is just not embedded (the
 * tracker then matches that box by position only).
 */
export class Embedder {
  private embeds = 0;
  private failed = 0;
  private totalMs = 0;

  constructor(readonly pool: InferencePool) {}

  /** Starts the re-ID model's pool; throws a SentinelError naming what is missing or wrong. */
  static async open(
    registry: ModelRegistry,
    log: Logger,
    opts: { workers?: number; intraOpThreads?: number; model?: string } = {},
  ): Promise<Embedder> {
    const { manifest, path } = requireModel(registry, opts.model ?? REID_MODEL);
    if (manifest.task !== 'embed') throw new Error(`model ${manifest.name} is a ${manifest.task} model, re-ID needs task embed`);
    const pool = await InferencePool.start({
      manifest,
      modelPath: path,
      workers: opts.workers ?? 1,
      intraOpThreads: opts.intraOpThreads ?? 1,
      maxFrameAgeMs: 60_000,
      log,
    });
    return new Embedder(pool);
  }

  /** One embedding per box (null where the model gave none), in the boxes' order. */
  async embed(
    cameraId: string,
    bgr: Uint8Array,
    width: number,
    height: number,
    boxes: readonly Box[],
  ): Promise<Array<Float32Array | null>> {
    const out: Array<Float32Array | null> = [];
    for (const box of boxes) {
      const started = performance.now();
      const crop = cropPerson(bgr, width, height, box);
      const r = await this.pool.submit({ cameraId: `${cameraId}#reid`, width: crop.width, height: crop.height, data: crop.data, ts: 0 });
      if (r.status === 'ok' && r.embedding && r.embedding.length > 0) {
        this.embeds++;
        this.totalMs += performance.now() - started;
        out.push(Float32Array.from(r.embedding));
      } else {
        this.failed++;
        out.push(null);
      }
    }
    return out;
  }

  stats(): EmbedderStats {
    return { embeds: this.embeds, failed: this.failed, msPerEmbed: this.embeds ? Math.round((this.totalMs / this.embeds) * 100) / 100 : 0 };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Embeds the detections a pipeline's tracker asked for this frame (`reidRequests`), ready to
 * pass as `PipelineInput.embeddings`. Empty, and no work, when it asked for none.
 */
export async function embedRequested(
  embedder: Embedder,
  cameraId: string,
  bgr: Uint8Array,
  width: number,
  height: number,
  detections: ReadonlyArray<{ box: Box }>,
  requested: readonly number[],
): Promise<Map<number, Float32Array | null>> {
  const out = new Map<number, Float32Array | null>();
  if (requested.length === 0) return out;
  const vectors = await embedder.embed(
    cameraId,
    bgr,
    width,
    height,
    requested.map((i) => detections[i]!.box),
  );
  requested.forEach((i, k) => out.set(i, vectors[k] ?? null));
  return out;
}
