import type { FeedParseResult, FeedStatus, LiveVehicle, VehicleDiff, VehicleSnapshot } from '../../contract';
import type { Logger } from '../logger';
import { FeedHealth, type FeedSink, type FeedSource } from './pollers';
import { VehicleStore, type VehicleStoreOptions } from './store';

export interface FeedsServiceOptions extends VehicleStoreOptions {
  log: Logger;
  /** Called with every non-empty diff (socket.io broadcast, domain bus). */
  onDiff: (diff: VehicleDiff) => void;
  /** Called when any feed's status line changes. */
  onStatus: (feeds: FeedStatus[]) => void;
  sweepEveryMs?: number;
}

/**
 * The live fleet service: feed sources report into it, it keeps the vehicle store and each
 * feed's health, and hands out diffs and status. It is the one place other features ask
 * "where is bus 6438 now" (see `get`), e.g. to place an alert from a bus camera.
 */
export class FeedsService implements FeedSink {
  readonly store: VehicleStore;
  private readonly health = new Map<string, FeedHealth>();
  private readonly sources: FeedSource[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  private lastStatusKey = '';
  private sweeps = 0;
  private readonly now: () => number;

  constructor(private readonly o: FeedsServiceOptions) {
    this.store = new VehicleStore(o);
    this.now = o.now ?? Date.now;
  }

  /** Registers a source with its expected cadence (for "stale" detection). */
  add(source: FeedSource, expectedEveryMs: number, failuresForOutage = 2): void {
    this.sources.push(source);
    this.health.set(source.id, new FeedHealth(source.id, source.kind, expectedEveryMs, failuresForOutage));
  }

  /** Starts the sources and the sweep: a process that polls its own feeds. */
  start(): void {
    this.startSweeping();
    this.startSources();
  }

  stop(): void {
    this.stopSources();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /**
   * Staleness and status without polling: a replica whose reports come from the one that
   * holds the feed-polling lease still marks vehicles stale when those reports stop.
   */
  startSweeping(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => this.sweep(), this.o.sweepEveryMs ?? 5_000);
    this.sweepTimer.unref();
    this.publishStatus(true);
  }

  /** How many feeds this configuration polls. */
  get sourceCount(): number {
    return this.sources.length;
  }

  startSources(): void {
    for (const s of this.sources) s.start();
  }

  stopSources(): void {
    for (const s of this.sources) s.stop();
  }

  get(id: string): LiveVehicle | undefined {
    return this.store.get(id);
  }

  snapshot(): VehicleSnapshot {
    return { vehicles: this.store.snapshot(), feeds: this.status(), seq: this.store.sequence };
  }

  status(): FeedStatus[] {
    const now = this.now();
    return [...this.health.values()].map((h) => {
      h.refresh(now);
      return h.status(now, this.store.countByFeed(h.id));
    });
  }

  vehicles(feed: string, result: FeedParseResult): void {
    const h = this.health.get(feed);
    h?.success(this.now(), result.errors.length);
    this.emit(this.store.setFeedDown(feed, false));
    this.emit(this.store.ingest(feed, result.vehicles));
    this.publishStatus();
  }

  failure(feed: string, message: string): void {
    const h = this.health.get(feed);
    if (!h) return;
    h.failure(this.now(), message);
    if (h.state === 'outage') this.emit(this.store.setFeedDown(feed, true));
    this.publishStatus();
  }

  /** Marks silent vehicles stale, drops long-silent ones, and refreshes feed states. */
  sweep(): void {
    for (const h of this.health.values()) {
      h.refresh(this.now());
      // A feed gone quiet (no answers at all) is an outage for its vehicles too.
      if (h.state === 'stale') this.emit(this.store.setFeedDown(h.id, true));
    }
    this.emit(this.store.sweep());
    // State changes go out at once; vehicle counts refresh every sixth sweep (30 s).
    this.sweeps += 1;
    this.publishStatus(this.sweeps % 6 === 0);
  }

  private emit(diff: VehicleDiff | null): void {
    if (diff) this.o.onDiff(diff);
  }

  /** Publishes the status when a feed's state or error changed (counts alone do not count). */
  private publishStatus(force = false): void {
    const feeds = this.status();
    const key = feeds.map((f) => `${f.id}:${f.state}:${f.lastError ?? ''}`).join('|');
    if (!force && key === this.lastStatusKey) return;
    this.lastStatusKey = key;
    this.o.onStatus(feeds);
  }
}
