/**
 * Reusable pixel buffers for one camera's ingest, and the reference-counted frames that carry them.
 *
 * Ownership rule for ingest frames (every consumer of FrameSlot must follow it):
 *  1. A frame's pixels belong to the camera's FramePool. The supervisor fills a buffer once from the
 *     ffmpeg pipe; after that nobody writes to it and nobody transfers (detaches) it. A consumer that
 *     posts pixels to a worker copies them into a buffer of its own (the analytics runner copies into
 *     the buffer the inference pool handed back with the previous result).
 *  2. Every holder has its own reference (its own IngestFrame object). The FrameSlot holds one while
 *     the frame is its newest (`latest()`); each listener is given one when the frame is delivered.
 *     A holder calls `release()` once it no longer reads the pixels, and `retain()` to hand a
 *     reference of its own to someone else.
 *  3. The buffer goes back to the pool when the last reference is released, and only then; so a
 *     buffer is never refilled under a holder.
 *  4. A holder that never releases is still correct: its buffer is simply never reused (the garbage
 *     collector takes it) and the pool allocates a fresh one, counted in `stats().allocated`.
 *     Correctness never depends on releasing; avoiding the allocation does.
 * A buffer that comes back detached (someone transferred it against rule 1) or of another size is
 * discarded, counted, and never handed out again.
 */

export interface FramePoolStats {
  /** Buffers created (each one a fresh allocation). */
  allocated: number;
  /** Buffers handed out again after their last release. */
  reused: number;
  /** Buffers handed out and not yet back. */
  inUse: number;
  /** Released buffers kept for reuse. */
  free: number;
  /** Released buffers not kept: the free list was full, or the buffer was detached or of another size. */
  discarded: number;
}

/**
 * A bounded free list of equally sized ArrayBuffers. It never limits how many buffers are out (a
 * consumer that holds frames gets fresh ones, counted), only how many idle ones it keeps: memory
 * held by the pool itself is at most `keep` buffers.
 */
export class FramePool {
  private readonly freeList: ArrayBuffer[] = [];
  private allocated = 0;
  private reused = 0;
  private discarded = 0;
  private out = 0;

  constructor(
    readonly bytes: number,
    readonly keep = 4,
  ) {
    if (!Number.isInteger(bytes) || bytes <= 0) throw new RangeError(`frame pool: buffer size must be a positive integer (got ${bytes})`);
  }

  acquire(): ArrayBuffer {
    this.out++;
    const b = this.freeList.pop();
    if (b) {
      this.reused++;
      return b;
    }
    this.allocated++;
    return new ArrayBuffer(this.bytes);
  }

  /** Takes a buffer back once nothing reads it any more (called by the last release of its frame). */
  give(b: ArrayBuffer): void {
    this.out = Math.max(0, this.out - 1);
    if (b.byteLength !== this.bytes || this.freeList.length >= this.keep) {
      this.discarded++;
      return;
    }
    this.freeList.push(b);
  }

  stats(): FramePoolStats {
    return { allocated: this.allocated, reused: this.reused, inUse: this.out, free: this.freeList.length, discarded: this.discarded };
  }
}

/** One analysis frame as the analytics path takes it: BGR24, `width * height * 3` bytes. */
export interface IngestFrame {
  readonly cameraId: string;
  readonly width: number;
  readonly height: number;
  /** BGR24 pixels. Read-only and never to be transferred: see the ownership rule in frame-pool.ts. */
  readonly data: ArrayBuffer;
  /**
   * Capture time (ms since epoch) on the stream's own clock: the first frame of an ffmpeg session
   * is anchored to the wall clock, later ones step by the stream's frame timestamps, so a reader
   * that fell behind still sees when each frame was taken. Strictly increasing per camera, also
   * across reconnects.
   */
  readonly ts: number;
  /** Sequence number per camera, counting from 1 over the supervisor's life. */
  readonly seq: number;
  /** A new reference for another holder (who must release it). Throws after this one was released. */
  retain(): IngestFrame;
  /** Gives up this reference; the pixels must not be read afterwards. Idempotent. */
  release(): void;
}

interface Shared {
  refs: number;
  readonly data: ArrayBuffer;
  readonly pool: FramePool | null;
}

class FrameRef implements IngestFrame {
  private held = true;

  constructor(
    private readonly shared: Shared,
    readonly cameraId: string,
    readonly width: number,
    readonly height: number,
    readonly ts: number,
    readonly seq: number,
  ) {
    shared.refs++;
  }

  get data(): ArrayBuffer {
    return this.shared.data;
  }

  retain(): IngestFrame {
    if (!this.held) throw new Error(`frame ${this.seq} of camera ${this.cameraId} was retained after it was released`);
    return new FrameRef(this.shared, this.cameraId, this.width, this.height, this.ts, this.seq);
  }

  release(): void {
    // Per-reference flag: a holder releasing twice cannot take away another holder's reference.
    if (!this.held) return;
    this.held = false;
    if (--this.shared.refs === 0) this.shared.pool?.give(this.shared.data);
  }
}

export interface FrameFields {
  cameraId: string;
  width: number;
  height: number;
  data: ArrayBuffer;
  ts: number;
  seq: number;
}

/**
 * A frame holding one reference. With `pool`, the buffer returns to it after the last release;
 * without, the buffer is the frame's own (tests, sources that do not pool).
 */
export function makeFrame(f: FrameFields, pool: FramePool | null = null): IngestFrame {
  return new FrameRef({ refs: 0, data: f.data, pool }, f.cameraId, f.width, f.height, f.ts, f.seq);
}
