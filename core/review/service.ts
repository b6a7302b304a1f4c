import { randomUUID } from 'node:crypto';
import { AlertKind, type Incident } from '../../contract';
import type {
  EvidenceExport,
  PrecisionReport,
  PublicCopy,
  RedactionMode,
  ReviewListQuery,
  ReviewNote,
  Verdict,
  VerdictValue,
} from '../../contract/review';
import type { Database } from '../db/database';
import { SentinelError } from '../errors';

interface VerdictRow {
  incident_id: string;
  verdict: VerdictValue;
  reason: string;
  by_user: string;
  at: string;
}

interface ExportRow {
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
}

export interface PublicCopyResult {
  path: string;
  bytes: number;
  sha256: string;
  boxes: number;
  framesWithoutDetections: number;
}

const toVerdict = (r: VerdictRow): Verdict => ({
  incidentId: r.incident_id,
  verdict: r.verdict,
  reason: r.reason,
  by: r.by_user,
  at: r.at,
});

/** Verdicts, notes, exports and the reviewer's filtered list. */
export class ReviewStore {
  /** Progress of exports being built (not worth a write per chunk). */
  private readonly progress = new Map<string, { done: number; total: number }>();

  constructor(private readonly db: Database) {}

  verdict(incidentId: string): Verdict | null {
    const r = this.db.prepare('SELECT * FROM verdicts WHERE incident_id = ?').get(incidentId) as VerdictRow | undefined;
    return r ? toVerdict(r) : null;
  }

  setVerdict(incidentId: string, verdict: VerdictValue, reason: string, by: string): Verdict {
    if (verdict === 'false-alarm' && reason.trim() === '')
      throw new SentinelError('say why it is a false alarm: the reason is what tunes the rule', 'validation_failed', 'reason');
    this.db
      .prepare(
        'INSERT INTO verdicts (incident_id, verdict, reason, by_user, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET verdict = excluded.verdict, reason = excluded.reason, by_user = excluded.by_user, at = excluded.at',
      )
      .run(incidentId, verdict, reason.trim(), by, new Date().toISOString());
    return this.verdict(incidentId)!;
  }

  addNote(incidentId: string, author: string, text: string): ReviewNote {
    const note: ReviewNote = { id: randomUUID(), incidentId, author, text, at: new Date().toISOString() };
    this.db
      .prepare('INSERT INTO review_notes (id, incident_id, author, text, at) VALUES (?, ?, ?, ?, ?)')
      .run(note.id, incidentId, author, text, note.at);
    return note;
  }

  notes(incidentId: string): ReviewNote[] {
    return (
      this.db.prepare('SELECT * FROM review_notes WHERE incident_id = ? ORDER BY at').all(incidentId) as {
        id: string;
        incident_id: string;
        author: string;
        text: string;
        at: string;
      }[]
    ).map((r) => ({ id: r.id, incidentId: r.incident_id, author: r.author, text: r.text, at: r.at }));
  }

  /** Every verdict by incident id, in one query (lists and precision need them all). */
  private verdictMap(): Map<string, Verdict> {
    return new Map((this.db.prepare('SELECT * FROM verdicts').all() as VerdictRow[]).map((r) => [r.incident_id, toVerdict(r)]));
  }

  /** Filters the incidents (already read by the caller) and attaches verdicts. */
  filter(incidents: Incident[], q: ReviewListQuery): { incident: Incident; verdict: Verdict | null }[] {
    const verdicts = this.verdictMap();
    const from = q.from ? Date.parse(q.from) : -Infinity;
    const to = q.to ? Date.parse(q.to) : Infinity;
    const out: { incident: Incident; verdict: Verdict | null }[] = [];
    for (const inc of incidents) {
      const t = Date.parse(inc.createdAt);
      if (t < from || t > to) continue;
      if (q.kind && inc.kind !== q.kind) continue;
      if (q.state && inc.state !== q.state) continue;
      if (q.district && inc.scope.district !== q.district) continue;
      if (q.line && !inc.scope.lines.includes(q.line) && !inc.scope.routes.includes(q.line)) continue;
      const v = verdicts.get(inc.id) ?? null;
      if (q.verdict === 'none' ? v !== null : q.verdict ? v?.verdict !== q.verdict : false) continue;
      out.push({ incident: inc, verdict: v });
      if (out.length >= (q.limit ?? 500)) break;
    }
    return out;
  }

