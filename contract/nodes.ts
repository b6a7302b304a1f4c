import { z } from 'zod';
import { AlertKind, AlertScope } from './alerts';
import { CameraAnalysisHealth, CameraHealth, CameraMount, GeoPoint } from './cameras';
import { NodeModelState } from './models';
import { Zone } from './zones';

const AlertDetail = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]));

/**
 * Analytics nodes (docs/scale.md): `sentinel analytics-node` processes that run ingest and
 * inference for the cameras they hold, talking to the core over the socket.io namespace
 * below with the token an administrator issued.
 */
export const NODES_NAMESPACE = '/nodes';

/** What a node reports about itself with every heartbeat. */
export const NodeLoad = z.strictObject({
  /** Cameras it runs now. */
  cameras: z.number().int().min(0),
  /** Frames per second analysed, over all its cameras. */
  fps: z.number().min(0),
  /** Share of the node's CPU in use, 0..1 (all cores). */
  cpu: z.number().min(0),
});
export type NodeLoad = z.infer<typeof NodeLoad>;

/** The fight classifier a node runs, reported with every heartbeat: what it was told, what it runs, and why not. */
export const NodeFightState = NodeModelState.omit({ nodeId: true, nodeName: true });
export type NodeFightState = z.infer<typeof NodeFightState>;

export const NodeInfo = z.strictObject({
  id: z.string(),
  name: z.string(),
  /** Cameras it may hold at most (the capacity benchmark's per-node figure, docs/performance.md). */
  capacity: z.number().int().min(1),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  /** A heartbeat within the lease time: the node is running. */
  live: z.boolean(),
  lastSeenAt: z.string().nullable(),
  load: NodeLoad.nullable(),
  /** Its fight classifier at its last heartbeat (null: it never reported one). */
  fight: NodeFightState.nullable(),
  /** Camera ids it holds (live leases). */
  cameras: z.array(z.string()),
});
export type NodeInfo = z.infer<typeof NodeInfo>;

export const NodePlacement = z.strictObject({
  cameraId: z.string(),
  nodeId: z.string(),
  nodeName: z.string(),
  /** Until when the node's claim holds without a heartbeat; in the past: being taken over. */
  expiresAt: z.string(),
  /** Changes of node so far (1: never moved). */
  fence: z.number().int().min(1),
});
export type NodePlacement = z.infer<typeof NodePlacement>;

export const NodesStatus = z.strictObject({
  /** analytics.nodes in the core's config: cameras run on nodes, not in the core. */
  enabled: z.boolean(),
  nodes: z.array(NodeInfo),
  placements: z.array(NodePlacement),
});
export type NodesStatus = z.infer<typeof NodesStatus>;

export const NodeCreate = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'use letters, digits, dot, dash and underscore (at most 64)'),
  capacity: z.number().int().min(1).max(10_000).default(8),
});
export type NodeCreate = z.infer<typeof NodeCreate>;

/** The token is shown once, here; the core keeps only its hash. */
export const NodeCreated = z.strictObject({ node: NodeInfo, token: z.string() });
export type NodeCreated = z.infer<typeof NodeCreated>;

export const nodeRoutes = {
  nodes: { method: 'GET', path: '/api/v1/nodes', response: NodesStatus, roles: ['admin', 'technician'] },
  nodeCreate: { method: 'POST', path: '/api/v1/nodes', response: NodeCreated, roles: ['admin'] },
  nodeRevoke: { method: 'DELETE', path: '/api/v1/nodes/:id', response: NodeInfo, roles: ['admin'] },
} as const;

// ---- the channel between a node and the core ----

/** One camera a node holds, as the core hands it over: the RTSP URL with its credentials goes only to its holder. */
export const NodeCamera = z.strictObject({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  subUrl: z.string().nullable(),
  username: z.string().nullable(),
  password: z.string().nullable(),
  mount: CameraMount,
  location: GeoPoint.nullable(),
  analyticsEnabled: z.boolean(),
  /** The node records it into the shared recordings directory (NodeAssignment.recordingsDir). */
  recordingEnabled: z.boolean(),
  zones: z.array(Zone),
  /** The camera's person detector (its own choice, else the default the technician set); absent: the node's configured default. */
  model: z.string().optional(),
  /** The vehicle's speed (km/h) when the camera rides one and the feed knows it; the core has the feeds. */
  speed: z.number().nullable().optional(),
  fence: z.number().int().min(1),
});
export type NodeCamera = z.infer<typeof NodeCamera>;

