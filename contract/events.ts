import { z } from 'zod';
import type { Alert } from './alerts';
import type { AlertAckPayload, AlertAckReply, AlertAcked, AlertEscalated, Incident } from './incidents';
import type { Camera, CameraHealthEvent, CameraRemovedEvent } from './cameras';
import { AssetsStatus, DemoCamerasStatus, FfmpegStatus } from './health';
import type { FeedStatus, VehicleDiff, VehicleSnapshot } from './vehicles';

/**
 * socket.io events, one enum-like table for both directions (the maplibre habit: one
 * typed message table shared by every side). Payload schemas sit next to the names so the
 * core validates what it receives and the renderer validates what it is sent.
 */
export const ServerHello = z.strictObject({
  version: z.string(),
  serverTime: z.string(),
  assets: AssetsStatus,
  /** Which ffmpeg the core runs (never its path: the hello goes to every signed-in role). */
  ffmpeg: FfmpegStatus.omit({ path: true }).optional(),
  demoCameras: DemoCamerasStatus.optional(),
});
export type ServerHello = z.infer<typeof ServerHello>;

export const PingPayload = z.strictObject({ sentAt: z.number() });
export type PingPayload = z.infer<typeof PingPayload>;
export const PongPayload = z.strictObject({ sentAt: z.number(), serverTime: z.number() });
export type PongPayload = z.infer<typeof PongPayload>;

/** Events the server emits to clients. Later issues add theirs here. */
export interface ServerToClientEvents {
  'server:hello': (payload: ServerHello) => void;
  /** Every camera (URLs masked), sent on connect. */
  'cameras:snapshot': (payload: Camera[]) => void;
  /** A camera was created or changed (URLs masked, never a password). */
  'camera:upsert': (payload: Camera) => void;
  'camera:removed': (payload: CameraRemovedEvent) => void;
  /** Health on every state change and every few seconds while live (fps). */
  'camera:health': (payload: CameraHealthEvent) => void;
  /** The whole live fleet, sent on connect (and on `vehicles:resync`). */
  'vehicles:snapshot': (payload: VehicleSnapshot) => void;
  /** Changes keyed by vehicle id, at the feeds' own cadence. */
  'vehicles:diff': (payload: VehicleDiff) => void;
  /** Feed health for the status bar (live / stale / outage), on every change. */
  'feeds:status': (payload: FeedStatus[]) => void;
  /** A new alert, to every socket whose scope covers it (core/alerts/deliver.ts). */
  'alert:raised': (payload: Alert) => void;
  /** An alert changed (cleared, new snapshot). */
  'alert:updated': (payload: Alert) => void;
  /** Someone (a liaison, an operator) acknowledged an alert (issue 7). */
  'alert:acked': (payload: AlertAcked) => void;
  /** An alert went unacknowledged too long: to operators and the escalation liaisons. */
  'alert:escalated': (payload: AlertEscalated) => void;
  /** An incident was created or changed (operators, reviewers, liaisons in scope). */
  'incident:upsert': (payload: Incident) => void;
  /** The session behind this socket ended (logout, expiry, user disabled): sign in again. */
  'auth:expired': () => void;
}

/** Events clients emit to the server. Every handler validates its payload with the schema. */
export interface ClientToServerEvents {
  'client:ping': (payload: PingPayload, ack: (reply: PongPayload) => void) => void;
  /** A client that missed a diff (sequence gap) asks for a fresh snapshot. */
  'vehicles:resync': (ack: (snapshot: VehicleSnapshot) => void) => void;
  /** A liaison or operator acknowledges an alert (validated with AlertAckPayload). */
  'alert:ack': (payload: AlertAckPayload, ack: (reply: AlertAckReply) => void) => void;
}

export const SOCKET_PATH = '/socket.io';
