import type { RouteName } from '../../contract';
import type { ResourceKind } from './visibility';

/**
 * How each route of the contract's table applies the visibility rule (./visibility.ts), on top
 * of the role check the auth hook does:
 *
 * - `param`: the route names one resource by a path parameter; the gate (./gate.ts) finds
 *   where it is and answers 404, as for an unknown id, when the user may not see it;
 * - `list`: the handler filters what it returns, item by item, with `canSee`;
 * - `kind`: the resource has no place (evidence, the audit trail): `canSee` by role alone;
 * - `handler`: the resource is named by an id the gate cannot place (a rider's conversation);
 *   the handler resolves it to the incident it belongs to and asks `canSee`, answering 404;
 * - `none`: the route shows nothing tied to a camera or a place (sign-in, map data, the
 *   fleet every console shows, creating things); `why` says so.
 *
 * The route matrix test (test/integration/access-matrix.test.ts) is generated from the route
 * table and fails for a route without an entry here.
 */
export type RouteRule =
  | { param: 'id'; from: 'camera' | 'clip' | 'alert' | 'incident'; resource: ResourceKind }
  | { list: ResourceKind }
  | { kind: 'evidence' | 'audit' }
  | { handler: ResourceKind; why: string }
  | { none: string };

const AUTH = "authentication and the user's own account";
const ADMIN = 'administration (admin only), not tied to a place';

