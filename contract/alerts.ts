import { z } from 'zod';
import { Placement } from './vehicles';

/**
 * Alerts: what analytics raises and what incidents, liaison push and review
 * consume (issues 7, 8). The one shape every producer and consumer agrees on; producers
 * publish it on the core's domain bus, and only the delivery module (core/alerts/deliver.ts)
 * puts it on sockets, so scoping by role, district and line lives in one place.
 */
/**
 * `rider-report`: a rider's text (core/sms), placed by what it says rather than by a camera.
 * `intrusion`: a person in a track-bed zone; `loitering`: a person staying in a zone too long;
 * `unattended-object`: a bag left with nobody near; `person-down`: a person who fell and stays
 * down; `crowd-surge`: a zone's occupancy rising fast.
 */
export const AlertKind = z.enum([
  'crowding',
  'barrier',
  'fight',
  'rider-report',
  'intrusion',
  'loitering',
  'unattended-object',
  'person-down',
  'crowd-surge',
]);
export type AlertKind = z.infer<typeof AlertKind>;

/** What the console calls each kind (the alert queue, the map, review): one table, so they agree. */
export const ALERT_KIND_LABEL: Record<AlertKind, string> = {
  crowding: 'Crowding',
  barrier: 'Operator barrier',
  fight: 'Possible fight',
  'rider-report': 'Rider text',
  intrusion: 'Track intrusion',
  loitering: 'Loitering',
  'unattended-object': 'Unattended object',
  'person-down': 'Person down',
  'crowd-surge': 'Crowd surge',
};

/** Where an alert happened, in the terms a liaison is scoped by. */
export const AlertScope = z.strictObject({
  /** The map placement (district, community area, nearest station, the vehicle it moves with). */
  placement: Placement.nullable(),
  /** CPD district number ("1".."25"), when known. */
  district: z.string().nullable(),
  /** 'L' lines (contract RAIL_LINES codes) the camera's station or railcar serves. */
  lines: z.array(z.string()),
  /** Bus routes the camera's bus is running, when known. */
  routes: z.array(z.string()),
});
export type AlertScope = z.infer<typeof AlertScope>;

export const Alert = z.strictObject({
  id: z.string(),
  kind: AlertKind,
  cameraId: z.string(),
  cameraName: z.string(),
  /** The zone the rule fired in; null for a whole-frame rule. */
  zoneId: z.string().nullable(),
  zoneName: z.string().nullable(),
  /** 0..1: confidence for fights, occupancy/capacity for crowding, dwell/threshold for breaches. */
  score: z.number(),
  startedAt: z.string(),
  /** Set when the condition cleared (crowding below 80 %, the person left the zone...). */
  endedAt: z.string().nullable(),
  /** Path of the JPEG (frame with boxes) under the API, or null when none was kept. */
  snapshotUrl: z.string().nullable(),
  trackIds: z.array(z.number().int()),
  /** Rule-specific figures for the console (people count, capacity, dwell ms...). */
  detail: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])),
  scope: AlertScope,
});
export type Alert = z.infer<typeof Alert>;
