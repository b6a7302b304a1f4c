/** One analysis frame as the inference pool takes it: BGR24, `width * height * 3` bytes. */
export interface IngestFrame {
  cameraId: string;
  width: number;
  height: number;
  /** BGR24 pixels; a fresh buffer per frame, so a consumer may transfer it to a worker. */
  data: ArrayBuffer;
  /** Capture time (ms since epoch): when the frame came off ffmpeg's pipe. */
  ts: number;
  /** Sequence number per camera, counting from 1 over the supervisor's life. */
  seq: number;
}

export type FrameListener = (frame: IngestFrame) => void;

/**
 * Holds the newest frame of one camera, never a queue. A frame is handed to listeners on
 * the next turn of the event loop; when a newer frame arrives before that turn (the loop
 * was busy), the older one is dropped and counted, so a slow consumer always gets the
 * newest picture and memory stays bounded at one frame per camera.
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
    if (this.pending) this.dropped++;
    this.pending = frame;
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
    // Each listener gets its own copy only when there are several: a consumer may transfer
    // (detach) the buffer it receives.
    const many = this.listeners.size + (this.waiters.length > 0 ? 1 : 0) > 1;
    for (const fn of this.listeners) fn(many ? { ...f, data: f.data.slice(0) } : f);
    for (const w of this.waiters.splice(0)) w(many ? { ...f, data: f.data.slice(0) } : f);
  }

  /** Calls `fn` with every frame that is not superseded before delivery. Returns unsubscribe. */
  subscribe(fn: FrameListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The next frame delivered (for pull consumers such as the CLI and tests). */
  next(): Promise<IngestFrame> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The newest frame seen, delivered or not (snapshots read this). */
  latest(): IngestFrame | null {
    return this.last;
  }
}