export const ROUTE_RULES: Readonly<Partial<Record<RouteName, RouteRule>>> & Readonly<Record<string, RouteRule | undefined>> = {
  health: { none: 'liveness probe' },
  cluster: { none: 'which replica runs which background job: infrastructure, not tied to a place' },
  authStatus: { none: AUTH },
  authSetup: { none: AUTH },
  login: { none: AUTH },
  logout: { none: AUTH },
  me: { none: AUTH },
  totpSetup: { none: AUTH },
  totpEnable: { none: AUTH },
  totpDisable: { none: AUTH },
  mfaStatus: { none: AUTH },
  recoveryCodesRegenerate: { none: AUTH },
  mySessions: { none: AUTH },
  mySessionRevoke: { none: "the user's own sessions (another user's session id answers 404)" },
  mySessionsRevokeOthers: { none: AUTH },
  ssoInfo: { none: AUTH },
  ssoStart: { none: AUTH },
  ssoCallback: { none: AUTH },
  users: { none: ADMIN },
  userCreate: { none: ADMIN },
  userUpdate: { none: ADMIN },
  userSessions: { none: ADMIN },
  userSignOutEverywhere: { none: ADMIN },
  userMfaReset: { none: ADMIN },
  audit: { kind: 'audit' },
  auditVerify: { kind: 'audit' },
  auditCheckpoints: { kind: 'audit' },
  cameras: { list: 'camera' },
  camera: { param: 'id', from: 'camera', resource: 'camera' },
  cameraCreate: { none: 'registers a new camera (technicians)' },
  cameraUpdate: { param: 'id', from: 'camera', resource: 'camera' },
  cameraDelete: { param: 'id', from: 'camera', resource: 'camera' },
  cameraSnapshot: { param: 'id', from: 'camera', resource: 'snapshot' },
  cameraClipCreate: { param: 'id', from: 'camera', resource: 'recording' },
  cameraClips: { param: 'id', from: 'camera', resource: 'clip' },
  clip: { param: 'id', from: 'clip', resource: 'clip' },
  clipVideo: { param: 'id', from: 'clip', resource: 'clip' },
  clipSnapshot: { param: 'id', from: 'clip', resource: 'clip' },
  cameraProbe: { none: 'probes a URL the technician typed, not a registered camera' },
  cameraImportCheck: { none: 'checks a CSV the technician sent' },
  cameraImport: { none: 'registers new cameras (technicians)' },
  vehicles: { none: 'the fleet on the map, the same for every console' },
  feeds: { none: 'feed status' },
  geoLocate: { none: 'map geography from the assets' },
  geoLayer: { none: 'map geography from the assets' },
  geoGlyphs: { none: 'map label glyphs' },
  incidents: { list: 'incident' },
  incident: { param: 'id', from: 'incident', resource: 'incident' },
  incidentUpdate: { param: 'id', from: 'incident', resource: 'incident' },
  incidentCap: { param: 'id', from: 'incident', resource: 'incident' },
  alertAck: { param: 'id', from: 'alert', resource: 'alert' },
  alertEscalate: { param: 'id', from: 'alert', resource: 'alert' },
  testAlert: { none: "the admin's test alert" },
  testAlertClear: { none: "the admin's test alert" },
  cameraLive: { param: 'id', from: 'camera', resource: 'live-video' },
  cameraPlayback: { param: 'id', from: 'camera', resource: 'recording' },
  cameraRecording: { param: 'id', from: 'camera', resource: 'recording' },
  wallPrefs: { none: "the user's own console preferences" },
  wallPrefsPut: { none: "the user's own console preferences" },
  wallGroups: { list: 'camera' },
  incidentEvidence: { param: 'id', from: 'incident', resource: 'incident' },
  evidenceHolds: { none: 'footage holds, for roles that see every camera (operators, reviewers)' },
  evidenceHoldCreate: { none: 'places a footage hold (reviewers, who see every camera)' },
  evidenceHoldLift: { none: 'lifts a footage hold (reviewers, who see every camera)' },
  statisticsMonths: { none: 'aggregate monthly statistics, no place or person (admin)' },
  statisticsPreview: { none: 'aggregate monthly statistics, no place or person (admin)' },
  statisticsPublish: { none: 'publishes aggregate monthly statistics (admin)' },
  publicStatistics: { none: 'published monthly statistics, public by design (no cell under 5, no free text)' },
  publicStatisticsFile: { none: 'published monthly statistics, public by design (no cell under 5, no free text)' },
  smsInbound: { none: 'authenticated by the Twilio signature; files a rider text, shows nothing' },
  smsConversations: { list: 'incident' },
  smsConversation: { handler: 'incident', why: 'a conversation is seen where its incident is' },
  smsReply: { handler: 'incident', why: 'a conversation is seen where its incident is' },
  smsReveal: { handler: 'incident', why: 'a conversation is seen where its incident is' },
  smsShare: { handler: 'incident', why: 'a conversation is seen where its incident is' },
  smsBlock: { handler: 'incident', why: 'a conversation is seen where its incident is' },
  alerts: { list: 'alert' },
  alert: { param: 'id', from: 'alert', resource: 'alert' },
  alertSnapshot: { param: 'id', from: 'alert', resource: 'alert' },
  cameraZones: { param: 'id', from: 'camera', resource: 'camera' },
  cameraPrivacyMasks: { param: 'id', from: 'camera', resource: 'camera' },
  cameraZonesPut: { param: 'id', from: 'camera', resource: 'camera' },
  zoneOccupancy: { param: 'id', from: 'camera', resource: 'camera' },
  analyticsModels: { none: 'the box-wide model choices and the model list, not tied to a camera' },
  analyticsDetectorPut: { none: 'changes the box-wide default detector (technicians), not tied to a camera' },
  analyticsFightPut: { none: 'changes the box-wide fight classifier (technicians), not tied to a camera' },
  cameraModel: { param: 'id', from: 'camera', resource: 'camera' },
  cameraModelPut: { param: 'id', from: 'camera', resource: 'camera' },
  reviewIncidents: { list: 'incident' },
  reviewPrecision: { none: 'aggregate precision figures, no incident detail' },
  reviewBundle: { param: 'id', from: 'incident', resource: 'incident' },
  reviewClip: { param: 'id', from: 'incident', resource: 'incident' },
  reviewVerdict: { param: 'id', from: 'incident', resource: 'incident' },
  reviewNote: { param: 'id', from: 'incident', resource: 'incident' },
  reviewExport: { param: 'id', from: 'incident', resource: 'evidence' },
  evidenceExport: { kind: 'evidence' },
  evidencePackage: { kind: 'evidence' },
  evidencePublicPackage: { kind: 'evidence' },
  cameraDetections: { param: 'id', from: 'camera', resource: 'recording' },
  nodes: { none: 'the analytics nodes and which one runs each camera: infrastructure, for technicians and admins, who see every camera' },
  nodeCreate: { none: ADMIN },
  nodeRevoke: { none: ADMIN },
};
