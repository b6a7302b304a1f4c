import { z } from 'zod';
import type { Role } from './auth';

/**
 * Automatic evidence: the clip every alert gets, and the evidence holds that keep footage
 * out of retention's reach. Liaisons see clips through incidents' own routes; these are the
 * control center's.
 */
export const AlertClipState = z.enum(['pending', 'ready', 'failed']);
export type AlertClipState = z.infer<typeof AlertClipState>;

/** One alert's clip: pending while the post-roll is recorded and the clip cut, then ready (with its hash) or failed (why). */
export const AlertClip = z.strictObject({
  alertId: z.string(),
  cameraId: z.string(),
  /** The window asked for (alert start minus pre-roll to plus post-roll), ISO times. */
  from: z.string(),
  to: z.string(),
  state: AlertClipState,
  clipId: z.string().nullable(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  error: z.string().nullable(),
  updatedAt: z.string(),
});
export type AlertClip = z.infer<typeof AlertClip>;

export const EvidenceHold = z.strictObject({
  id: z.number().int(),
  cameraId: z.string(),
  from: z.string(),
  to: z.string(),
  /** 'alert': placed automatically for an alert (ref = alert id), lifted when nothing refers to it; 'manual': by a person. */
  kind: z.enum(['alert', 'manual']),
  ref: z.string(),
  reason: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  liftedAt: z.string().nullable(),
  liftedBy: z.string().nullable(),
  liftReason: z.string().nullable(),
});
export type EvidenceHold = z.infer<typeof EvidenceHold>;

export const IncidentEvidence = z.strictObject({ clips: z.array(AlertClip), holds: z.array(EvidenceHold) });
export type IncidentEvidence = z.infer<typeof IncidentEvidence>;
export const EvidenceHoldList = z.strictObject({ holds: z.array(EvidenceHold) });

const Instant = z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]);
export const EvidenceHoldCreate = z.strictObject({
  cameraId: z.string().min(1).max(100),
  from: Instant,
  to: Instant,
  /** A case or request number the footage is kept for. */
  ref: z.string().trim().min(1).max(200),
  reason: z.string().trim().min(1).max(2000),
});
export type EvidenceHoldCreate = z.input<typeof EvidenceHoldCreate>;
export const EvidenceHoldLift = z.strictObject({ reason: z.string().trim().min(1, 'say why the footage may be deleted').max(2000) });
export type EvidenceHoldLift = z.input<typeof EvidenceHoldLift>;

const EVIDENCE_ROLES: readonly Role[] = ['operator', 'reviewer'];
/** Placing and lifting holds decides what footage survives: reviewers (and admins). */
const HOLDERS: readonly Role[] = ['reviewer'];

export const evidenceRoutes = {
  incidentEvidence: { method: 'GET', path: '/api/v1/incidents/:id/evidence', response: IncidentEvidence, roles: EVIDENCE_ROLES },
  /** ?active=false also lists lifted holds. */
  evidenceHolds: { method: 'GET', path: '/api/v1/evidence/holds', response: EvidenceHoldList, roles: EVIDENCE_ROLES },
  evidenceHoldCreate: { method: 'POST', path: '/api/v1/evidence/holds', response: EvidenceHold, body: EvidenceHoldCreate, roles: HOLDERS },
  evidenceHoldLift: {
    method: 'POST',
    path: '/api/v1/evidence/holds/:id/lift',
    response: EvidenceHold,
    body: EvidenceHoldLift,
    roles: HOLDERS,
  },
} as const;
