import { z } from 'zod';
import { AlertKind } from './alerts';
import type { Role } from './auth';
import { Clip } from './cameras';
import { Incident, IncidentState } from './incidents';

/**
 * Review: reviewers replay an incident's clip with the stored detections drawn
 * over it, give a verdict that feeds each rule's precision, write notes, and export signed
 * evidence. Spread into the route table in api.ts.
 */
const REVIEWERS: readonly Role[] = ['reviewer'];
const REVIEW_READERS: readonly Role[] = ['reviewer', 'operator'];

/** One analysed frame of a camera as stored for replay: tracks in normalised 0..1 coordinates. */
export const DetectionTrack = z.strictObject({
  id: z.number().int(),
  /** [x1, y1, x2, y2], fractions of the frame's width and height. */
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  score: z.number(),
  /** Zone ids the track is in. */
  zones: z.array(z.string()),
});
export type DetectionTrack = z.infer<typeof DetectionTrack>;

export const DetectionFrame = z.strictObject({
  /** Capture time, ms since the epoch. */
  t: z.number(),
  tracks: z.array(DetectionTrack),
});
export type DetectionFrame = z.infer<typeof DetectionFrame>;

export const DetectionRange = z.strictObject({ cameraId: z.string(), from: z.number(), to: z.number(), frames: z.array(DetectionFrame) });
export type DetectionRange = z.infer<typeof DetectionRange>;
export const DetectionQuery = z.strictObject({ from: z.coerce.number().int().min(0), to: z.coerce.number().int().min(0) });

export const VerdictValue = z.enum(['true-alarm', 'false-alarm']);
export type VerdictValue = z.infer<typeof VerdictValue>;
export const VerdictRequest = z.strictObject({
  verdict: VerdictValue,
  /** Why: required for a false alarm (it is what tunes the rule). */
  reason: z.string().trim().max(2000).default(''),
});
export type VerdictRequest = z.input<typeof VerdictRequest>;
export const Verdict = z.strictObject({
  incidentId: z.string(),
  verdict: VerdictValue,
  reason: z.string(),
  by: z.string(),
  at: z.string(),
});
export type Verdict = z.infer<typeof Verdict>;

export const ReviewNote = z.strictObject({ id: z.string(), incidentId: z.string(), author: z.string(), text: z.string(), at: z.string() });
export type ReviewNote = z.infer<typeof ReviewNote>;
export const ReviewNoteRequest = z.strictObject({ text: z.string().trim().min(1, 'a note needs some text').max(4000) });

/** Alert marks on the timeline, as ms since the epoch. */
export const ReviewAlertMark = z.strictObject({
  id: z.string(),
  kind: AlertKind,
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  score: z.number(),
  zoneId: z.string().nullable(),
});

export const ReviewBundle = z.strictObject({
  incident: Incident,
  alerts: z.array(ReviewAlertMark),
  clips: z.array(Clip),
  verdict: Verdict.nullable(),
  notes: z.array(ReviewNote),
  exports: z.array(z.lazy(() => EvidenceExport)),
});
export type ReviewBundle = z.infer<typeof ReviewBundle>;

/** `GET /review/incidents`: filters for the reviewer's list. */
export const ReviewListQuery = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  kind: AlertKind.optional(),
  /** An 'L' line code or a bus route. */
  line: z.string().min(1).max(16).optional(),
  district: z
    .string()
    .regex(/^\d{1,2}$/)
    .optional(),
  verdict: z.enum(['true-alarm', 'false-alarm', 'none']).optional(),
  state: IncidentState.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export type ReviewListQuery = z.infer<typeof ReviewListQuery>;
export const ReviewListEntry = z.strictObject({ incident: Incident, verdict: Verdict.nullable() });
export const ReviewList = z.strictObject({ incidents: z.array(ReviewListEntry) });
export type ReviewList = z.infer<typeof ReviewList>;

/** Precision per rule from reviewers' verdicts: true / (true + false). */
export const RulePrecision = z.strictObject({
  kind: AlertKind,
  trueAlarms: z.number().int(),
  falseAlarms: z.number().int(),
  unreviewed: z.number().int(),
  precision: z.number().nullable(),
});
export const PrecisionReport = z.strictObject({ rules: z.array(RulePrecision) });
export type PrecisionReport = z.infer<typeof PrecisionReport>;

