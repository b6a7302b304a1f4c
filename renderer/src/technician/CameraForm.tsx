import { useEffect, useId, useRef, useState } from 'react';
import { CameraMount, parseRtspUrl, type Camera, type CameraCreate, type CameraUpdate, type ProbeResult } from '../../../contract';
import { ApiError, call } from '../client/api';
import { MountPicker } from './MountPicker';
import type { StationsState } from '../map/stations';

type Probe =
  | { state: 'idle' }
  | { state: 'running'; key: string }
  | { state: 'ok'; key: string; info: ProbeResult }
  | { state: 'failed'; key: string; message: string; field: string | undefined };

/** The URL as the form edits it: a saved camera's URL without its (masked) user info. */
function bareUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** Checks the mount locally, naming the missing id, before the core is asked. */
function mountProblem(m: CameraMount): string | null {
  if (m.kind === 'station' && !m.stationId) return 'pick a station';
  if ((m.kind === 'bus' || m.kind === 'operator_cab') && !m.vehicleId) return 'enter the bus id';
  if (m.kind === 'railcar' && !m.railcarId) return 'enter the railcar id';
  const r = CameraMount.safeParse(m);
  return r.success ? null : (r.error.issues[0]?.message ?? 'invalid mount');
}

/**
 * Add or edit a camera. The URL is checked as it is typed (the contract's parseRtspUrl, the
 * same check the core applies), then probed on the core once it is valid and has stayed
 * unchanged for a moment; saving probes first if that has not succeeded. Credentials live
 * in their own fields; a stored password is never shown (the API only says hasPassword).
 */
