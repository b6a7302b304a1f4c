import { z } from 'zod';
import { Alert } from './alerts';
import { AlertAcked, AlertEscalated, Incident, type AlertAckPayload, type AlertAckReply } from './incidents';
import type { Camera, CameraHealthEvent, CameraRemovedEvent } from './cameras';
import { AssetsStatus, DemoCamerasStatus, FfmpegStatus } from './health';
import type { FeedStatus, VehicleDiff, VehicleSnapshot } from './vehicles';
import type { UserNotice } from './auth';

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

/**
 * A full picture of the alert lifecycle in a client's scope, sent when its reconnect cursor
 * is unknown or too old to replay: the recent alerts in their current state (cleared ones
 * with endedAt), every acknowledgement and escalation of them, the open incidents, and the
 * cursor to resume from. A client replaces its lists with this (never keeps stale actives).
 */
export const AlertsResync = z.strictObject({
  cursor: z.number().int(),
  reason: z.string(),
  alerts: z.array(Alert),
  acks: z.array(AlertAcked),
  escalations: z.array(AlertEscalated),
  incidents: z.array(Incident),
});
export type AlertsResync = z.infer<typeof AlertsResync>;

/**
 * Events the server emits to clients. Later issues add theirs here.
 *
 * Alert and incident events come from the lifecycle log (core/lifecycle/log.ts) and carry
 * its sequence number as a second argument: a client keeps the highest one it saw and sends
 * it as `lastSeq` in its handshake to resume (contract SocketAuth).
 */
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
  'alert:raised': (payload: Alert, seq: number) => void;
  /** An alert changed (cleared, new snapshot). */
  'alert:updated': (payload: Alert, seq: number) => void;
  /** Someone (a liaison, an operator, or an operator acknowledging its incident) acknowledged an alert. */
  'alert:acked': (payload: AlertAcked, seq: number) => void;
  /** An alert went unacknowledged too long: to operators and the escalation liaisons. */
  'alert:escalated': (payload: AlertEscalated, seq: number) => void;
  /** An incident was created or changed (operators, reviewers, liaisons in scope). */
  'incident:upsert': (payload: Incident, seq: number) => void;
  /** The reconnect cursor could not be replayed: the current state instead (see AlertsResync). */
  'alerts:resync': (payload: AlertsResync) => void;
  /** A rider's text arrived or an answer went out (core/sms): fetch the conversation by id. */
  'sms:conversation': (payload: { conversationId: string; incidentId: string | null }) => void;
  /** The session behind this socket ended (logout, expiry, user disabled): sign in again. */
  'auth:expired': () => void;
  /** Something the user must know now (an administrator reset their second factor). */
  'auth:notice': (notice: UserNotice) => void;
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
