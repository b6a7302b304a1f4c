import { useCallback, useEffect, useMemo, useState } from 'react';
import type {
  EvidenceExport,
  PrecisionReport,
  RedactionMode,
  ReviewBundle,
  ReviewListQuery,
  Role,
  VerdictValue,
  Zone,
} from '../../../contract';
import { ALERT_KIND_LABEL } from '../../../contract';
import { ApiError, call } from '../client/api';
import { EmptyState } from '../shell/EmptyState';
import { ClipPlayer } from './ClipPlayer';
import './review.css';
import { dateTime } from '../shell/time';

const KIND_LABEL = ALERT_KIND_LABEL;
type Filters = { kind: string; line: string; district: string; verdict: string; from: string; to: string };
const NO_FILTERS: Filters = { kind: '', line: '', district: '', verdict: '', from: '', to: '' };

function when(iso: string): string {
  return dateTime(iso);
}
function message(err: unknown): string {
  return err instanceof ApiError ? err.message : (err as Error).message;
}

function toQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.kind) q.kind = f.kind;
  if (f.line) q.line = f.line.trim();
  if (f.district) q.district = f.district.trim();
  if (f.verdict) q.verdict = f.verdict;
  // datetime-local has no zone: it is the reviewer's local time.
  if (f.from) q.from = new Date(f.from).toISOString();
  if (f.to) q.to = new Date(f.to).toISOString();
  return q satisfies Partial<Record<keyof ReviewListQuery, string>>;
}

/** Precision per rule from the verdicts: what tells us which rule needs tuning. */
function Precision({ report }: { report: PrecisionReport | null }) {
  if (!report) return null;
  return (
    <div className="review-precision" data-testid="review-precision">
      {report.rules.map((r) => (
        <span key={r.kind} title={`${r.trueAlarms} true, ${r.falseAlarms} false, ${r.unreviewed} not reviewed`}>
          {KIND_LABEL[r.kind]}: <strong>{r.precision === null ? '—' : `${Math.round(r.precision * 100)} %`}</strong>
          <span className="muted"> ({r.trueAlarms + r.falseAlarms} reviewed)</span>
        </span>
      ))}
    </div>
  );
}

/**
 * The reviewer's workspace: incidents with filters (time, kind, line or route, district,
 * verdict) on the left; the selected incident on the right with its clip replayed under the
 * stored detections, the verdict, notes and the signed evidence export. Operators see it
 * read-only (the core enforces the same).
 */
