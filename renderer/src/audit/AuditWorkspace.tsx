import { useCallback, useEffect, useState } from 'react';
import type { AuditList, AuditQuery, AuditVerify } from '../../../contract';
import { useCameras } from '../cameras/useCameras';
import { targetText } from './targets';
import { ApiError, call } from '../client/api';
import { EmptyState } from '../shell/EmptyState';
import { dateTime } from '../shell/time';
import './audit.css';

const PAGE = 50;

/** Actions a reviewer looks for most; any other is typed (a prefix ending in "." lists a family). */
const COMMON_ACTIONS = ['auth.', 'auth.login', 'auth.login_failed', 'user.', 'video.', 'clip.', 'incident.', 'evidence.', 'audit.', 'sms.'];

type Filters = { actor: string; action: string; from: string; to: string };
const NO_FILTERS: Filters = { actor: '', action: '', from: '', to: '' };

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : (err as Error).message;
}

function toQuery(f: Filters, beforeSeq: number | null): Record<string, string> {
  const q: Record<string, string> = { limit: String(PAGE) };
  if (f.actor.trim()) q.actor = f.actor.trim();
  if (f.action.trim()) q.action = f.action.trim();
  // datetime-local has no zone: it is the viewer's local time.
  if (f.from) q.from = new Date(f.from).toISOString();
  if (f.to) q.to = new Date(f.to).toISOString();
  if (beforeSeq !== null) q.beforeSeq = String(beforeSeq);
  return q satisfies Partial<Record<keyof AuditQuery, string>>;
}

function detailText(d: Record<string, unknown>): string {
  const s = JSON.stringify(d);
  return s === '{}' ? '' : s;
}

/**
 * The audit viewer (administrators and reviewers): who did what and when, filtered by user,
 * action and time, newest first, a page at a time; Verify runs the same check as
 * `sentinel audit verify` on the core (chain and signed checkpoints), and the checkpoints
 * can be downloaded for an outside notary. Every read here is itself audited by the core.
 */