  /** Per rule: reviewed true / (true + false). A rule nobody reviewed has no precision yet. */
  precision(incidents: Incident[]): PrecisionReport {
    const counts = new Map(AlertKind.options.map((k) => [k, { t: 0, f: 0, u: 0 }]));
    const verdicts = this.verdictMap();
    for (const inc of incidents) {
      const c = counts.get(inc.kind)!;
      const v = verdicts.get(inc.id);
      if (!v) c.u++;
      else if (v.verdict === 'true-alarm') c.t++;
      else c.f++;
    }
    return {
      rules: [...counts].map(([kind, c]) => ({
        kind,
        trueAlarms: c.t,
        falseAlarms: c.f,
        unreviewed: c.u,
        precision: c.t + c.f > 0 ? c.t / (c.t + c.f) : null,
      })),
    };
  }

  createExport(incidentId: string, by: string, publicCopy?: { subjects: number[]; mode: RedactionMode }): EvidenceExport {
    const id = randomUUID();
    this.db
      .prepare(
        'INSERT INTO evidence_exports (id, incident_id, state, created_by, created_at, public_state, public_request) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        id,
        incidentId,
        'building',
        by,
        new Date().toISOString(),
        publicCopy ? 'building' : null,
        publicCopy ? JSON.stringify(publicCopy) : null,
      );
    this.progress.set(id, { done: 0, total: 0 });
    return this.export(id)!;
  }

  setProgress(id: string, done: number, total: number): void {
    this.progress.set(id, { done, total });
  }

  finishExport(id: string, r: { path: string; bytes: number; sha256: string; fingerprint: string } | { error: string }): EvidenceExport {
    if ('error' in r) this.db.prepare("UPDATE evidence_exports SET state = 'failed', error = ? WHERE id = ?").run(r.error, id);
    else
      this.db
        .prepare("UPDATE evidence_exports SET state = 'ready', path = ?, bytes = ?, sha256 = ?, fingerprint = ? WHERE id = ?")
        .run(r.path, r.bytes, r.sha256, r.fingerprint, id);
    this.progress.delete(id);
    return this.export(id)!;
  }

  finishPublicCopy(id: string, r: PublicCopyResult | { error: string }): EvidenceExport {
    if ('error' in r)
      this.db.prepare("UPDATE evidence_exports SET public_state = 'failed', public_error = ? WHERE id = ?").run(r.error, id);
    else
      this.db
        .prepare(
          "UPDATE evidence_exports SET public_state = 'ready', public_path = ?, public_bytes = ?, public_sha256 = ?, public_report = ? WHERE id = ?",
        )
        .run(r.path, r.bytes, r.sha256, JSON.stringify({ boxes: r.boxes, framesWithoutDetections: r.framesWithoutDetections }), id);
    return this.export(id)!;
  }

  exportRow(id: string): ExportRow | null {
    return (this.db.prepare('SELECT * FROM evidence_exports WHERE id = ?').get(id) as ExportRow | undefined) ?? null;
  }

  export(id: string): EvidenceExport | null {
    const r = this.exportRow(id);
    return r ? this.toExport(r) : null;
  }

  exports(incidentId: string): EvidenceExport[] {
    return (
      this.db.prepare('SELECT * FROM evidence_exports WHERE incident_id = ? ORDER BY created_at DESC').all(incidentId) as ExportRow[]
    ).map((r) => this.toExport(r));
  }

  /** An export left 'building' by a crash can never finish: say so instead of spinning forever. */
  failInterrupted(): void {
    this.db
      .prepare(
        "UPDATE evidence_exports SET state = 'failed', error = 'the core stopped while this package was being built; export again' WHERE state = 'building'",
      )
      .run();
    this.db
      .prepare(
        "UPDATE evidence_exports SET public_state = 'failed', public_error = 'the core stopped while the public copy was being built; export again' WHERE public_state = 'building'",
      )
      .run();
  }

  private toExport(r: ExportRow): EvidenceExport {
    const p = this.progress.get(r.id);
    const bytes = r.bytes ?? null;
    return {
      id: r.id,
      incidentId: r.incident_id,
      state: r.state,
      done: p?.done ?? bytes ?? 0,
      total: p?.total ?? bytes ?? 0,
      bytes,
      sha256: r.sha256,
      fingerprint: r.fingerprint,
      error: r.error,
      createdBy: r.created_by,
      createdAt: r.created_at,
      publicCopy: publicCopyOf(r),
    };
  }
}

function publicCopyOf(r: ExportRow): PublicCopy | null {
  if (!r.public_state) return null;
  const req = JSON.parse(r.public_request ?? '{}') as { subjects?: number[]; mode?: RedactionMode };
  const rep = r.public_report ? (JSON.parse(r.public_report) as { boxes: number; framesWithoutDetections: number }) : null;
  return {
    state: r.public_state,
    subjects: req.subjects ?? [],
    mode: req.mode ?? 'people',
    bytes: r.public_bytes,
    sha256: r.public_sha256,
    boxes: rep?.boxes ?? null,
    framesWithoutDetections: rep?.framesWithoutDetections ?? null,
    error: r.public_error,
  };
}
