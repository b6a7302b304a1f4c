import { z } from 'zod';
import { Alert, AlertKind, AlertScope } from './alerts';
import type { Role } from './auth';

/**
 * Incidents: alerts merged by camera, vehicle or zone within a window, owned by
 * someone, moved through states with a timestamp for each; and the liaison push protocol
 * (ack, escalation, replay) that rides on socket.io.
 */
export const IncidentState = z.enum(['new', 'acknowledged', 'dispatched', 'resolved', 'false-alarm']);
export type IncidentState = z.infer<typeof IncidentState>;

/** Allowed transitions: a closed incident (resolved / false alarm) may be reopened as acknowledged. */
export const INCIDENT_TRANSITIONS: Record<IncidentState, readonly IncidentState[]> = {
  new: ['acknowledged', 'dispatched', 'resolved', 'false-alarm'],
  acknowledged: ['dispatched', 'resolved', 'false-alarm'],
  dispatched: ['resolved', 'false-alarm'],
  resolved: ['acknowledged'],
  'false-alarm': ['acknowledged'],
};

export const IncidentEvent = z.strictObject({
  at: z.string(),
  actor: z.string().nullable(),
  kind: z.enum(['created', 'alert', 'state', 'assign', 'note', 'link', 'escalated', 'clip']),
  state: IncidentState.nullable(),
  text: z.string().nullable(),
});
export type IncidentEvent = z.infer<typeof IncidentEvent>;

export const IncidentLink = z.strictObject({ kind: z.enum(['clip', 'vehicle', 'station']), ref: z.string() });
export type IncidentLink = z.infer<typeof IncidentLink>;

export const IncidentReach = z.strictObject({
  districts: z.array(z.string()),
  lines: z.array(z.string()),
  routes: z.array(z.string()),
  cameras: z.array(z.string()),
});
export type IncidentReach = z.infer<typeof IncidentReach>;

export const Incident = z.strictObject({
  id: z.string(),
  title: z.string(),
  kind: AlertKind,
  state: IncidentState,
  cameraId: z.string(),
  cameraName: z.string(),
  zoneId: z.string().nullable(),
  vehicleId: z.string().nullable(),
  stationId: z.string().nullable(),
  /** Where it happened: its first alert's scope. */
  scope: AlertScope,
  /**
   * Everyone it concerns: the union of its alerts' districts, lines, routes and cameras (a
   * merged incident reaches the liaisons of each). Always set by the core.
   */
  reach: IncidentReach.optional(),
  assignee: z.string().nullable(),
  alertIds: z.array(z.string()),
  links: z.array(IncidentLink),
  createdAt: z.string(),
  updatedAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  dispatchedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  /** Seconds from creation to the first acknowledgement (the figure the console shows). */
  timeToAcknowledgeS: z.number().nullable(),
  events: z.array(IncidentEvent),
});
export type Incident = z.infer<typeof Incident>;
export const IncidentList = z.strictObject({ incidents: z.array(Incident) });

export const IncidentUpdate = z.strictObject({
  state: IncidentState.optional(),
  /** Username of the new owner; null unassigns. */
  assignee: z.string().min(1).max(64).nullable().optional(),
  note: z.string().trim().min(1).max(4000).optional(),
  link: IncidentLink.optional(),
});
export type IncidentUpdate = z.input<typeof IncidentUpdate>;

/** Admin's "send test alert": proves liaisons receive pushes (and feeds the push benchmark). */
export const TestAlertRequest = z.strictObject({
  kind: AlertKind.default('crowding'),
  cameraId: z.string().min(1).max(100).default('test-camera'),
  cameraName: z.string().min(1).max(120).default('Test alert'),
  zoneId: z.string().max(100).nullable().default(null),
  district: z
    .string()
    .regex(/^\d{1,2}$/)
    .nullable()
    .default(null),
  lines: z.array(z.string().min(1).max(16)).max(16).default([]),
  routes: z.array(z.string().min(1).max(16)).max(50).default([]),
});
export type TestAlertRequest = z.input<typeof TestAlertRequest>;
export const TestAlertResponse = z.strictObject({ id: z.string(), seq: z.number().int() });

