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
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
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

/** How often a replica renews the heartbeat of the exports it is building. */
export const EXPORT_HEARTBEAT_EVERY_MS = 5_000;
/**
 * A building export whose heartbeat is older than this is abandoned: six missed heartbeats, so
 * a replica stalled for a few seconds (a slow disk, a busy database) does not lose its builds,
 * and far above the skew of NTP-synchronised replicas (the heartbeat is the builder's clock,
 * the check the sweeper's, as with the leases).
 */
export const EXPORT_STALE_AFTER_MS = 30_000;

const PACKAGE_ABANDONED = 'the core stopped while this package was being built; export again';
const PUBLIC_COPY_ABANDONED = 'the core stopped while the public copy was being built; export again';

/** Who builds this store's exports, and how they prove they are still being built. */
export interface ExportLiveness {
  /** This core's replica id (core/cluster): the builder named on the exports it builds. */
  replicaId: string;
  heartbeatEveryMs?: number;
  staleAfterMs?: number;
  /** A heartbeat that could not be written (the database away); the next one tries again. */
  onError?: (err: unknown) => void;
}

/**
 * Verdicts, notes, exports and the reviewer's filtered list, in either database.
 *
 * Several core replicas share the database (docs/scale.md), so an export in state 'building'
 * may be a live build on another replica as well as a crash's leftover. Each export row names
 * its builder (the replica id) and carries a heartbeat the builder renews every few seconds
 * while the package or its public copy is being made; only an export whose heartbeat is older
 * than `staleAfterMs` is failed (`failAbandoned`, a leased job in the review feature, and at
 * start `failInterrupted`). A heartbeat on the row rather than a lease per export: nothing
 * takes an export over (a package half-written by a dead replica is failed and made again, not
 * resumed), so the leases' exclusive hand-over and fences would buy nothing; the row alone
 * says who builds it and whether they live, the sweep is one UPDATE over the rows in progress
 * (no lease rows to clean up after each export), and a core alone, whose leases are not
 * stored at all, works the same way.
 */
export class ReviewStore {
  /** Progress of exports being built (not worth a write per chunk). */
  private readonly progress = new Map<string, { done: number; total: number }>();
  /** Exports whose package or public copy this replica is building now: the ones it heartbeats. */
  private readonly building = new Set<string>();
  private readonly replicaId: string;
  private readonly heartbeatEveryMs: number;
  private readonly staleAfterMs: number;
  private readonly onError: (err: unknown) => void;
  private timer: NodeJS.Timeout | null = null;
  private beating = false;
  private stopped = false;

