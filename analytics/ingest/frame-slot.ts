import type { IngestFrame } from './frame-pool';

export type { IngestFrame } from './frame-pool';

/** Called with a frame reference of the listener's own: it must `release()` it when done (frame-pool.ts). */
export type FrameListener = (frame: IngestFrame) => void;

/**
 * Holds the newest frame of one camera, never a queue. A frame is handed to listeners on
 * the next turn of the event loop; when a newer frame arrives before that turn (the loop
 * was busy), the older one is dropped and counted, so a slow consumer always gets the
 * newest picture and memory stays bounded at one frame per camera (plus what consumers hold).
 *
 * References (see the ownership rule in frame-pool.ts): `put` takes over the caller's reference
 * and keeps it while the frame is the newest; every listener and every `next()` waiter gets a
 * reference of its own, and the buffer is reused only after all of them are released. Listeners
 * share one buffer, read-only; none may transfer it.
 */
export class FrameSlot {
  private pending: IngestFrame | null = null;
  private last: IngestFrame | null = null;
  private scheduled = false;
  private readonly listeners = new Set<FrameListener>();
  private readonly waiters: Array<(f: IngestFrame) => void> = [];
  dropped = 0;
  delivered = 0;

  put(frame: IngestFrame): void {
    if (this.pending) {
      this.dropped++;
      this.pending.release();
    }
    this.pending = frame.retain();
    this.last?.release();
    this.last = frame;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const f = this.pending;
    this.pending = null;
    if (!f) return;
    this.delivered++;
    try {
      for (const fn of this.listeners) fn(f.retain());
      for (const w of this.waiters.splice(0)) w(f.retain());
    } finally {
      f.release();
    }
  }

  /** Calls `fn` with every frame that is not superseded before delivery. Returns unsubscribe. */
  subscribe(fn: FrameListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The next frame delivered (for pull consumers such as the CLI and tests); the caller owns the reference. */
  next(): Promise<IngestFrame> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * The newest frame seen, delivered or not (snapshots read this). The slot's own reference: valid
   * until the next frame arrives, so read it synchronously or `retain()` it.
   */
  latest(): IngestFrame | null {
    return this.last;
  }
}
