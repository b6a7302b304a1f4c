import type { FeedError, FeedKind, FeedParseResult, FeedState, FeedStatus } from '../../contract';
import type { Logger } from '../logger';
import { FeedFormatError } from './values';

/**
 * What a feed source reports to the feeds service. Pollers and the simulator call these;
 * the service owns the store, the diffs and the status the console shows.
 */
export interface FeedSink {
  vehicles(feed: string, result: FeedParseResult): void;
  /** A failed fetch or a whole-request error: after enough of them the feed is down. */
  failure(feed: string, message: string): void;
}

export interface FeedSource {
  readonly id: string;
  readonly kind: FeedKind;
  start(): void;
  stop(): void;
}

/** Replaces an API key in a URL or message, so keys never reach a log or the console. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out.replace(/([?&]key=)[^&\s]+/g, '$1***');
}

/**
 * Errors that concern the whole request (bad key, rate limit, server error), as opposed to
 * one route that has no buses right now ("No data found for parameter" with its `rt`).
 */
export function wholeRequestErrors(r: FeedParseResult): FeedError[] {
  return r.vehicles.length === 0 ? r.errors.filter((e) => e.route === undefined && e.code !== 'invalid_vehicle') : [];
}

export interface HttpPollOptions {
  id: string;
  kind: FeedKind;
  /** The URLs to fetch in turn, one call each, spaced `spacingMs` apart; the list repeats. */
  urls: () => string[];
  spacingMs: number;
  parse: (body: Uint8Array) => FeedParseResult;
  sink: FeedSink;
  log: Logger;
  secrets: ReadonlyArray<string | undefined>;
  /** Refuses a call when the daily budget is spent (Bus Tracker). */
  takeBudget?: () => Promise<boolean>;
  timeoutMs?: number;
}

/**
 * Polls an HTTP feed: one URL per tick, round-robin. A network error, a non-2xx status, a
 * payload of the wrong format, or an error envelope with no data is a failure; anything
 * else goes to the sink (partial errors included). Never throws: a bad response is logged
 * and reported, and the next tick tries again.
 */
export class HttpPoller implements FeedSource {
  private timer: NodeJS.Timeout | null = null;
  private next = 0;
  private inFlight = false;
  readonly id: string;
  readonly kind: FeedKind;

  constructor(private readonly o: HttpPollOptions) {
    this.id = o.id;
    this.kind = o.kind;
  }

  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.spacingMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One call (exported for tests that drive the poller step by step). */
  async tick(): Promise<void> {
    if (this.inFlight) return; // a slow server must not pile up requests
    const urls = this.o.urls();
    if (urls.length === 0) return;
    const url = urls[this.next % urls.length] as string;
    this.next = (this.next + 1) % urls.length;
    // In flight from the budget check on: the ledger is a database round trip, and a tick meanwhile must not take a second call.
    this.inFlight = true;
    try {
      if (this.o.takeBudget && !(await this.o.takeBudget())) {
        this.o.sink.failure(this.id, 'daily call budget spent; polling resumes as the 24 h window rolls');
        return;
      }
      const res = await fetch(url, {
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        headers: { accept: 'application/json, application/x-protobuf' },
      });
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
      const body = new Uint8Array(await res.arrayBuffer());
      const result = this.o.parse(body);
      const whole = wholeRequestErrors(result);
      if (whole.length > 0) throw new Error(whole.map((e) => e.message).join('; '));
      if (result.errors.length > 0) this.o.log.debug({ feed: this.id, errors: result.errors.slice(0, 5) }, 'feed reported partial errors');
      this.o.sink.vehicles(this.id, result);
    } catch (err) {
      const e = err as Error;
      const why =
        e instanceof FeedFormatError
          ? e.message
          : e.name === 'TimeoutError'
            ? 'request timed out'
            : ((e.cause as Error | undefined)?.message ?? e.message);
      const message = redact(why, this.o.secrets);
      this.o.log.warn({ feed: this.id, url: redact(url, this.o.secrets), error: message }, 'feed poll failed');
      this.o.sink.failure(this.id, message);
    } finally {
      this.inFlight = false;
    }
  }
}

/** Per-feed health, turned into the status the console shows. */
export class FeedHealth {
  state: FeedState = 'starting';
  lastSuccessAt: number | null = null;
  lastErrorAt: number | null = null;
  lastError: string | null = null;
  consecutiveFailures = 0;
  partialErrors = 0;

  constructor(
    readonly id: string,
    readonly kind: FeedKind,
    /** Expected time between successes; silence for 3x this is "stale". */
    readonly expectedEveryMs: number,
    readonly failuresForOutage = 2,
  ) {}

  success(now: number, partialErrors: number): void {
    this.lastSuccessAt = now;
    this.consecutiveFailures = 0;
    this.partialErrors = partialErrors;
    this.state = 'live';
  }

  failure(now: number, message: string): void {
    this.lastErrorAt = now;
    this.lastError = message;
    this.consecutiveFailures += 1;
    if (this.consecutiveFailures >= this.failuresForOutage) this.state = 'outage';
  }

  /** Re-evaluates "stale" from the clock (a feed that silently stopped answering). */
  refresh(now: number): void {
    if (this.state === 'live' && this.lastSuccessAt !== null && now - this.lastSuccessAt > 3 * this.expectedEveryMs) this.state = 'stale';
  }

  status(now: number, vehicles: number): FeedStatus {
    const label = FEED_LABELS[this.kind];
    const ago = (t: number | null): string => (t === null ? 'never' : `${Math.max(0, Math.round((now - t) / 1000))} s ago`);
    let detail: string;
    switch (this.state) {
      case 'starting':
        detail = this.lastError ? `${label}: connecting (last error: ${this.lastError})` : `${label}: connecting`;
        break;
      case 'live':
        detail = `${label}: ${vehicles} vehicles${this.partialErrors ? ` (${this.partialErrors} route errors)` : ''}`;
        break;
      case 'stale':
        detail = `${label}: no update since ${ago(this.lastSuccessAt)}`;
        break;
      case 'outage':
        detail = `${label}: outage (${this.consecutiveFailures} failed calls: ${this.lastError ?? 'unknown error'}); showing last positions`;
        break;
      case 'disabled':
        detail = `${label}: disabled`;
        break;
    }
    return {
      id: this.id,
      kind: this.kind,
      state: this.state,
      detail,
      vehicles,
      lastSuccessAt: this.lastSuccessAt === null ? null : new Date(this.lastSuccessAt).toISOString(),
      lastErrorAt: this.lastErrorAt === null ? null : new Date(this.lastErrorAt).toISOString(),
      lastError: this.lastError,
    };
  }
}

export const FEED_LABELS: Record<FeedKind, string> = {
  'bus-tracker': 'Bus Tracker',
  'train-tracker': 'Train Tracker',
  'gtfs-rt': 'GTFS-realtime',
  simulator: 'Demo fleet',
};
