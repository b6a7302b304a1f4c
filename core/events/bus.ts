import { EventEmitter } from 'node:events';
import type { Alert, AlertAcked, AlertEscalated, CameraHealthEvent, FeedStatus, VehicleDiff } from '../../contract';
import type { Logger } from '../logger';

/**
 * In-process domain events. Services publish here; the socket.io layer (and later the
 * incident service) subscribe. Keeps producers (ingest, analytics, feeds) unaware of
 * transports. Each later feature adds its events to this map.
 */
/** One analysed frame's confirmed tracks (pixels of the analysed frame), for replay overlays. */
export interface AnalyticsFrameEvent {
  cameraId: string;
  /** Capture time, ms since the epoch. */
  t: number;
  width: number;
  height: number;
  tracks: { id: number; box: [number, number, number, number]; score: number; zones: string[] }[];
}

export interface DomainEvents {
  'core:shutdown': [];
  /** Every analysed frame of a live camera (core/analytics -> core/review's detection log). */
  'analytics:frame': [frame: AnalyticsFrameEvent];
  /** Live fleet changes (core/feeds): alerts on a bus camera follow the bus with these. */
  'vehicles:diff': [diff: VehicleDiff];
  'feeds:status': [feeds: FeedStatus[]];
  /** Camera health on state changes and every few seconds (core/cameras). */
  'camera:health': [event: CameraHealthEvent];
  /** Analytics raised an alert (persisted before this is emitted). */
  'alert:raised': [alert: Alert];
  /** An alert changed: cleared (endedAt set), new snapshot, score. */
  'alert:updated': [alert: Alert];
  /** Someone acknowledged an alert (core/alerts/deliver.ts): incidents move to acknowledged. */
  'alert:acked': [ack: AlertAcked];
  /** An alert went unacknowledged too long, or an operator escalated it. */
  'alert:escalated': [event: AlertEscalated];
  /** An alert's evidence clip was cut and hashed (core/cameras/evidence.ts). */
  'clip:ready': [{ alertId: string; clipId: string; cameraId: string; sha256: string }];
  /** An alert's evidence clip could not be cut: the alert stays, the error is recorded. */
  'clip:failed': [{ alertId: string; cameraId: string; error: string }];
}

/**
 * Listeners are isolated from each other: one that throws (SQLITE_BUSY, a full disk, a bug)
 * is logged with the event's name and the others still run; the emitter never sees the
 * throw, so it cannot crash the core or the producer that emitted. A listener returning a
 * promise gets the same treatment for its rejection.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  /** Listener failures since start (health, tests). */
  failures = 0;
  constructor(private readonly log: Logger | null = null) {
    // Many sockets and services subscribe; the default limit of 10 is a false alarm here.
    this.emitter.setMaxListeners(0);
  }
  emit<K extends keyof DomainEvents>(event: K, ...args: DomainEvents[K]): void {
    this.emitter.emit(event, ...args);
  }
  on<K extends keyof DomainEvents>(event: K, fn: (...args: DomainEvents[K]) => unknown): () => void {
    const fail = (err: unknown): void => {
      this.failures++;
      this.log?.error({ err, event }, 'a bus listener failed; the other listeners still ran');
    };
    const isolated = (...a: unknown[]): void => {
      try {
        const r = (fn as (...x: unknown[]) => unknown)(...a);
        if (r instanceof Promise) r.catch(fail);
      } catch (err) {
        fail(err);
      }
    };
    this.emitter.on(event, isolated);
    return () => this.emitter.off(event, isolated);
  }
}