export const NodeHeartbeat = z.strictObject({
  load: NodeLoad,
  fight: NodeFightState,
  /** Health of the cameras it runs. */
  cameras: z.array(z.strictObject({ cameraId: z.string(), health: CameraHealth, analysis: CameraAnalysisHealth.nullable() })),
});
export type NodeHeartbeat = z.infer<typeof NodeHeartbeat>;

export const NodeAssignment = z.strictObject({
  nodeId: z.string(),
  /** The cameras this node holds after this heartbeat (anything else it runs, it stops). */
  cameras: z.array(NodeCamera),
  /** Heartbeat at least this often, or the claims lapse. */
  heartbeatMs: z.number().int().positive(),
  leaseTtlMs: z.number().int().positive(),
  /**
   * The core's recordings directory, which nodes share (docs/scale.md): a node writes each camera's
   * segments under `<dir>/<cameraId>/` and reports them; null when the core records nothing.
   */
  recordingsDir: z.string().nullable(),
  segmentSeconds: z.number().int().positive(),
  /**
   * The fight classifier in force (the console's choice, else analytics.fightModel): a
   * classify-clip model the node opens from its own registry, or null for the built-in one.
   */
  fightModel: z.string().nullable(),
});
export type NodeAssignment = z.infer<typeof NodeAssignment>;

/** An alert raised on a node; `id` is the node's, so a resend after a lost acknowledgement is the same alert. */
export const NodeAlert = z.strictObject({
  id: z.string().uuid(),
  kind: AlertKind,
  cameraId: z.string(),
  zoneId: z.string().nullable(),
  zoneName: z.string().nullable(),
  score: z.number(),
  startedAt: z.string(),
  trackIds: z.array(z.number().int()),
  detail: AlertDetail,
  /** The snapshot JPEG, base64. */
  snapshot: z.string().nullable(),
  /** Ignored by the core (it places the camera itself); kept so the runner's alert shape passes as is. */
  scope: AlertScope.optional(),
});
export type NodeAlert = z.infer<typeof NodeAlert>;

export const NodeAlertChange = z.strictObject({
  id: z.string().uuid(),
  endedAt: z.string().optional(),
  score: z.number().optional(),
  trackIds: z.array(z.number().int()).optional(),
  detail: AlertDetail.optional(),
});
export type NodeAlertChange = z.infer<typeof NodeAlertChange>;

export const NodeOccupancy = z.strictObject({ cameraId: z.string(), t: z.number(), counts: z.record(z.string(), z.number()) });
export type NodeOccupancy = z.infer<typeof NodeOccupancy>;

export const NodeFrame = z.strictObject({
  cameraId: z.string(),
  t: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  tracks: z.array(
    z.strictObject({
      id: z.number().int(),
      box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
      score: z.number(),
      zones: z.array(z.string()),
    }),
  ),
});
export type NodeFrame = z.infer<typeof NodeFrame>;

/** A finished recording segment in the shared directory, `file` relative to it (`<cameraId>/<name>.mp4`). */
export const NodeSegment = z.strictObject({
  id: z.string().uuid(),
  cameraId: z.string(),
  file: z.string().regex(/^[A-Za-z0-9_-]+\/[A-Za-z0-9._-]+\.mp4$/, 'expected <cameraId>/<name>.mp4'),
  startMs: z.number().int(),
  endMs: z.number().int(),
  bytes: z.number().int().min(0),
  session: z.number().int(),
});
export type NodeSegment = z.infer<typeof NodeSegment>;

/** What the core answers to a node's alert or change: ok once committed, else why not (the node keeps it and resends). */
export type NodeAck = { ok: true } | { ok: false; error: string; retry: boolean };

export interface NodeToCoreEvents {
  'node:heartbeat': (hb: NodeHeartbeat, ack: (a: NodeAssignment | { error: string }) => void) => void;
  'node:alert': (alert: NodeAlert, ack: (a: NodeAck) => void) => void;
  'node:alert-change': (change: NodeAlertChange, ack: (a: NodeAck) => void) => void;
  'node:segment': (segment: NodeSegment, ack: (a: NodeAck) => void) => void;
  'node:occupancy': (o: NodeOccupancy) => void;
  'node:frames': (frames: NodeFrame[]) => void;
  /** An orderly stop: the core frees the node's cameras at once instead of after the lease time. */
  'node:bye': (ack: () => void) => void;
}

export interface CoreToNodeEvents {
  /** The node's token was revoked: it stops its cameras. */
  'node:revoked': () => void;
}
