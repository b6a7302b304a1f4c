import type { ModelManifest } from './manifest';
import type { Detection, FrameFailureCode } from './types';

/** Messages between the pool (main thread) and a worker. Both sides import these types. */

export interface WorkerInit {
  manifest: ModelManifest;
  modelPath: string;
  intraOpThreads: number;
  /** One Int32 shared with the pool: see ControlState. */
  control: SharedArrayBuffer;
}

/**
 * Why a shared control word: terminating a worker while it is inside an onnxruntime-node
 * native call aborts the whole process ("terminate called after throwing Napi::Error").
 * The worker marks its native calls; the pool stops a worker only outside them. A worker
 * asked to stop before entering a native call blocks instead, until it is terminated.
 */
export const ControlState = { free: 0, native: 1, stopping: 2 } as const;

export interface InferRequest {
  type: 'infer';
  id: number;
  width: number;
  height: number;
  /** BGR24, transferred (not copied). */
  data: ArrayBuffer;
  scoreThreshold: number;
  nmsIou: number;
  maxDetections: number;
}

export type ToWorker = InferRequest;

export type FromWorker =
  | { type: 'ready'; inputShape: Array<number | string>; outputs: string[] }
  | { type: 'init-error'; message: string }
  | {
      type: 'result';
      id: number;
      detections: Detection[];
      embedding?: number[];
      scores?: Array<{ label: string; score: number }>;
      preprocessMs: number;
      inferMs: number;
      decodeMs: number;
      /** The frame buffer, transferred back for reuse. */
      data: ArrayBuffer;
    }
  | {
      type: 'failed';
      id: number;
      code: Exclude<FrameFailureCode, 'worker_crashed' | 'model_unavailable'>;
      message: string;
      data: ArrayBuffer;
    };
