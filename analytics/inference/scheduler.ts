/**
 * One scheduler per box for every inference pool on it, whatever their model.
 *
 * Each model in use has its own pool of workers (a session per worker), so with a default
 * detector, a camera's own light detector and a clip classifier there are several pools.
 * Left alone they would each keep all their workers busy: together more threads computing
 * than the box has cores, and a camera's share of the CPU would depend on how many cameras
 * happen to share its model. The scheduler fixes both:
 *
 * - **A box-wide budget** of workers that may be computing at once (`budget`, by default the
 *   configured `inference.workers`). A worker holds one token from the moment it is given a
 *   frame until it has none left; a worker that already holds one may be handed the next
 *   frame ahead (pipelining) without another.
 * - **One round robin over cameras across all pools**: the camera served least recently goes
 *   next, whichever pool serves it. So two cameras on different models get the same number
 *   of frames, and a camera on a cheap model is not starved by many on a heavy one.
 *
 * When the camera whose turn it is waits for a token (its pool has an idle worker, but the
 * budget is in use by other pools), nothing is pipelined in front of it: the other pools'
 * workers finish what they hold and the first token that comes free is its.
 *
 * A pool started without a scheduler gets its own with a budget of its worker count, which
 * schedules exactly as a lone pool always did.
 */
export interface SchedulerClient {
  /** Cameras with at least one frame waiting in this pool. */
  waiting(): Iterable<string>;
  /** Whether a worker with nothing to do is ready, and whether a busy one has room for a frame ahead. */
  room(): { idle: boolean; ahead: boolean };
  /**
   * Hands the camera's next frame to an idle worker (`idle`: the scheduler gave it a token)
   * or to a busy worker with room. Stale frames met on the way are dropped: `stale` when
   * that left nothing to send, `nothing` when nothing changed at all.
   */
  send(cameraId: string, to: 'idle' | 'ahead'): 'sent' | 'stale' | 'nothing';
}

export interface SchedulerStats {
  budget: number;
  /** Workers computing (holding a token) now, box-wide. */
  active: number;
  /** The most ever held at once: never above the budget. */
  peakActive: number;
  pools: number;
}

export class InferenceScheduler {
  private readonly clients = new Set<SchedulerClient>();
  /** Each camera's turn number when last served (never served: -1, first in line). */
  private readonly lastServed = new Map<string, number>();
  private turn = 0;
  private active = 0;
  private peakActive = 0;
  private pumping = false;
  private again = false;

  constructor(readonly budget: number) {
    if (!Number.isInteger(budget) || budget < 1) throw new Error(`inference scheduler budget must be a whole number >= 1, got ${budget}`);
  }

  register(client: SchedulerClient): void {
    this.clients.add(client);
  }

  unregister(client: SchedulerClient): void {
    this.clients.delete(client);
    this.pump();
  }

  /** A worker that held a token has no frame left: the token goes to whoever is next. */
  release(): void {
    this.active = Math.max(0, this.active - 1);
    this.pump();
  }

  stats(): SchedulerStats {
    return { budget: this.budget, active: this.active, peakActive: this.peakActive, pools: this.clients.size };
  }

  /** Hands out waiting frames while there is room. Safe to call from inside a send. */
  pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (this.step());
      } while (this.again);
    } finally {
      this.pumping = false;
    }
  }

  /** Serves the first camera in line that can be served; false when nothing more can move now. */
  private step(): boolean {
    const line: Array<{ client: SchedulerClient; camera: string; turn: number }> = [];
    for (const client of this.clients) {
      for (const camera of client.waiting()) line.push({ client, camera, turn: this.lastServed.get(camera) ?? -1 });
    }
    line.sort((a, b) => a.turn - b.turn);
    for (const { client, camera } of line) {
      const room = client.room();
      let to: 'idle' | 'ahead';
      if (room.idle && this.active < this.budget) to = 'idle';
      else if (room.ahead) to = 'ahead';
      else if (room.idle)
        return false; // its turn, waiting for a token: hold everything else back
      else continue; // its pool's workers are all full: the next camera in line
      const r = client.send(camera, to);
      if (r === 'nothing') continue;
      if (r === 'sent') {
        this.lastServed.set(camera, this.turn++);
        if (to === 'idle') {
          this.active++;
          this.peakActive = Math.max(this.peakActive, this.active);
        }
      }
      // Sent, or its stale frames were dropped: either way the line changed.
      return true;
    }
    return false;
  }
}
