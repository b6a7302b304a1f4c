import { z } from 'zod';
import { AssetsStatus } from './health';

/**
 * socket.io events, one enum-like table for both directions (the maplibre habit: one
 * typed message table shared by every side). Payload schemas sit next to the names so the
 * core validates what it receives and the renderer validates what it is sent.
 */
export const ServerHello = z.strictObject({
  version: z.string(),
  serverTime: z.string(),
  assets: AssetsStatus,
});
export type ServerHello = z.infer<typeof ServerHello>;

export const PingPayload = z.strictObject({ sentAt: z.number() });
export type PingPayload = z.infer<typeof PingPayload>;
export const PongPayload = z.strictObject({ sentAt: z.number(), serverTime: z.number() });
export type PongPayload = z.infer<typeof PongPayload>;

/** Events the server emits to clients. Later issues add theirs here. */
export interface ServerToClientEvents {
  'server:hello': (payload: ServerHello) => void;
}

/** Events clients emit to the server. Every handler validates its payload with the schema. */
export interface ClientToServerEvents {
  'client:ping': (payload: PingPayload, ack: (reply: PongPayload) => void) => void;
}

export const SOCKET_PATH = '/socket.io';
