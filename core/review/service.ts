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
import { typed, type SqlDb } from '../db/sql';
import { SentinelError } from '../errors';
import type { ReviewTables } from './tables';

type VerdictRow = ReviewTables['verdicts'];
type ExportRow = ReviewTables['evidence_exports'];

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

/** Verdicts, notes, exports and the reviewer's filtered list, in either database. */
export class ReviewStore {
  /** Progress of exports being built (not worth a write per chunk). */
  private readonly progress = new Map<string, { done: number; total: number }>();

  constructor(private readonly db: SqlDb) {}

  private get q() {
    return this.db.as<ReviewTables>();
  }

  async verdict(incidentId: string): Promise<Verdict | null> {
    const r = await this.q.selectFrom('verdicts').selectAll().where('incident_id', '=', incidentId).executeTakeFirst();
    return r ? toVerdict(r) : null;
  }

  async setVerdict(incidentId: string, verdict: VerdictValue, reason: string, by: string): Promise<Verdict> {
    if (verdict === 'false-alarm' && reason.trim() === '')
      throw new SentinelError('say why it is a false alarm: the reason is what tunes the rule', 'validation_failed', 'reason');
    const r = await this.q
      .insertInto('verdicts')
      .values({ incident_id: incidentId, verdict, reason: reason.trim(), by_user: by, at: new Date().toISOString() })
      .onConflict((oc) =>
        oc.column('incident_id').doUpdateSet((eb) => ({
          verdict: eb.ref('excluded.verdict'),
          reason: eb.ref('excluded.reason'),
          by_user: eb.ref('excluded.by_user'),
          at: eb.ref('excluded.at'),
        })),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return toVerdict(r);
  }

  async addNote(incidentId: string, author: string, text: string): Promise<ReviewNote> {
    const note: ReviewNote = { id: randomUUID(), incidentId, author, text, at: new Date().toISOString() };
    await this.q.insertInto('review_notes').values({ id: note.id, incident_id: incidentId, author, text, at: note.at }).execute();
    return note;
  }

  async notes(incidentId: string): Promise<ReviewNote[]> {
    // `id` breaks ties between notes of one millisecond, so the order is the same on both databases.
    const rows = await this.q
      .selectFrom('review_notes')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: r.id, incidentId: r.incident_id, author: r.author, text: r.text, at: r.at }));
  }

  /** Every verdict by incident id, in one query (lists and precision need them all). */
  private async verdictMap(): Promise<Map<string, Verdict>> {
    const rows = await this.q.selectFrom('verdicts').selectAll().execute();
    return new Map(rows.map((r) => [r.incident_id, toVerdict(r)]));
  }

  /** Filters the incidents (already read by the caller) and attaches verdicts. */
  async filter(incidents: Incident[], q: ReviewListQuery): Promise<{ incident: Incident; verdict: Verdict | null }[]> {
    const verdicts = await this.verdictMap();
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
  async precision(incidents: Incident[]): Promise<PrecisionReport> {
    const counts = new Map(AlertKind.options.map((k) => [k, { t: 0, f: 0, u: 0 }]));
    const verdicts = await this.verdictMap();
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

  async createExport(incidentId: string, by: string, publicCopy?: { subjects: number[]; mode: RedactionMode }): Promise<EvidenceExport> {
    const r = await this.q
      .insertInto('evidence_exports')
      .values({
        id: randomUUID(),
        incident_id: incidentId,
        state: 'building',
        created_by: by,
        created_at: new Date().toISOString(),
        public_state: publicCopy ? 'building' : null,
        public_request: publicCopy ? JSON.stringify(publicCopy) : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    this.progress.set(r.id, { done: 0, total: 0 });
    return this.toExport(r);
  }

  setProgress(id: string, done: number, total: number): void {
    this.progress.set(id, { done, total });
  }

  async finishExport(
    id: string,
    r: { path: string; bytes: number; sha256: string; fingerprint: string } | { error: string },
  ): Promise<EvidenceExport> {
    const set = 'error' in r ? { state: 'failed' as const, error: r.error } : { state: 'ready' as const, ...r };
    const row = await this.q.updateTable('evidence_exports').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    this.progress.delete(id);
    return this.toExport(row);
  }

  async finishPublicCopy(id: string, r: PublicCopyResult | { error: string }): Promise<EvidenceExport> {
    const set =
      'error' in r
        ? { public_state: 'failed' as const, public_error: r.error }
        : {
            public_state: 'ready' as const,
            public_path: r.path,
            public_bytes: r.bytes,
            public_sha256: r.sha256,
            public_report: JSON.stringify({ boxes: r.boxes, framesWithoutDetections: r.framesWithoutDetections }),
          };
    const row = await this.q.updateTable('evidence_exports').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    return this.toExport(row);
  }

  async exportRow(id: string): Promise<ExportRow | null> {
    return (await this.q.selectFrom('evidence_exports').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  async export(id: string): Promise<EvidenceExport | null> {
    const r = await this.exportRow(id);
    return r ? this.toExport(r) : null;
  }

  async exports(incidentId: string): Promise<EvidenceExport[]> {
    const rows = await this.q
      .selectFrom('evidence_exports')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map((r) => this.toExport(r));
  }

  /** An export left 'building' by a crash can never finish: say so instead of spinning forever. */
  async failInterrupted(): Promise<void> {
    await this.db.transaction(async (trx) => {
      const q = typed<ReviewTables>(trx);
      await q
        .updateTable('evidence_exports')
        .set({ state: 'failed', error: 'the core stopped while this package was being built; export again' })
        .where('state', '=', 'building')
        .execute();
      await q
        .updateTable('evidence_exports')
        .set({ public_state: 'failed', public_error: 'the core stopped while the public copy was being built; export again' })
        .where('public_state', '=', 'building')
        .execute();
    });
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
