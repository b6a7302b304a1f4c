/**
 * The pool's public shapes. Frames come from the ingest path as raw BGR24 buffers; results
 * come back in the source frame's pixels so that tracking and rules never see model space.
 */

/** One decoded video frame: `width * height * 3` bytes, B,G,R per pixel, rows top to bottom. */
export interface Frame {
  cameraId: string;
  width: number;
  height: number;
  /**
   * BGR24 pixels, exactly width * height * 3 bytes (a Node Buffer's `.buffer` only if the
   * Buffer owns the whole ArrayBuffer, e.g. `Buffer.alloc(n)` with n > 4 KiB, or copy with
   * `buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)`). Transferred to the
   * worker, not copied: the caller's ArrayBuffer is detached after submit. The result hands
   * the same memory back as `buffer` (except when a worker died holding it), so a frame
   * source can refill it instead of allocating a new frame each time: allocating and
   * zeroing a fresh 1.3 MB buffer costs more than the copy itself.
   */
  data: ArrayBuffer;
  /** Capture time (ms since epoch), carried through unchanged. */
  ts: number;
}

export interface Detection {
  label: string;
  classId: number;
  score: number;
  /** [x1, y1, x2, y2] in source-frame pixels, clipped to the frame. */
  box: [number, number, number, number];
}

export interface FrameTimings {
  /** Waiting in the camera's slot and for a free worker. */
  queueMs: number;
  preprocessMs: number;
  inferMs: number;
  decodeMs: number;
  /** Submit to result, as the caller sees it. */
  totalMs: number;
}

export type FrameFailureCode = 'bad_frame' | 'worker_crashed' | 'inference_failed' | 'model_unavailable';
export type DropReason = 'superseded' | 'stale' | 'closed';

export type FrameResult =
  | {
      status: 'ok';
      cameraId: string;
      ts: number;
      model: string;
      detections: Detection[];
      /** Set for `embed` models: the embedding vector (L2-normalised unless the manifest says not). */
      embedding?: number[];
      /** Set for `classify-clip` models: score per label. */
      scores?: Array<{ label: string; score: number }>;
      timings: FrameTimings;
      worker: number;
      /** The frame's pixel memory, handed back for reuse (see Frame.data). */
      buffer?: ArrayBuffer;
    }
  | { status: 'dropped'; cameraId: string; ts: number; reason: DropReason; buffer?: ArrayBuffer }
  | { status: 'failed'; cameraId: string; ts: number; code: FrameFailureCode; message: string; buffer?: ArrayBuffer };

/**
 * Whether a model can run. The rest of the system shows `unavailable` as "model unavailable"
 * on the affected cameras (with the message in a tooltip), never as a crash.
 */
export type ModelUnavailableReason = 'missing_file' | 'hash_mismatch' | 'unreadable' | 'invalid_model' | 'no_models_dir';
export type ModelStatus =
  | { name: string; task: string; file: string; state: 'ready'; path: string; sha256: string }
  | { name: string; task: string; file: string; state: 'unavailable'; reason: ModelUnavailableReason; message: string };

export interface CameraStats {
  submitted: number;
  processed: number;
  failed: number;
  droppedSuperseded: number;
  droppedStale: number;
}

export interface PoolStats {
  model: string;
  workers: number;
  intraOpThreads: number;
  busyWorkers: number;
  pendingFrames: number;
  workerRestarts: number;
  submitted: number;
  processed: number;
  failed: number;
  dropped: number;
  cameras: Record<string, CameraStats>;
}