export const EvidenceExportState = z.enum(['building', 'ready', 'failed']);

/**
 * The public copy of an export: the clips and snapshots re-encoded with every person
 * pixelated except the subjects the reviewer marked (track ids of the stored detections), and
 * the camera's privacy masks burned in. `all-but-subjects` pixelates the whole picture but the
 * subjects, for footage where a missed detection must not show anyone.
 */
export const RedactionMode = z.enum(['people', 'all-but-subjects']);
export type RedactionMode = z.infer<typeof RedactionMode>;
export const PublicCopyRequest = z.strictObject({
  subjects: z.array(z.number().int().min(0)).max(50, 'mark at most 50 subjects'),
  mode: RedactionMode.default('people'),
});
export const EvidenceExportRequest = z.strictObject({
  /** Also build a redacted public copy, signed like the original and naming its hash. */
  publicCopy: PublicCopyRequest.optional(),
});
export type EvidenceExportRequest = z.input<typeof EvidenceExportRequest>;
export const PublicCopy = z.strictObject({
  state: EvidenceExportState,
  subjects: z.array(z.number().int()),
  mode: RedactionMode,
  bytes: z.number().int().nullable(),
  sha256: z.string().nullable(),
  /** Person boxes pixelated over all frames, and frames that had no stored detection nearby. */
  boxes: z.number().int().nullable(),
  framesWithoutDetections: z.number().int().nullable(),
  error: z.string().nullable(),
});
export type PublicCopy = z.infer<typeof PublicCopy>;

export const EvidenceExport = z.strictObject({
  id: z.string(),
  incidentId: z.string(),
  state: EvidenceExportState,
  /** Bytes written so far and the expected total (progress while building). */
  done: z.number().int(),
  total: z.number().int(),
  bytes: z.number().int().nullable(),
  sha256: z.string().nullable(),
  /** The signing key's fingerprint, to compare with the installation's published one. */
  fingerprint: z.string().nullable(),
  error: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  /** null when no public copy was asked for. */
  publicCopy: PublicCopy.nullable(),
});
export type EvidenceExport = z.infer<typeof EvidenceExport>;

/** The clip to cut for an incident: its first alert minus pre-roll to its last plus post-roll. */
export const IncidentClipResponse = Clip;

export const reviewRoutes = {
  reviewIncidents: { method: 'GET', path: '/api/v1/review/incidents', response: ReviewList, roles: REVIEW_READERS },
  reviewPrecision: { method: 'GET', path: '/api/v1/review/precision', response: PrecisionReport, roles: REVIEW_READERS },
  reviewBundle: { method: 'GET', path: '/api/v1/review/incidents/:id', response: ReviewBundle, roles: REVIEW_READERS },
  reviewClip: { method: 'POST', path: '/api/v1/review/incidents/:id/clip', response: IncidentClipResponse, roles: REVIEWERS },
  reviewVerdict: { method: 'PUT', path: '/api/v1/review/incidents/:id/verdict', response: Verdict, body: VerdictRequest, roles: REVIEWERS },
  reviewNote: {
    method: 'POST',
    path: '/api/v1/review/incidents/:id/notes',
    response: ReviewNote,
    body: ReviewNoteRequest,
    roles: REVIEWERS,
  },
  reviewExport: {
    method: 'POST',
    path: '/api/v1/review/incidents/:id/evidence',
    response: EvidenceExport,
    body: EvidenceExportRequest,
    roles: REVIEWERS,
  },
  evidenceExport: { method: 'GET', path: '/api/v1/evidence/:id', response: EvidenceExport, roles: REVIEWERS },
  /** application/zip: the signed package (every download audited). */
  evidencePackage: { method: 'GET', path: '/api/v1/evidence/:id/package.zip', response: z.unknown(), roles: REVIEWERS },
  /** application/zip: the redacted public copy (every download audited). */
  evidencePublicPackage: { method: 'GET', path: '/api/v1/evidence/:id/public.zip', response: z.unknown(), roles: REVIEWERS },
  cameraDetections: { method: 'GET', path: '/api/v1/cameras/:id/detections', response: DetectionRange, roles: REVIEW_READERS },
} as const;

export function reviewPath(path: string, id: string): string {
  return path.replace(':id', encodeURIComponent(id));
}
