import { io, type Socket } from 'socket.io-client';
import { ServerHello, SOCKET_PATH, type ClientToServerEvents, type ServerToClientEvents } from '../../../contract';
import { Store } from './store';

export type LinkStatus = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ConnectionState {
  status: LinkStatus;
  /** When the current status began (ms since epoch), for "disconnected for 12 s". */
  since: number;
  /** Reconnection attempts since the link was lost. */
  attempt: number;
  /** Round-trip time of the last ping, ms. */
  latencyMs: number | null;
  hello: ServerHello | null;
  lastError: string | null;
}

export type CoreSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * The id of the newest alert this console has seen: sent in the handshake of every
 * (re)connection so the core replays what was missed (at-least-once; the client de-duplicates
 * by id). Set by whoever keeps the alert list (renderer/src/liaison/pushStore.ts).
 */
let resumeFrom: string | null = null;
export function setResumeFrom(alertId: string): void {
  resumeFrom = alertId;
}

/**
 * The highest lifecycle log sequence received (alert and incident events carry it as their
 * second argument; a resync carries its cursor). Preferred over `resumeFrom`: the core
 * replays every event after it (updates, clears, acks), not only raises.
 */
let resumeSeq: number | null = null;
const LIFECYCLE_EVENTS = new Set(['alert:raised', 'alert:updated', 'alert:acked', 'alert:escalated', 'incident:upsert']);

const PING_INTERVAL_MS = 5000;

/**
 * The console's one link to the core. socket.io reconnects by itself (with backoff); this
 * module turns its events into a ConnectionState the status bar shows, measures latency,
 * and validates what the server sends at the boundary.
 */
export function connectToCore(url?: string): { socket: CoreSocket; state: Store<ConnectionState>; close(): void } {
  const state = new Store<ConnectionState>({
    status: 'connecting',
    since: Date.now(),
    attempt: 0,
    latencyMs: null,
    hello: null,
    lastError: null,
  });
  // Not connected until signed in (renderer/src/auth/AuthGate.tsx calls connect): the core
  // refuses sockets without a session. The session travels in the HttpOnly cookie.
  const opts = {
    path: SOCKET_PATH,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    timeout: 5000,
    autoConnect: false,
    auth: (cb: (data: object) => void) => cb(resumeSeq !== null ? { lastSeq: resumeSeq } : resumeFrom ? { lastAlertId: resumeFrom } : {}),
  };
  const socket: CoreSocket = url ? io(url, opts) : io(opts);

  socket.onAny((event: string, ...args: unknown[]) => {
    const seq = args[1];
    if (LIFECYCLE_EVENTS.has(event) && typeof seq === 'number' && Number.isInteger(seq)) resumeSeq = Math.max(resumeSeq ?? 0, seq);
  });
  socket.on('alerts:resync', (payload) => {
    if (Number.isInteger(payload?.cursor)) resumeSeq = payload.cursor;
  });
  socket.on('connect', () => state.update((s) => ({ ...s, status: 'connected', since: Date.now(), attempt: 0, lastError: null })));
  socket.on('disconnect', (reason) => {
    // 'io client disconnect' is our own close(); anything else is a lost link that socket.io retries.
    const status: LinkStatus = reason === 'io client disconnect' ? 'disconnected' : 'reconnecting';
    state.update((s) => ({ ...s, status, since: Date.now(), latencyMs: null, lastError: reason }));
  });
  socket.on('connect_error', (err) =>
    state.update((s) => ({ ...s, status: s.status === 'connecting' ? 'connecting' : 'reconnecting', lastError: err.message })),
  );
  socket.io.on('reconnect_attempt', (attempt) => state.update((s) => ({ ...s, attempt })));
  socket.on('server:hello', (payload) => {
    const hello = ServerHello.safeParse(payload);
    if (hello.success) state.update((s) => ({ ...s, hello: hello.data }));
  });

  const ping = (): void => {
    if (!socket.connected) return;
    socket.timeout(PING_INTERVAL_MS).emit('client:ping', { sentAt: performance.now() }, (err: Error | null, reply?: { sentAt: number }) => {
      if (err || !reply) return;
      state.update((s) => ({ ...s, latencyMs: Math.round(performance.now() - reply.sentAt) }));
    });
  };
  socket.on('connect', ping);
  const timer = setInterval(ping, PING_INTERVAL_MS);

  return {
    socket,
    state,
    close() {
      clearInterval(timer);
      socket.disconnect();
    },
  };
}
