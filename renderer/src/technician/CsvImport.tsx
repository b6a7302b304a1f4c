import { useId, useState } from 'react';
import type { CsvImportReport } from '../../../contract';
import { ApiError, call } from '../client/api';

const EXAMPLE =
  'name,url,mount,station_id,vehicle_id,username,password,analytics\nClark/Lake P1,rtsp://10.20.1.5/main,station,40380,,viewer,secret,yes\nBus 8123 front,rtsp://10.40.8.123/main,bus,,8123,,,no';

type Outcome = { kind: 'report'; report: CsvImportReport } | { kind: 'imported'; names: string[] } | { kind: 'error'; message: string };

/**
 * Bulk import from CSV: pick a file or paste. "Check" asks the core for the per-row report
 * without writing anything; "Import" checks again and imports every row or, when any row is
 * bad, none (one transaction on the core).
 */
export function CsvImport({ onImported }: { onImported: (n: number) => void }) {
  const id = useId();
  const [csv, setCsv] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const run = async (importToo: boolean): Promise<void> => {
    setBusy(true);
    setOutcome(null);
    try {
      const report = await call('cameraImportCheck', { body: { csv } });
      if (!report.ok || !importToo) {
        setOutcome({ kind: 'report', report });
        return;
      }
      const r = await call('cameraImport', { body: { csv } });
      setOutcome({ kind: 'imported', names: r.imported.map((c) => c.name) });
      onImported(r.imported.length);
    } catch (err) {
      setOutcome({ kind: 'error', message: err instanceof ApiError ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="tech-import" data-testid="csv-import">
      <p className="muted">
        One camera per row; the first line names the columns:{' '}
        <code>
          name, url, sub_url, username, password, mount, station_id, platform, vehicle_id, railcar_id, line, description, lat, lon,
          analytics, recording
        </code>
        . If any row is wrong, nothing is imported.
      </p>
      <div className="tech-row">
        <label htmlFor={`${id}-file`}>CSV file</label>
        <input
          id={`${id}-file`}
          type="file"
          accept=".csv,text/csv,text/plain"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (!f) return;
            setFileName(f.name);
            setOutcome(null);
            void f.text().then(setCsv);
          }}
        />
      </div>
      <label htmlFor={`${id}-text`} className="tech-label">
        {fileName ? `Contents of ${fileName}` : 'Or paste the CSV'}
      </label>
      <textarea
        id={`${id}-text`}
        className="tech-csv"
        spellCheck={false}
        rows={8}
        placeholder={EXAMPLE}
        value={csv}
        onChange={(e) => {
          setCsv(e.target.value);
          setOutcome(null);
        }}
      />
      <div className="tech-actions">
        <button type="button" className="ghost-button" disabled={!csv || busy} onClick={() => void run(false)}>
          Check
        </button>
        <button type="button" className="tech-primary" disabled={!csv || busy} onClick={() => void run(true)}>
          {busy ? 'Working…' : 'Import'}
        </button>
      </div>
      {outcome?.kind === 'error' && (
        <div className="tech-error" role="alert">
          {outcome.message}
        </div>
      )}
      {outcome?.kind === 'imported' && (
        <div className="tech-ok" role="status" data-testid="import-done">
          Imported {outcome.names.length} camera{outcome.names.length === 1 ? '' : 's'}: {outcome.names.join(', ')}
        </div>
      )}
      {outcome?.kind === 'report' && outcome.report.ok && (
        <div className="tech-ok" role="status" data-testid="import-report">
          All {outcome.report.rows} rows are valid: {outcome.report.names.join(', ')}. Press Import to register them.
        </div>
      )}
      {outcome?.kind === 'report' && !outcome.report.ok && (
        <div className="tech-report" data-testid="import-report" role="alert">
          <div className="tech-error">
            Nothing was imported: {outcome.report.errors.length} problem{outcome.report.errors.length === 1 ? '' : 's'} in{' '}
            {outcome.report.rows} row{outcome.report.rows === 1 ? '' : 's'}.
          </div>
          <table>
            <thead>
              <tr>
                <th>Line</th>
                <th>Column</th>
                <th>Problem</th>
              </tr>
            </thead>
            <tbody>
              {outcome.report.errors.map((e, i) => (
                <tr key={i}>
                  <td>{e.line}</td>
                  <td>{e.column ?? '—'}</td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
