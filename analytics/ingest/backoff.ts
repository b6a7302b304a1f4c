/**
 * Reconnect delays: 1 s, doubling, capped at 30 s by default. A camera that is down for a
 * long time costs one connection attempt every 30 s, not a tight loop; one that blips
 * comes back after a second.
 */
export class Backoff {
  private attempt = 0;
  constructor(
    readonly initialMs = 1000,
    readonly maxMs = 30_000,
    readonly factor = 2,
  ) {}

  /** The delay before the next attempt; each call grows the following one. */
  next(): number {
    const ms = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    if (ms < this.maxMs) this.attempt++;
    return ms;
  }

  /** After a healthy period: the next failure starts from the initial delay again. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