/** Liaison push: an acknowledgement of one alert (client -> server, with an ack callback). */
export const AlertAckPayload = z.strictObject({ alertId: z.string().min(1).max(100) });
export type AlertAckPayload = z.infer<typeof AlertAckPayload>;
export const AlertAckReply = z.union([
  z.strictObject({ ok: z.literal(true) }),
  z.strictObject({ ok: z.literal(false), error: z.string() }),
]);
export type AlertAckReply = z.infer<typeof AlertAckReply>;

/** Server -> clients: someone acknowledged an alert. */
export const AlertAcked = z.strictObject({ alertId: z.string(), by: z.string(), role: z.string(), at: z.string() });
export type AlertAcked = z.infer<typeof AlertAcked>;
/** Server -> operators and the next liaison: an alert went unacknowledged for N s. */
export const AlertEscalated = z.strictObject({
  alertId: z.string(),
  at: z.string(),
  afterS: z.number(),
  reason: z.string(),
  /** Why: nobody acknowledged in time, or an operator escalated it. */
  cause: z.enum(['timeout', 'operator']).optional(),
  /** Who was told: the rooms it went to and the liaisons connected in them at that moment. */
  told: z.strictObject({ rooms: z.array(z.string()), liaisons: z.array(z.string()) }).optional(),
});
export type AlertEscalated = z.infer<typeof AlertEscalated>;

/**
 * Socket handshake `auth`: a token (tools, tests; the console uses its cookie) and the id of
 * the last alert this client saw, so a reconnect replays what it missed (at-least-once).
 */
export const SocketAuth = z.object({
  token: z.string().max(200).optional(),
  /** Older clients: the last alert id seen (mapped onto the log cursor of its raise). */
  lastAlertId: z.string().max(100).optional(),
  /**
   * The lifecycle log cursor: the highest sequence this client received (every alert and
   * incident event carries it as its second argument). Replay sends everything after it in
   * the client's scope: raises, updates, clears, acks, escalations and incidents. An unknown
   * or too old cursor gets a full resync instead (`alerts:resync`).
   */
  lastSeq: z.number().int().min(0).optional(),
});

const INCIDENT_ROLES: readonly Role[] = ['operator', 'reviewer'];
export const incidentRoutes = {
  incidents: { method: 'GET', path: '/api/v1/incidents', response: IncidentList, roles: [...INCIDENT_ROLES, 'liaison'] },
  incident: { method: 'GET', path: '/api/v1/incidents/:id', response: Incident, roles: [...INCIDENT_ROLES, 'liaison'] },
  incidentUpdate: { method: 'PATCH', path: '/api/v1/incidents/:id', response: Incident, body: IncidentUpdate, roles: ['operator'] },
  /** application/xml: the incident as an OASIS CAP 1.2 alert. */
  incidentCap: { method: 'GET', path: '/api/v1/incidents/:id/cap.xml', response: z.unknown(), roles: INCIDENT_ROLES },
  alertAck: { method: 'POST', path: '/api/v1/alerts/:id/ack', response: AlertAckReply, roles: ['operator', 'liaison'] },
  alertEscalate: { method: 'POST', path: '/api/v1/alerts/:id/escalate', response: AlertEscalated, roles: ['operator'] },
  testAlert: { method: 'POST', path: '/api/v1/test-alert', response: TestAlertResponse, body: TestAlertRequest, roles: ['admin'] },
  /** Clears a test alert (a drill's "all clear"), as a rule clears a real one. */
  testAlertClear: { method: 'POST', path: '/api/v1/test-alert/:id/clear', response: Alert, roles: ['admin'] },
} as const;