export function CameraForm({
  camera,
  stations,
  onSaved,
  onCancel,
  onDeleted,
}: {
  camera: Camera | null;
  stations: StationsState;
  onSaved: (c: Camera) => void;
  onCancel?: () => void;
  onDeleted?: () => void;
}) {
  const id = useId();
  const [name, setName] = useState(camera?.name ?? '');
  const [url, setUrl] = useState(camera ? bareUrl(camera.url) : '');
  // The optional sub-stream (lighter, for analysis); same credentials as the main stream.
  const [subUrl, setSubUrl] = useState(camera?.subUrl ? bareUrl(camera.subUrl) : '');
  const [username, setUsername] = useState(camera?.username ?? '');
  const [password, setPassword] = useState('');
  const [clearPassword, setClearPassword] = useState(false);
  const [mount, setMount] = useState<CameraMount>(camera?.mount ?? { kind: 'station', stationId: '' });
  const [analytics, setAnalytics] = useState(camera?.analyticsEnabled ?? true);
  const [recording, setRecording] = useState(camera?.recordingEnabled ?? true);
  const [probe, setProbe] = useState<Probe>({ state: 'idle' });
  const [subProbe, setSubProbe] = useState<Probe>({ state: 'idle' });
  const subSeq = useRef(0);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<{ message: string; field: string | undefined } | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const probeSeq = useRef(0);
  const [confirmDelete, setConfirmDelete] = useState(false);

  const parsed = url ? parseRtspUrl(url) : null;
  const urlError = parsed && 'error' in parsed ? parsed.error : null;
  const key = JSON.stringify([url, username, password, clearPassword]);
  const subParsed = subUrl ? parseRtspUrl(subUrl) : null;
  const subError = subParsed && 'error' in subParsed ? subParsed.error : null;
  const subKey = JSON.stringify([subUrl, username, password, clearPassword]);
  const mountError = mountProblem(mount);

  /** Credentials typed into the URL move to their fields, so the URL field never holds a secret. */
  const liftCredentials = (): void => {
    if (!parsed || 'error' in parsed || (parsed.username === undefined && parsed.password === undefined)) return;
    setUrl(parsed.url);
    if (parsed.username !== undefined) setUsername(parsed.username);
    if (parsed.password !== undefined) setPassword(parsed.password);
  };

  /** Probes one of the camera's streams on the core; the newest probe of each stream wins. */
  const probeStream = async (target: typeof parsed, k: string, seqRef: { current: number }, set: (p: Probe) => void): Promise<boolean> => {
    if (!target || 'error' in target) return false;
    const seq = ++seqRef.current;
    set({ state: 'running', key: k });
    // Editing: an empty password field means "the stored one", which only the core has.
    const usesStored = camera !== null && !password && !clearPassword;
    try {
      const info = await call('cameraProbe', {
        body: {
          url: target.url,
          ...(username ? { username } : {}),
          ...(password ? { password } : {}),
          ...(usesStored ? { cameraId: camera.id } : {}),
        },
      });
      if (seq === seqRef.current) set({ state: 'ok', key: k, info });
      return true;
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(String(err), 0, 'network');
      if (seq === seqRef.current) set({ state: 'failed', key: k, message: e.message, field: e.field });
      return false;
    }
  };
  const runProbe = (): Promise<boolean> => probeStream(parsed, key, probeSeq, setProbe);
  const runSubProbe = (): Promise<boolean> => probeStream(subParsed, subKey, subSeq, setSubProbe);

  // Live validation: probe a valid URL once typing has paused.
  useEffect(() => {
    if (!parsed || 'error' in parsed) return;
    if (parsed.username !== undefined || parsed.password !== undefined) return; // lifted on blur first
    const t = setTimeout(() => void runProbe(), 900);
    return () => clearTimeout(t);
    // runProbe reads the same state that `key` captures, so `key` is the whole dependency.
  }, [key]);

  // The sub-stream is probed the same way, on its own.
  useEffect(() => {
    if (!subParsed || 'error' in subParsed || subParsed.username !== undefined || subParsed.password !== undefined) return;
    const t = setTimeout(() => void runSubProbe(), 900);
    return () => clearTimeout(t);
  }, [subKey]);

  const current = probe.state !== 'idle' && probe.key === key ? probe : { state: 'idle' as const };
  const subCurrent = subProbe.state !== 'idle' && subProbe.key === subKey ? subProbe : { state: 'idle' as const };

  const save = async (force: boolean): Promise<void> => {
    setServerError(null);
    setSaved(null);
    if (!parsed || 'error' in parsed || !name.trim() || mountError || subError) return;
    if (!force && current.state !== 'ok') {
      if (current.state === 'running') return;
      if (!(await runProbe())) return;
    }
    if (!force && subParsed && subCurrent.state !== 'ok') {
      if (subCurrent.state === 'running') return;
      if (!(await runSubProbe())) return;
    }
    const sub = subParsed && !('error' in subParsed) ? subParsed.url : null;
    setSaving(true);
    try {
      let out: Camera;
      if (camera) {
        const patch: CameraUpdate = {};
        if (name !== camera.name) patch.name = name;
        if (parsed.url !== bareUrl(camera.url)) patch.url = parsed.url;
        if (sub !== (camera.subUrl ? bareUrl(camera.subUrl) : null)) patch.subUrl = sub;
        if (username !== (camera.username ?? '')) patch.username = username || null;
        if (password) patch.password = password;
        else if (clearPassword) patch.password = null;
        if (JSON.stringify(mount) !== JSON.stringify(camera.mount)) patch.mount = mount;
        if (analytics !== camera.analyticsEnabled) patch.analyticsEnabled = analytics;
        if (recording !== camera.recordingEnabled) patch.recordingEnabled = recording;
        out = await call('cameraUpdate', { params: { id: camera.id }, body: patch });
      } else {
        const body: CameraCreate = {
          name,
          url: parsed.url,
          ...(sub ? { subUrl: sub } : {}),
          mount,
          analyticsEnabled: analytics,
          recordingEnabled: recording,
          ...(username ? { username } : {}),
          ...(password ? { password } : {}),
        };
        out = await call('cameraCreate', { body });
      }
      setPassword('');
      setClearPassword(false);
      setSaved(camera ? 'Changes saved' : `Camera "${out.name}" registered`);
      onSaved(out);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(String(err), 0, 'network');
      setServerError({ message: e.message, field: e.field });
    } finally {
      setSaving(false);
    }
  };

  const fieldError = (f: string): string | undefined =>
    serverError && serverError.field !== undefined && serverError.field.split('.')[0] === f ? serverError.message : undefined;
  const canSave =
    !!name.trim() &&
    !!parsed &&
    !('error' in parsed) &&
    !mountError &&
    !subError &&
    !saving &&
    current.state !== 'running' &&
    subCurrent.state !== 'running';
  // A sub-stream exists to be lighter than the main stream: say so when it is not.
  const subNotSmaller =
    current.state === 'ok' &&
    subCurrent.state === 'ok' &&
    subCurrent.info.width * subCurrent.info.height >= current.info.width * current.info.height;

  return (
    <form
      className="tech-form"
      aria-label={camera ? `Edit camera ${camera.name}` : 'Add camera'}
      data-testid="camera-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save(false);
      }}
    >
      <div className="tech-row">
        <label htmlFor={`${id}-name`}>Name</label>
        <div className="tech-field">
          <input
            id={`${id}-name`}
            value={name}
            maxLength={120}
            required
            placeholder="e.g. Clark/Lake platform 1"
            onChange={(e) => setName(e.target.value)}
          />
          {fieldError('name') && <div className="tech-error">{fieldError('name')}</div>}
        </div>
      </div>
      <div className="tech-row">
        <label htmlFor={`${id}-url`}>RTSP URL</label>
        <div className="tech-field">
          <input
            id={`${id}-url`}
            value={url}
            spellCheck={false}
            autoComplete="off"
            placeholder="rtsp://host:554/stream"
            aria-invalid={!!urlError}
            onChange={(e) => setUrl(e.target.value.trim())}
            onBlur={liftCredentials}
          />
          {urlError && (
            <div className="tech-error" data-testid="url-error">
              {urlError}
            </div>
          )}
          {parsed && !('error' in parsed) && (parsed.username !== undefined || parsed.password !== undefined) && (
            <div className="tech-hint">The credentials in the URL move to the fields below when you leave this field.</div>
          )}
          {fieldError('url') && <div className="tech-error">{fieldError('url')}</div>}
        </div>
      </div>
      <div className="tech-row">
        <label htmlFor={`${id}-user`}>User name</label>
        <input id={`${id}-user`} value={username} autoComplete="off" maxLength={256} onChange={(e) => setUsername(e.target.value)} />
      </div>
      <div className="tech-row">
        <label htmlFor={`${id}-pass`}>Password</label>
        <div className="tech-field">
          <input
            id={`${id}-pass`}
            type="password"
            value={password}
            autoComplete="new-password"
            maxLength={256}
            disabled={clearPassword}
            placeholder={camera?.hasPassword ? 'stored; leave empty to keep it' : ''}
            onChange={(e) => setPassword(e.target.value)}
          />
          {camera?.hasPassword && (
            <label className="tech-check">
              <input type="checkbox" checked={clearPassword} onChange={(e) => setClearPassword(e.target.checked)} /> Remove the stored
              password
            </label>
          )}
        </div>
      </div>
      <div className="tech-probe" data-testid="probe-status" data-state={current.state} aria-live="polite">
        {current.state === 'idle' && (
          <span className="muted">
            {urlError
              ? 'Fix the URL to test the connection.'
              : url
                ? 'The connection is tested when you pause typing.'
                : 'Enter the camera’s RTSP URL.'}
          </span>
        )}
        {current.state === 'running' && <span>Connecting to the camera…</span>}
        {current.state === 'ok' && (
          <span className="tech-ok">
            ✓ {current.info.codec.toUpperCase()} · {current.info.width}×{current.info.height} · {current.info.fps} fps{' '}
            <span className="muted">({current.info.tookMs} ms)</span>
          </span>
        )}
        {current.state === 'failed' && <span className="tech-error">✗ {current.message}</span>}
        <button
          type="button"
          className="ghost-button"
          disabled={!parsed || 'error' in parsed || current.state === 'running'}
          onClick={() => void runProbe()}
        >
          Test connection
        </button>
      </div>
      <div className="tech-row">
        <label htmlFor={`${id}-sub`}>Sub-stream URL</label>
        <div className="tech-field">
          <input
            id={`${id}-sub`}
            value={subUrl}
            spellCheck={false}
            autoComplete="off"
            placeholder="optional: rtsp://host:554/substream (analysis reads it; live and recording use the main stream)"
            aria-invalid={!!subError}
            data-testid="sub-url"
            onChange={(e) => setSubUrl(e.target.value.trim())}
          />
          {subError && (
            <div className="tech-error" data-testid="sub-url-error">
              {subError}
            </div>
          )}
          {subParsed && !('error' in subParsed) && (subParsed.username !== undefined || subParsed.password !== undefined) && (
            <div className="tech-error">Put the credentials in the fields above: the sub-stream uses the same ones as the main stream.</div>
          )}
          {fieldError('subUrl') && <div className="tech-error">{fieldError('subUrl')}</div>}
        </div>
      </div>
      {subUrl && (
        <div className="tech-probe" data-testid="sub-probe-status" data-state={subCurrent.state} aria-live="polite">
          {subCurrent.state === 'idle' && (
            <span className="muted">
              {subError ? 'Fix the sub-stream URL to test it.' : 'The sub-stream is tested when you pause typing.'}
            </span>
          )}
          {subCurrent.state === 'running' && <span>Connecting to the sub-stream…</span>}
          {subCurrent.state === 'ok' && (
            <span className="tech-ok">
              ✓ Sub-stream {subCurrent.info.codec.toUpperCase()} · {subCurrent.info.width}×{subCurrent.info.height} · {subCurrent.info.fps}{' '}
              fps <span className="muted">({subCurrent.info.tookMs} ms)</span>
              {subNotSmaller && <span className="tech-error"> · not smaller than the main stream: analysis gains nothing from it</span>}
            </span>
          )}
          {subCurrent.state === 'failed' && <span className="tech-error">✗ Sub-stream: {subCurrent.message}</span>}
          <button
            type="button"
            className="ghost-button"
            disabled={!subParsed || 'error' in subParsed || subCurrent.state === 'running'}
            onClick={() => void runSubProbe()}
          >
            Test sub-stream
          </button>
        </div>
      )}
      <MountPicker value={mount} onChange={setMount} stations={stations} error={fieldError('mount')} hint={mountError} />
      <div className="tech-row">
        <span className="tech-label">Processing</span>
        <div className="tech-field">
          <label className="tech-check">
            <input type="checkbox" checked={analytics} onChange={(e) => setAnalytics(e.target.checked)} /> Analytics (people counting,
            zones, alerts)
          </label>
          <label className="tech-check">
            <input type="checkbox" checked={recording} onChange={(e) => setRecording(e.target.checked)} /> Recording
          </label>
        </div>
      </div>
      {serverError && !['name', 'url', 'subUrl', 'mount'].includes(serverError.field?.split('.')[0] ?? '') && (
        <div className="tech-error" role="alert">
          {serverError.message}
        </div>
      )}
      {saved && (
        <div className="tech-ok" role="status">
          {saved}
        </div>
      )}
      <div className="tech-actions">
        <button type="submit" className="tech-primary" disabled={!canSave}>
          {saving ? 'Saving…' : camera ? 'Save changes' : 'Register camera'}
        </button>
        {(current.state === 'failed' || subCurrent.state === 'failed') && (
          <button
            type="button"
            className="ghost-button"
            disabled={!canSave}
            onClick={() => void save(true)}
            title="The camera may be offline right now; it is retried after saving"
          >
            Save without a working connection
          </button>
        )}
        {camera && onDeleted && <span className="spacer" />}
        {camera && onDeleted && (
          <button
            type="button"
            className={confirmDelete ? 'tech-danger' : 'ghost-button'}
            disabled={saving}
            onBlur={() => setConfirmDelete(false)}
            onClick={() => {
              // Two clicks: deleting stops the camera and forgets it (its clips stay until retention).
              if (!confirmDelete) return setConfirmDelete(true);
              setSaving(true);
              call('cameraDelete', { params: { id: camera.id } })
                .then(() => onDeleted())
                .catch((err: Error) => setServerError({ message: err.message, field: undefined }))
                .finally(() => {
                  setSaving(false);
                  setConfirmDelete(false);
                });
            }}
          >
            {confirmDelete ? `Really delete ${camera.name}?` : 'Delete camera'}
          </button>
        )}
        {onCancel && (
          <button type="button" className="ghost-button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
