import { EventEmitter } from 'node:events';
import type { Alert, CameraHealthEvent, FeedStatus, VehicleDiff } from '../../contract';

/**
 * In-process domain events. Services publish here; the socket.io layer (and later the
 * incident service) subscribe. Keeps producers (ingest, analytics, feeds) unaware of
 * transports. Each later feature adds its events to this map.
 */
export interface DomainEvents {
  'core:shutdown': [];
  /** Live fleet changes (core/feeds): alerts on a bus camera follow the bus with these. */
  'vehicles:diff': [diff: VehicleDiff];
  'feeds:status': [feeds: FeedStatus[]];
  /** Camera health on state changes and every few seconds (core/cameras). */
  'camera:health': [event: CameraHealthEvent];
  /** Analytics raised an alert (persisted before this is emitted). */
  'alert:raised': [alert: Alert];
  /** An alert changed: cleared (endedAt set), new snapshot, score. */
  'alert:updated': [alert: Alert];
}

export class EventBus {
  private readonly emitter = new EventEmitter();
  constructor() {
    // Many sockets and services subscribe; the default limit of 10 is a false alarm here.
    this.emitter.setMaxListeners(0);
  }
  emit<K extends keyof DomainEvents>(event: K, ...args: DomainEvents[K]): void {
    this.emitter.emit(event, ...args);
  }
  on<K extends keyof DomainEvents>(event: K, fn: (...args: DomainEvents[K]) => void): () => void {
    this.emitter.on(event, fn as (...a: unknown[]) => void);
    return () => this.emitter.off(event, fn as (...a: unknown[]) => void);
  }
}
