import type { EvidenceExport, PublicCopy, VerdictValue } from '../../contract/review';

/** The tables the review feature owns, as stored (core/db/migrations/0008_review.ts, 0015 and 0021; core/db/postgres/0020_baseline.ts and 0021). */
export interface ReviewTables {
  verdicts: {
    incident_id: string;
    verdict: VerdictValue;
    reason: string;
    by_user: string;
    at: string;
  };
  review_notes: {
    id: string;
    incident_id: string;
    author: string;
    text: string;
    at: string;
  };
  evidence_exports: {
    id: string;
    incident_id: string;
    state: EvidenceExport['state'];
    path: string | null;
    bytes: number | null;
    sha256: string | null;
    fingerprint: string | null;
    error: string | null;
    created_by: string;
    created_at: string;
    public_state: PublicCopy['state'] | null;
    /** JSON: { subjects, mode }. */
    public_request: string | null;
    public_path: string | null;
    public_bytes: number | null;
    public_sha256: string | null;
    /** JSON: { boxes, framesWithoutDetections }. */
    public_report: string | null;
    public_error: string | null;
    /** The cluster replica id of the core building it (null before migration 0021). */
    builder: string | null;
    /** Epoch ms (BIGINT) of the builder's last sign of life, by its clock; null before migration 0021. */
    heartbeat_at_ms: number | null;
  };
  /** Stored detections per analysed frame, drawn over clips and used for redaction. */
  detections: {
    camera_id: string;
    t_ms: number;
    /** JSON DetectionTrack[]. */
    tracks: string;
  };
}
