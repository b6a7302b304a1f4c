import type { LiveVehicle, Vehicle, VehicleDiff } from '../../contract';

export interface VehicleStoreOptions {
  /** A vehicle whose reports stop advancing for this long is shown as stale. */
  staleAfterMs: number;
  /** ...and for this long is dropped (unless its feed is down: then its last position stays). */
  dropAfterMs: number;
  /** Police district and community area of a point (the geo index), if available. */
  locate?: (lat: number, lon: number) => { district: string | null; communityArea: string | null };
  now?: () => number;
}

interface Entry {
  v: LiveVehicle;
  /** Server time when this vehicle's report last advanced (its timestamp changed). */
  advancedAt: number;
}

/**
 * The live fleet, keyed by vehicle id. Every feed's batch goes through `ingest`, which
 * returns only what changed (the diff the map applies with updateData), so an unchanged
 * vehicle costs nothing downstream. Staleness is judged by the server's clock when a
 * vehicle's report last advanced, not by its own timestamp, so a feed with a skewed clock
 * or one that repeats an old record (Bus Tracker does) is still judged right.
 */
export class VehicleStore {
  private readonly entries = new Map<string, Entry>();
  private readonly downFeeds = new Set<string>();
  private seq = 0;
  private readonly now: () => number;

  constructor(private readonly opts: VehicleStoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get sequence(): number {
    return this.seq;
  }

  get(id: string): LiveVehicle | undefined {
    return this.entries.get(id)?.v;
  }

  snapshot(): LiveVehicle[] {
    return Array.from(this.entries.values(), (e) => e.v);
  }

  countByFeed(feed: string): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.v.feed === feed) n += 1;
    return n;
  }

  /** Applies one batch from a feed; returns the diff, or null when nothing changed. */
  ingest(feed: string, vehicles: readonly Vehicle[]): VehicleDiff | null {
    const now = this.now();
    const feedDown = this.downFeeds.has(feed);
    const upsert: LiveVehicle[] = [];
    for (const v of vehicles) {
      const prev = this.entries.get(v.id);
      if (prev && Date.parse(v.timestamp) < Date.parse(prev.v.timestamp)) continue; // an older report arriving late
      const advanced = !prev || prev.v.timestamp !== v.timestamp;
      const advancedAt = advanced ? now : prev.advancedAt;
      const stale = feedDown || now - advancedAt >= this.opts.staleAfterMs;
      const moved = !prev || prev.v.lat !== v.lat || prev.v.lon !== v.lon;
      const where = moved
        ? (this.opts.locate?.(v.lat, v.lon) ?? { district: null, communityArea: null })
        : { district: prev.v.district, communityArea: prev.v.communityArea };
      const next: LiveVehicle = { ...v, feed, stale, district: where.district, communityArea: where.communityArea };
      this.entries.set(v.id, { v: next, advancedAt });
      if (!prev || changed(prev.v, next)) upsert.push(next);
    }
    return this.diff(upsert, []);
  }

  /**
   * A feed went down (or came back). While down, its vehicles stay where they were last seen,
   * marked stale, and are not dropped: the operator still needs the last known positions.
   */
  setFeedDown(feed: string, down: boolean): VehicleDiff | null {
    if (down === this.downFeeds.has(feed)) return null;
    if (down) this.downFeeds.add(feed);
    else this.downFeeds.delete(feed);
    const now = this.now();
    const upsert: LiveVehicle[] = [];
    for (const e of this.entries.values()) {
      if (e.v.feed !== feed) continue;
      const stale = down || now - e.advancedAt >= this.opts.staleAfterMs;
      if (stale !== e.v.stale) {
        e.v = { ...e.v, stale };
        upsert.push(e.v);
      }
    }
    return this.diff(upsert, []);
  }

  isFeedDown(feed: string): boolean {
    return this.downFeeds.has(feed);
  }

  /** Marks silent vehicles stale and drops those silent past `dropAfterMs` (feeds that are up). */
  sweep(): VehicleDiff | null {
    const now = this.now();
    const upsert: LiveVehicle[] = [];
    const remove: string[] = [];
    for (const [id, e] of this.entries) {
      const age = now - e.advancedAt;
      const feedDown = this.downFeeds.has(e.v.feed);
      if (!feedDown && age >= this.opts.dropAfterMs) {
        this.entries.delete(id);
        remove.push(id);
      } else if (!e.v.stale && age >= this.opts.staleAfterMs) {
        e.v = { ...e.v, stale: true };
        upsert.push(e.v);
      }
    }
    return this.diff(upsert, remove);
  }

  /** Removes every vehicle of a feed (when the feed is removed from the config). */
  removeFeed(feed: string): VehicleDiff | null {
    const remove: string[] = [];
    for (const [id, e] of this.entries) {
      if (e.v.feed === feed) {
        this.entries.delete(id);
        remove.push(id);
      }
    }
    this.downFeeds.delete(feed);
    return this.diff([], remove);
  }

  private diff(upsert: LiveVehicle[], remove: string[]): VehicleDiff | null {
    if (upsert.length === 0 && remove.length === 0) return null;
    this.seq += 1;
    return { upsert, remove, seq: this.seq };
  }
}

function changed(a: LiveVehicle, b: LiveVehicle): boolean {
  return (
    a.lat !== b.lat ||
    a.lon !== b.lon ||
    a.heading !== b.heading ||
    a.timestamp !== b.timestamp ||
    a.stale !== b.stale ||
    a.delayed !== b.delayed ||
    a.route !== b.route ||
    a.destination !== b.destination ||
    a.nextStop !== b.nextStop ||
    a.tripId !== b.tripId ||
    a.feed !== b.feed
  );
}
