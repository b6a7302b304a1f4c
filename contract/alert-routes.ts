import { z } from 'zod';
import { Alert, AlertKind } from './alerts';
import type { Role } from './auth';
import { CameraZones, OccupancySeries, Point, ZonesFile } from './zones';

/**
 * Alert and zone routes, spread into the route table in api.ts. Alerts are read
 * by everyone who works the queue; a liaison's list is filtered to their scope by the core.
 * Zones are drawn by technicians.
 */
const READERS: readonly Role[] = ['operator', 'reviewer', 'liaison', 'technician', 'admin'];
const ZONE_READERS: readonly Role[] = ['operator', 'reviewer', 'technician', 'admin'];
const ZONE_WRITERS: readonly Role[] = ['technician', 'admin'];

/** `?limit=&cameraId=&kind=&afterSeq=`: newest first; with afterSeq, what came after it, oldest first. */
export const AlertListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cameraId: z.string().min(1).max(100).optional(),
  kind: AlertKind.optional(),
  afterSeq: z.coerce.number().int().min(0).optional(),
});
export type AlertListQuery = z.infer<typeof AlertListQuery>;

export const AlertListEntry = z.strictObject({ seq: z.number().int(), alert: Alert });
export const AlertList = z.strictObject({ alerts: z.array(AlertListEntry) });
export type AlertList = z.infer<typeof AlertList>;

/** `?minutes=` of history (default 60, at most 24 h). */
export const OccupancyQuery = z.strictObject({ minutes: z.coerce.number().min(1).max(1440).optional() });

/** A camera's privacy masks alone: what every viewer's player covers, without the rule zones. */
export const PrivacyMaskList = z.strictObject({ cameraId: z.string(), masks: z.array(z.array(Point)) });
export type PrivacyMaskList = z.infer<typeof PrivacyMaskList>;

export const alertRoutes = {
  alerts: { method: 'GET', path: '/api/v1/alerts', response: AlertList, roles: READERS },
  alert: { method: 'GET', path: '/api/v1/alerts/:id', response: Alert, roles: READERS },
  /** image/jpeg: the analysed frame with the zone and the people boxed. */
  alertSnapshot: { method: 'GET', path: '/api/v1/alerts/:id/snapshot.jpg', response: z.unknown(), roles: READERS },
  cameraZones: { method: 'GET', path: '/api/v1/cameras/:id/zones', response: CameraZones, roles: ZONE_READERS },
  cameraPrivacyMasks: { method: 'GET', path: '/api/v1/cameras/:id/privacy-masks', response: PrivacyMaskList, roles: READERS },
  /** Replaces the camera's zones (the whole list, checked as one ZONES.json document). */
  cameraZonesPut: { method: 'PUT', path: '/api/v1/cameras/:id/zones', response: CameraZones, body: ZonesFile, roles: ZONE_WRITERS },
  zoneOccupancy: { method: 'GET', path: '/api/v1/cameras/:id/zones/:zoneId/occupancy', response: OccupancySeries, roles: READERS },
} as const;
