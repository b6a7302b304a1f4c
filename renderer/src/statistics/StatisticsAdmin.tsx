import { useEffect, useState } from 'react';
import type { StatisticsMonths } from '../../../contract';
import type { z } from 'zod';
import { ApiError, call } from '../client/api';

type Months = z.infer<typeof StatisticsMonths>['months'];

/**
 * The admin's monthly statistics: preview a month as it would be published (opens the
 * report with this session), publish it (audited, signed), and the public address.
 */
export function StatisticsAdmin() {
  const [months, setMonths] = useState<Months>([]);
  const [month, setMonth] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const load = (): void => {
    call('statisticsMonths')
      .then((r) => {
        setMonths(r.months);
        setMonth((m) => m || (r.months[1]?.month ?? r.months[0]?.month ?? ''));
      })
      .catch((err: unknown) => setNote(err instanceof ApiError ? err.message : 'could not load the months'));
  };
  useEffect(load, []);
  const publish = (): void => {
    call('statisticsPublish', { params: { month } })
      .then((p) => {
        setNote(`${p.month} published, signed by key ${p.fingerprint}`);
        load();
      })
      .catch((err: unknown) => setNote(err instanceof ApiError ? err.message : 'could not publish'));
  };
  const current = months.find((m) => m.month === month);
  return (
    <div className="admin-form" data-testid="statistics-admin">
      <h3>Monthly statistics</h3>
      <select aria-label="Statistics month" value={month} onChange={(e) => setMonth(e.target.value)}>
        {months.map((m) => (
          <option key={m.month} value={m.month}>
            {m.month}
            {m.published ? ' (published)' : ''}
          </option>
        ))}
      </select>
      <a href={`/api/v1/statistics/${month}/report.html`} target="_blank" rel="noreferrer">
        Preview
      </a>
      <button type="button" onClick={publish} disabled={!month}>
        {current?.published ? 'Publish again' : 'Publish'}
      </button>
      <a href="/public/statistics/" target="_blank" rel="noreferrer">
        Public page
      </a>
      {note && <p role="status">{note}</p>}
    </div>
  );
}