export function AuditWorkspace() {
  const { cameras } = useCameras();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  // Older pages: the cursors that led to each page shown, so "Newer" can go back.
  const [cursors, setCursors] = useState<(number | null)[]>([null]);
  const [page, setPage] = useState<AuditList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [verify, setVerify] = useState<AuditVerify | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState<string | null>(null);
  const [download, setDownload] = useState<{ url: string; name: string; count: number } | null>(null);
  const cursor = cursors.at(-1) ?? null;

  const load = useCallback(() => {
    const ctl = new AbortController();
    call('audit', { query: toQuery(filters, cursor), signal: ctl.signal })
      .then((r) => {
        setPage(r);
        setError(null);
      })
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setError(message(err));
      });
    return () => ctl.abort();
  }, [filters, cursor]);
  useEffect(load, [load]);
  useEffect(() => () => void (download && URL.revokeObjectURL(download.url)), [download]);

  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft((f) => ({ ...f, [k]: e.target.value }));
  const apply = (f: Filters): void => {
    setFilters(f);
    setCursors([null]);
  };

  const runVerify = (): void => {
    setVerifying(true);
    setVerifyError(null);
    call('auditVerify')
      .then((r) => setVerify(r))
      .catch((err: unknown) => setVerifyError(message(err)))
      .finally(() => setVerifying(false));
  };
  const exportCheckpoints = (): void => {
    call('auditCheckpoints')
      .then((r) => {
        const text = r.checkpoints.map((c) => `${JSON.stringify(c)}\n`).join('');
        const url = URL.createObjectURL(new Blob([text], { type: 'application/jsonl' }));
        setDownload({
          url,
          name: `sentinel-audit-checkpoints-${new Date().toISOString().slice(0, 10)}.jsonl`,
          count: r.checkpoints.length,
        });
      })
      .catch((err: unknown) => setVerifyError(message(err)));
  };

  const first = page && page.records.length ? page.records[0]!.seq : null;
  const last = page && page.records.length ? page.records.at(-1)!.seq : null;
  const shownBefore = (cursors.length - 1) * PAGE;

  return (
    <div className="audit-workspace" data-testid="audit-workspace">
      <section className="audit-verify" aria-label="Verify the audit trail">
        <div className="audit-verify-actions">
          <button type="button" onClick={runVerify} disabled={verifying} data-testid="audit-verify">
            {verifying ? 'Verifying…' : 'Verify trail'}
          </button>
          <button type="button" className="ghost-button" onClick={exportCheckpoints} data-testid="audit-export">
            Export checkpoints
          </button>
          {download && (
            <a href={download.url} download={download.name} data-testid="audit-export-link">
              Save {download.count} checkpoints ({download.name})
            </a>
          )}
        </div>
        {verifyError && (
          <p className="audit-error" role="alert">
            {verifyError}
          </p>
        )}
        {verify && <VerifyResult r={verify} />}
      </section>

      <form
        className="audit-filters"
        aria-label="Audit filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <input aria-label="User" placeholder="User name" value={draft.actor} onChange={set('actor')} />
        <input
          aria-label="Action"
          placeholder="Action (auth.login, or auth. for all)"
          list="audit-actions"
          value={draft.action}
          onChange={set('action')}
        />
        <datalist id="audit-actions">
          {COMMON_ACTIONS.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <input aria-label="From" type="datetime-local" value={draft.from} onChange={set('from')} />
        <input aria-label="To" type="datetime-local" value={draft.to} onChange={set('to')} />
        <button type="submit" data-testid="audit-apply">
          Apply
        </button>
        <button
          type="button"
          className="ghost-button"
          onClick={() => {
            setDraft(NO_FILTERS);
            apply(NO_FILTERS);
          }}
        >
          Clear
        </button>
      </form>

      {error && (
        <p className="audit-error" role="alert">
          {error}
        </p>
      )}
      <div className="audit-pager">
        <span data-testid="audit-count">
          {page
            ? page.total === 0
              ? 'No records match'
              : `${shownBefore + 1}–${shownBefore + page.records.length} of ${page.total} (records ${last}…${first})`
            : 'Loading…'}
        </span>
        <span className="spacer" />
        <button type="button" className="ghost-button" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer
        </button>
        <button
          type="button"
          className="ghost-button"
          disabled={!page?.nextBeforeSeq}
          onClick={() => page?.nextBeforeSeq && setCursors((c) => [...c, page.nextBeforeSeq])}
          data-testid="audit-older"
        >
          Older
        </button>
      </div>
      {page && page.total === 0 ? (
        <EmptyState title="No audit records match">Change or clear the filters.</EmptyState>
      ) : (
        <div className="audit-table-wrap">
          <table className="audit-table" aria-label="Audit records">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">User</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Detail</th>
                <th scope="col">Address</th>
              </tr>
            </thead>
            <tbody>
              {(page?.records ?? []).map((r) => (
                <tr key={r.seq} data-testid="audit-row" data-seq={r.seq} className={r.action.endsWith('_failed') ? 'failed' : ''}>
                  <td className="num">{r.seq}</td>
                  <td>
                    <time dateTime={r.at}>{dateTime(r.at)}</time>
                  </td>
                  <td>{r.actor ?? <span className="muted">system</span>}</td>
                  <td className="action">{r.action}</td>
                  <td title={r.target ?? undefined}>{targetText(r.target ?? null, (id) => cameras.get(id)?.name)}</td>
                  <td className="detail" title={detailText(r.detail)}>
                    {detailText(r.detail)}
                  </td>
                  <td>{r.ip ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function VerifyResult({ r }: { r: AuditVerify }) {
  if (r.ok)
    return (
      <div className="audit-verdict ok" role="status" data-testid="audit-verify-result" data-ok="true">
        <strong>Trail intact.</strong> {r.records} records chain correctly;{' '}
        {r.checkpoints === 0
          ? 'no signed checkpoint yet.'
          : `${r.checkpoints} signed checkpoints match, the newest vouching for record ${r.anchoredSeq}.`}
        {r.keyFingerprint && <span className="muted"> Signing key {r.keyFingerprint}.</span>}
      </div>
    );
  return (
    <div className="audit-verdict bad" role="alert" data-testid="audit-verify-result" data-ok="false">
      <strong>Verification failed</strong>
      {r.firstBroken !== null && <> at record {r.firstBroken}</>}
      {r.badCheckpoint !== null && <> (checkpoint {r.badCheckpoint})</>}: {r.reason}
    </div>
  );
}
