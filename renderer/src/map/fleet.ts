import { FeedStatus, VehicleDiff, VehicleSnapshot, type LiveVehicle } from '../../../contract';
import type { CoreSocket } from '../client/connection';
import { Store } from '../client/store';
import { z } from 'zod';

export type FleetChange = { kind: 'reset' } | { kind: 'diff'; diff: VehicleDiff };

const FeedStatusList = z.array(FeedStatus);

/**
 * The console's copy of the live fleet: a snapshot on connect, then diffs keyed by id.
 * Payloads are validated at this boundary; a sequence gap (a missed diff) asks the core for
 * a fresh snapshot rather than drifting silently.
 */
export class Fleet {
  readonly vehicles = new Map<string, LiveVehicle>();
  readonly feeds = new Store<FeedStatus[]>([]);
  /** Bumped on every change, for panels that show one vehicle's details. */
  readonly version = new Store(0);
  private seq = -1;
  private readonly listeners = new Set<(c: FleetChange) => void>();
  private socket: CoreSocket | null = null;

  onChange(fn: (c: FleetChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  attach(socket: CoreSocket): () => void {
    this.socket = socket;
    const onSnapshot = (payload: unknown): void => {
      const p = VehicleSnapshot.safeParse(payload);
      if (p.success) this.reset(p.data);
    };
    const onDiff = (payload: unknown): void => {
      const p = VehicleDiff.safeParse(payload);
      if (p.success) this.applyDiff(p.data);
    };
    const onFeeds = (payload: unknown): void => {
      const p = FeedStatusList.safeParse(payload);
      if (p.success) this.feeds.set(p.data);
    };
    socket.on('vehicles:snapshot', onSnapshot);
    socket.on('vehicles:diff', onDiff);
    socket.on('feeds:status', onFeeds);
    return () => {
      socket.off('vehicles:snapshot', onSnapshot);
      socket.off('vehicles:diff', onDiff);
      socket.off('feeds:status', onFeeds);
      this.socket = null;
    };
  }

  reset(s: VehicleSnapshot): void {
    this.vehicles.clear();
    for (const v of s.vehicles) this.vehicles.set(v.id, v);
    this.seq = s.seq;
    this.feeds.set(s.feeds);
    this.emit({ kind: 'reset' });
  }

  applyDiff(diff: VehicleDiff): void {
    if (this.seq >= 0 && diff.seq <= this.seq) return; // already in the snapshot
    if (this.seq >= 0 && diff.seq !== this.seq + 1) {
      this.resync();
      return;
    }
    this.seq = diff.seq;
    for (const id of diff.remove) this.vehicles.delete(id);
    for (const v of diff.upsert) this.vehicles.set(v.id, v);
    this.emit({ kind: 'diff', diff });
  }

  private resync(): void {
    this.seq = -1;
    this.socket?.emit('vehicles:resync', (snap) => {
      const p = VehicleSnapshot.safeParse(snap);
      if (p.success) this.reset(p.data);
    });
  }

  private emit(c: FleetChange): void {
    for (const l of this.listeners) l(c);
    this.version.set(this.version.get() + 1);
  }
}