  constructor(
    private readonly db: SqlDb,
    liveness: ExportLiveness,
  ) {
    this.replicaId = liveness.replicaId;
    this.heartbeatEveryMs = liveness.heartbeatEveryMs ?? EXPORT_HEARTBEAT_EVERY_MS;
    this.staleAfterMs = liveness.staleAfterMs ?? EXPORT_STALE_AFTER_MS;
    this.onError = liveness.onError ?? (() => undefined);
  }

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
        builder: this.replicaId,
        heartbeat_at_ms: Date.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    this.progress.set(r.id, { done: 0, total: 0 });
    this.building.add(r.id);
    this.startHeartbeats();
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
    // Only a package still building ends here: one a sweep already failed (its heartbeat had
    // stopped) stays failed, as its reviewer was told.
    const row = await this.unlessFailing(
      id,
      async () =>
        (await this.q
          .updateTable('evidence_exports')
          .set(set)
          .where('id', '=', id)
          .where('state', '=', 'building')
          .returningAll()
          .executeTakeFirst()) ?? (await this.existing(id)),
    );
    this.progress.delete(id);
    this.settle(row);
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
    const row = await this.unlessFailing(
      id,
      async () =>
        (await this.q
          .updateTable('evidence_exports')
          .set(set)
          .where('id', '=', id)
          .where('public_state', '=', 'building')
          .returningAll()
          .executeTakeFirst()) ?? (await this.existing(id)),
    );
    this.settle(row);
    return this.toExport(row);
  }

  /**
   * An end that cannot be written (the database away) leaves the row 'building': this replica
   * stops heartbeating it, so the sweep fails it rather than a heartbeat keeping it alive forever.
   */
  private async unlessFailing(id: string, write: () => Promise<ExportRow>): Promise<ExportRow> {
    try {
      return await write();
    } catch (err) {
      this.building.delete(id);
      if (this.building.size === 0) this.stopTimer();
      throw err;
    }
  }

  private async existing(id: string): Promise<ExportRow> {
    const row = await this.exportRow(id);
    if (!row) throw new SentinelError(`no evidence export with id ${id}`, 'not_found', 'id');
    return row;
  }

  /** Stops heartbeating an export once neither its package nor its public copy is being built. */
  private settle(row: ExportRow): void {
    if (row.state === 'building' || row.public_state === 'building') return;
    this.building.delete(row.id);
    if (this.building.size === 0) this.stopTimer();
  }

  private startHeartbeats(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      // A heartbeat still under way (a slow database) is not doubled.
      if (this.beating) return;
      this.beating = true;
      void this.heartbeat()
        .catch((err: unknown) => this.onError(err))
        .finally(() => {
          this.beating = false;
        });
    }, this.heartbeatEveryMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Renews the heartbeat of every export this replica is building (the timer calls it); how many rows. */
  async heartbeat(now = Date.now()): Promise<number> {
    if (this.building.size === 0) return 0;
    const r = await this.q
      .updateTable('evidence_exports')
      .set({ heartbeat_at_ms: now })
      .where('id', 'in', [...this.building])
      .where('builder', '=', this.replicaId)
      .where((eb) => eb.or([eb('state', '=', 'building'), eb('public_state', '=', 'building')]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** No more heartbeats from this replica: what a crash looks like to the others. */
  stopHeartbeats(): void {
    this.stopped = true;
    this.stopTimer();
  }

  /**
   * An orderly shutdown: the builds under way here cannot finish once the process is gone, so
   * they fail now rather than after the stale bound. Stops the heartbeats.
   */
  async failOwn(): Promise<number> {
    this.stopHeartbeats();
    const ids = [...this.building];
    if (ids.length === 0) return 0;
    const n = await this.failWhere((eb) => eb.and([eb('id', 'in', ids), eb('builder', '=', this.replicaId)]));
    this.building.clear();
    return n;
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

  /**
   * At start: fails the exports whose builder is gone, those this replica id left building
   * before it restarted (a fixed `cluster.replicaId` comes back with nothing in progress), and
   * those of earlier Sentinels, which kept no heartbeat. Another replica's live builds stay.
   * How many exports were failed.
   */
  async failInterrupted(now = Date.now()): Promise<number> {
    const mine = [...this.building];
    return this.failWhere((eb) =>
      eb.or([
        ...this.staleHeartbeat(eb, now),
        mine.length > 0 ? eb.and([eb('builder', '=', this.replicaId), eb('id', 'not in', mine)]) : eb('builder', '=', this.replicaId),
      ]),
    );
  }

  /**
   * The periodic sweep: an export whose builder stopped heartbeating more than `staleAfterMs`
   * ago can never finish (that replica crashed or lost the database), so it says so instead
   * of spinning forever. How many exports were failed.
   */
  async failAbandoned(now = Date.now()): Promise<number> {
    return this.failWhere((eb) => eb.or(this.staleHeartbeat(eb, now)));
  }

  private staleHeartbeat(eb: ExpressionBuilder<ReviewTables, 'evidence_exports'>, now: number) {
    return [eb('heartbeat_at_ms', 'is', null), eb('heartbeat_at_ms', '<', now - this.staleAfterMs)];
  }

  /** Fails, among the exports in progress, the package and public copy of those `which` selects. */
  private async failWhere(which: (eb: ExpressionBuilder<ReviewTables, 'evidence_exports'>) => Expression<SqlBool>): Promise<number> {
    return this.db.transaction(async (trx) => {
      const q = typed<ReviewTables>(trx);
      const pkg = await q
        .updateTable('evidence_exports')
        .set({ state: 'failed', error: PACKAGE_ABANDONED })
        .where('state', '=', 'building')
        .where(which)
        .returning('id')
        .execute();
      const pub = await q
        .updateTable('evidence_exports')
        .set({ public_state: 'failed', public_error: PUBLIC_COPY_ABANDONED })
        .where('public_state', '=', 'building')
        .where(which)
        .returning('id')
        .execute();
      return new Set([...pkg, ...pub].map((r) => r.id)).size;
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