export function ReviewWorkspace({ role }: { role: Role }) {
  const canReview = role === 'reviewer' || role === 'admin';
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [list, setList] = useState<ReviewBundle['incident'][] | null>(null);
  const [verdicts, setVerdicts] = useState<Record<string, VerdictValue | null>>({});
  const [precision, setPrecision] = useState<PrecisionReport | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(() => {
    call('reviewIncidents', { query: toQuery(filters) })
      .then((r) => {
        setList(r.incidents.map((e) => e.incident));
        setVerdicts(Object.fromEntries(r.incidents.map((e) => [e.incident.id, e.verdict?.verdict ?? null])));
        setError(null);
      })
      .catch((err: unknown) => setError(message(err)));
    call('reviewPrecision').then(setPrecision, () => undefined);
  }, [filters]);
  useEffect(reload, [reload]);

  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setFilters((f) => ({ ...f, [k]: e.target.value }));

  return (
    <div className="review-workspace" data-testid="review-workspace">
      <section className="review-list-pane" aria-label="Incidents to review">
        <Precision report={precision} />
        <div className="review-filters">
          <select aria-label="Kind" value={filters.kind} onChange={set('kind')}>
            <option value="">All kinds</option>
            {Object.entries(KIND_LABEL).map(([k, l]) => (
              <option key={k} value={k}>
                {l}
              </option>
            ))}
          </select>
          <select aria-label="Verdict" value={filters.verdict} onChange={set('verdict')}>
            <option value="">Any verdict</option>
            <option value="none">Not reviewed</option>
            <option value="true-alarm">True alarm</option>
            <option value="false-alarm">False alarm</option>
          </select>
          <input aria-label="Line or route" placeholder="Line / route" value={filters.line} onChange={set('line')} />
          <input aria-label="District" placeholder="District" value={filters.district} onChange={set('district')} />
          <input aria-label="From" type="datetime-local" value={filters.from} onChange={set('from')} />
          <input aria-label="To" type="datetime-local" value={filters.to} onChange={set('to')} />
        </div>
        {error && (
          <p className="review-error" role="alert">
            {error}
          </p>
        )}
        {list && list.length === 0 && (
          <EmptyState title="No incidents match">Change the filters, or wait for alerts to become incidents.</EmptyState>
        )}
        <ul className="review-list" role="listbox" aria-label="Incidents">
          {(list ?? []).map((inc) => (
            <li
              key={inc.id}
              role="option"
              aria-selected={selected === inc.id}
              tabIndex={0}
              className={`review-item kind-${inc.kind} ${selected === inc.id ? 'selected' : ''}`}
              onClick={() => setSelected(inc.id)}
              onKeyDown={(e) => e.key === 'Enter' && setSelected(inc.id)}
              data-testid="review-item"
            >
              <span className="review-item-head">
                <strong>{KIND_LABEL[inc.kind]}</strong>
                <span className={`verdict-badge v-${verdicts[inc.id] ?? 'none'}`}>
                  {verdicts[inc.id] === 'true-alarm' ? 'True' : verdicts[inc.id] === 'false-alarm' ? 'False' : 'Unreviewed'}
                </span>
              </span>
              <span>{inc.cameraName}</span>
              <span className="muted">
                {when(inc.createdAt)} · {inc.state}
                {inc.scope.district ? ` · District ${inc.scope.district}` : ''}
                {inc.scope.lines.length ? ` · ${inc.scope.lines.join(', ')}` : ''}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <section className="review-detail-pane" aria-label="Incident review">
        {selected ? (
          <IncidentReview id={selected} canReview={canReview} onChanged={reload} />
        ) : (
          <EmptyState title="Pick an incident">Its clip, detections, verdict and evidence appear here.</EmptyState>
        )}
      </section>
    </div>
  );
}

function IncidentReview({ id, canReview, onChanged }: { id: string; canReview: boolean; onChanged: () => void }) {
  const [b, setB] = useState<ReviewBundle | null>(null);
  const [zones, setZones] = useState<Zone[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [job, setJob] = useState<EvidenceExport | null>(null);
  const [clipIndex, setClipIndex] = useState(0);
  const [subjects, setSubjects] = useState<ReadonlySet<number>>(new Set());
  const [withPublicCopy, setWithPublicCopy] = useState(false);
  const [redactionMode, setRedactionMode] = useState<RedactionMode>('people');
  const toggleSubject = useCallback(
    (trackId: number) =>
      setSubjects((s) => {
        const next = new Set(s);
        if (next.has(trackId)) next.delete(trackId);
        else next.add(trackId);
        return next;
      }),
    [],
  );
  const marking = useMemo(() => ({ subjects, onToggle: toggleSubject }), [subjects, toggleSubject]);

  const load = useCallback(() => {
    call('reviewBundle', { params: { id } })
      .then((r) => {
        setB(r);
        setError(null);
      })
      .catch((err: unknown) => setError(message(err)));
  }, [id]);
  useEffect(() => {
    setB(null);
    setJob(null);
    setClipIndex(0);
    setSubjects(new Set());
    load();
  }, [load]);
  const cameraId = b?.incident.cameraId;
  useEffect(() => {
    if (!cameraId) return;
    call('cameraZones', { params: { id: cameraId } }).then(
      (z) => setZones(z.zones),
      () => setZones([]),
    );
  }, [cameraId]);

  // Poll a building export (and its public copy) for progress.
  useEffect(() => {
    if (!job || (job.state !== 'building' && job.publicCopy?.state !== 'building')) return;
    const t = setTimeout(() => {
      call('evidenceExport', { params: { id: job.id } }).then(
        (j) => {
          setJob(j);
          if (j.state !== 'building' && j.publicCopy?.state !== 'building') load();
        },
        (err: unknown) => setError(message(err)),
      );
    }, 300);
    return () => clearTimeout(t);
  }, [job, load]);

  const act = async (label: string, fn: () => Promise<unknown>): Promise<void> => {
    setBusy(label);
    setError(null);
    try {
      await fn();
      load();
      onChanged();
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(null);
    }
  };

  if (error && !b)
    return (
      <p className="review-error" role="alert">
        {error}
      </p>
    );
  if (!b) return <p className="muted">Loading…</p>;
  const inc = b.incident;
  const clip = b.clips[clipIndex] ?? null;
  const latest = job ?? b.exports[0] ?? null;

  return (
    <div className="incident-review" data-testid="incident-review">
      <header className="incident-review-head">
        <h3>
          {KIND_LABEL[inc.kind]} · {inc.cameraName}
        </h3>
        <span className="muted">
          {when(inc.createdAt)} · {inc.state} · {inc.alertIds.length} alert{inc.alertIds.length === 1 ? '' : 's'}
          {inc.timeToAcknowledgeS !== null ? ` · acknowledged in ${Math.round(inc.timeToAcknowledgeS)} s` : ''}
        </span>
      </header>
      {error && (
        <p className="review-error" role="alert">
          {error}
        </p>
      )}
      {clip ? (
        <>
          {b.clips.length > 1 && (
            <select aria-label="Clip" value={clipIndex} onChange={(e) => setClipIndex(Number(e.target.value))}>
              {b.clips.map((c, i) => (
                <option key={c.id} value={i}>
                  {when(c.startAt)} ({c.durationS.toFixed(0)} s)
                </option>
              ))}
            </select>
          )}
          <ClipPlayer clip={clip} cameraId={inc.cameraId} alerts={b.alerts} zones={zones} {...(canReview ? { marking } : {})} />
        </>
      ) : (
        <div className="review-noclip">
          <p>No clip is linked to this incident yet.</p>
          {canReview && (
            <button
              type="button"
              disabled={busy !== null}
              onClick={() => void act('clip', () => call('reviewClip', { params: { id } }))}
              data-testid="cut-clip"
            >
              {busy === 'clip' ? 'Cutting the clip…' : 'Cut the clip from the recording'}
            </button>
          )}
        </div>
      )}
      <div className="review-columns">
        <section aria-label="Verdict" className="review-box">
          <h4>Verdict</h4>
          {b.verdict ? (
            <p data-testid="verdict">
              <span className={`verdict-badge v-${b.verdict.verdict}`}>
                {b.verdict.verdict === 'true-alarm' ? 'True alarm' : 'False alarm'}
              </span>{' '}
              by {b.verdict.by}, {when(b.verdict.at)}
              {b.verdict.reason && <span className="muted"> — {b.verdict.reason}</span>}
            </p>
          ) : (
            <p className="muted">Not reviewed yet.</p>
          )}
          {canReview && (
            <>
              <textarea
                aria-label="Reason"
                placeholder="Why (required for a false alarm)"
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                rows={2}
              />
              <div className="review-actions">
                <button
                  type="button"
                  disabled={busy !== null}
                  onClick={() =>
                    void act('verdict', () => call('reviewVerdict', { params: { id }, body: { verdict: 'true-alarm', reason } }))
                  }
                >
                  True alarm
                </button>
                <button
                  type="button"
                  disabled={busy !== null}
                  onClick={() =>
                    void act('verdict', () => call('reviewVerdict', { params: { id }, body: { verdict: 'false-alarm', reason } }))
                  }
                >
                  False alarm
                </button>
              </div>
            </>
          )}
        </section>
        <section aria-label="Notes" className="review-box">
          <h4>Notes</h4>
          <ul className="review-notes">
            {b.notes.map((n) => (
              <li key={n.id}>
                <span className="muted">
                  {n.author}, {when(n.at)}:
                </span>{' '}
                {n.text}
              </li>
            ))}
          </ul>
          {canReview && (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void act('note', () => call('reviewNote', { params: { id }, body: { text: note } })).then(() => setNote(''));
              }}
            >
              <input aria-label="New note" value={note} onChange={(e) => setNote(e.target.value)} placeholder="Add a note" />
              <button type="submit" disabled={busy !== null || note.trim() === ''}>
                Add
              </button>
            </form>
          )}
        </section>
        <section aria-label="Evidence" className="review-box">
          <h4>Evidence</h4>
          {canReview && (
            <>
              <div className="public-copy">
                <label>
                  <input
                    type="checkbox"
                    checked={withPublicCopy}
                    onChange={(e) => setWithPublicCopy(e.target.checked)}
                    data-testid="public-copy-toggle"
                  />{' '}
                  Add a public copy (people blurred)
                </label>
                {withPublicCopy && (
                  <>
                    <select
                      aria-label="What the public copy hides"
                      value={redactionMode}
                      onChange={(e) => setRedactionMode(e.target.value as RedactionMode)}
                    >
                      <option value="people">Everyone detected but the subjects</option>
                      <option value="all-but-subjects">The whole picture but the subjects</option>
                    </select>
                    <span className="muted" data-testid="public-copy-subjects">
                      {subjects.size === 0
                        ? 'No subject marked: everyone is blurred'
                        : `Visible: ${[...subjects]
                            .sort((x, y) => x - y)
                            .map((s) => `#${s}`)
                            .join(', ')}`}
                    </span>
                  </>
                )}
              </div>
              <button
                type="button"
                disabled={busy !== null || latest?.state === 'building' || latest?.publicCopy?.state === 'building'}
                data-testid="export-evidence"
                onClick={() =>
                  void act('export', async () => {
                    const body = withPublicCopy ? { publicCopy: { subjects: [...subjects], mode: redactionMode } } : {};
                    setJob(await call('reviewExport', { params: { id }, body }));
                  })
                }
              >
                Export signed evidence package
              </button>
            </>
          )}
          {latest && (
            <div className="review-export" data-testid="export-state" data-state={latest.state}>
              {latest.state === 'building' && (
                <>
                  <progress max={Math.max(1, latest.total)} value={latest.done} /> Building… {(latest.done / 1e6).toFixed(1)} MB
                </>
              )}
              {latest.state === 'failed' && <p className="review-error">Export failed: {latest.error}</p>}
              {latest.state === 'ready' && (
                <p>
                  <a href={`/api/v1/evidence/${encodeURIComponent(latest.id)}/package.zip`} download data-testid="download-evidence">
                    Download package
                  </a>{' '}
                  ({((latest.bytes ?? 0) / 1e6).toFixed(1)} MB)
                  <br />
                  <span className="muted">
                    SHA-256 <code>{latest.sha256}</code>
                    <br />
                    Signed by key <code>{latest.fingerprint}</code>
                  </span>
                </p>
              )}
              {latest.publicCopy && (
                <div className="review-public" data-testid="public-copy-state" data-state={latest.publicCopy.state}>
                  {latest.publicCopy.state === 'building' && <p>Building the public copy (re-encoding with people blurred)…</p>}
                  {latest.publicCopy.state === 'failed' && <p className="review-error">Public copy failed: {latest.publicCopy.error}</p>}
                  {latest.publicCopy.state === 'ready' && (
                    <p>
                      <a href={`/api/v1/evidence/${encodeURIComponent(latest.id)}/public.zip`} download data-testid="download-public-copy">
                        Download public copy
                      </a>{' '}
                      ({((latest.publicCopy.bytes ?? 0) / 1e6).toFixed(1)} MB, {latest.publicCopy.boxes ?? 0} person boxes blurred
                      {latest.publicCopy.subjects.length > 0
                        ? `, subjects ${latest.publicCopy.subjects.map((s) => `#${s}`).join(', ')} visible`
                        : ''}
                      )
                      {(latest.publicCopy.framesWithoutDetections ?? 0) > 0 && (
                        <span className="review-warning">
                          {' '}
                          · {latest.publicCopy.framesWithoutDetections} frames had no detections: watch it before release
                        </span>
                      )}
                      <br />
                      <span className="muted">
                        SHA-256 <code>{latest.publicCopy.sha256}</code>, signed with the same key; names the original's hash
                      </span>
                    </p>
                  )}
                </div>
              )}
            </div>
          )}
        </section>
      </div>
    </div>
  );
}
