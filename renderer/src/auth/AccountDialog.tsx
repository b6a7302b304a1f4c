import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { MfaStatus, SessionInfo } from '../../../contract';
import { ApiError, call } from '../client/api';
import { MfaEnrolment, RecoveryCodeList } from './MfaEnrolment';
import { CodeField } from './CodeField';

const errorText = (err: unknown): string => (err instanceof ApiError ? err.message : 'request failed');
const when = (iso: string): string => new Date(iso).toLocaleString();

/** A short device name from a user agent (the full string is in the title). */
export function deviceOf(userAgent: string | null): string {
  if (!userAgent) return 'unknown device';
  if (/Electron\//.test(userAgent)) return 'Sentinel desktop app';
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : null;
  const os = /Windows/.test(userAgent)
    ? 'Windows'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Android/.test(userAgent)
        ? 'Android'
        : /Mac OS X/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : null;
  return browser ? `${browser}${os ? ` on ${os}` : ''}` : userAgent.slice(0, 40);
}

type Mode =
  | { kind: 'view' }
  | { kind: 'enrol'; replacing: boolean }
  | { kind: 'confirm'; what: 'codes' | 'off' }
  | { kind: 'codes'; codes: string[] };

/**
 * The signed-in user's own account: two-step sign-in (set up, move to a new phone, new
 * recovery codes, switch off where the policy allows) and the sessions signed in as them,
 * each of which they can end.
 */
export function AccountDialog({ onClose, onSignedOut }: { onClose: () => void; onSignedOut: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const [mfa, setMfa] = useState<MfaStatus | null>(null);
  const [sessions, setSessions] = useState<SessionInfo[]>([]);
  const [mode, setMode] = useState<Mode>({ kind: 'view' });
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const fail = (err: unknown): void => setMsg({ ok: false, text: errorText(err) });
  const load = useCallback(() => {
    call('mfaStatus').then(setMfa).catch(fail);
    call('mySessions')
      .then((r) => setSessions(r.sessions))
      .catch(fail);
  }, []);
  useEffect(() => {
    ref.current?.focus();
    load();
  }, [load]);

  const revoke = (s: SessionInfo): void => {
    call('mySessionRevoke', { params: { id: s.id } })
      .then(() => {
        if (s.current) return onSignedOut();
        setMsg({ ok: true, text: `Signed out ${deviceOf(s.userAgent)}.` });
        load();
      })
      .catch(fail);
  };
  const revokeOthers = (): void => {
    call('mySessionsRevokeOthers', { body: {} })
      .then((r) => {
        setMsg({ ok: true, text: `Signed out ${r.revoked} other session${r.revoked === 1 ? '' : 's'}.` });
        load();
      })
      .catch(fail);
  };
  const confirm = (e: FormEvent, what: 'codes' | 'off'): void => {
    e.preventDefault();
    const body = { password, code: code.trim() };
    const done = (): void => {
      setPassword('');
      setCode('');
    };
    if (what === 'codes')
      call('recoveryCodesRegenerate', { body })
        .then((r) => {
          done();
          setMode({ kind: 'codes', codes: r.recoveryCodes });
        })
        .catch(fail);
    else
      call('totpDisable', { body })
        .then(() => {
          done();
          setMsg({ ok: true, text: 'Two-step sign-in is off.' });
          setMode({ kind: 'view' });
          load();
        })
        .catch(fail);
  };
  const back = (): void => {
    setMode({ kind: 'view' });
    load();
  };

  return (
    <div className="overlay" onClick={onClose}>
      <div
        className="dialog account-dialog"
        role="dialog"
        aria-modal="true"
        aria-label="Your account"
        tabIndex={-1}
        ref={ref}
        onClick={(e) => e.stopPropagation()}
      >
        <header>
          <h2>Your account</h2>
          <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        {msg && (
          <p className={msg.ok ? 'admin-ok' : 'auth-error'} role="status">
            {msg.text}
          </p>
        )}
        <section aria-label="Two-step sign-in" className="account-section">
          <h3>Two-step sign-in</h3>
          {mode.kind === 'enrol' && (
            <MfaEnrolment
              replacing={mode.replacing}
              onDone={() => {
                setMsg({ ok: true, text: 'Two-step sign-in is on.' });
                back();
              }}
              onCancel={back}
            />
          )}
          {mode.kind === 'codes' && (
            <RecoveryCodeList
              codes={mode.codes}
              onDone={() => {
                setMsg({ ok: true, text: 'New recovery codes saved; the old ones no longer work.' });
                back();
              }}
            />
          )}
          {mode.kind === 'confirm' && (
            <form className="mfa-step" aria-label="Confirm it is you" onSubmit={(e) => confirm(e, mode.what)}>
              <p className="muted">
                {mode.what === 'codes'
                  ? 'New recovery codes replace the old ones.'
                  : 'Switching off two-step sign-in makes the password alone enough.'}{' '}
                Confirm with your password and a current code (or a recovery code).
              </p>
              <label>
                Your password
                <input
                  type="password"
                  autoComplete="current-password"
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                  required
                />
              </label>
              <CodeField label="Current code or recovery code" value={code} onChange={setCode} orRecovery required />
              <div className="mfa-actions">
                <button type="submit">{mode.what === 'codes' ? 'Make new recovery codes' : 'Turn off two-step sign-in'}</button>
                <button type="button" className="ghost-button" onClick={back}>
                  Cancel
                </button>
              </div>
            </form>
          )}
          {mode.kind === 'view' && mfa && (
            <div data-testid="mfa-status">
              <p>
                {mfa.enabled ? `On · ${mfa.recoveryCodesLeft} recovery code${mfa.recoveryCodesLeft === 1 ? '' : 's'} left` : 'Off'}
                {mfa.required && <span className="muted"> · required for your role</span>}
              </p>
              <div className="mfa-actions">
                {!mfa.enabled && (
                  <button type="button" onClick={() => setMode({ kind: 'enrol', replacing: false })}>
                    Set up two-step sign-in
                  </button>
                )}
                {mfa.enabled && (
                  <>
                    <button type="button" onClick={() => setMode({ kind: 'enrol', replacing: true })}>
                      Move to a new phone
                    </button>
                    <button type="button" onClick={() => setMode({ kind: 'confirm', what: 'codes' })}>
                      New recovery codes
                    </button>
                    {!mfa.required && (
                      <button type="button" className="ghost-button" onClick={() => setMode({ kind: 'confirm', what: 'off' })}>
                        Turn off
                      </button>
                    )}
                  </>
                )}
              </div>
            </div>
          )}
        </section>
        <section aria-label="Sessions" className="account-section">
          <h3>Where you are signed in</h3>
          <table className="admin-users" data-testid="my-sessions">
            <thead>
              <tr>
                <th>Device</th>
                <th>Address</th>
                <th>Signed in</th>
                <th>Last seen</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id} data-session-id={s.id}>
                  <td title={s.userAgent ?? ''}>
                    {deviceOf(s.userAgent)}
                    {s.method === 'sso' && <span className="muted"> · single sign-on</span>}
                    {s.current && <strong> · this one</strong>}
                  </td>
                  <td>{s.ip ?? '—'}</td>
                  <td>{when(s.createdAt)}</td>
                  <td>{when(s.lastSeenAt)}</td>
                  <td>
                    <button type="button" className="ghost-button" onClick={() => revoke(s)}>
                      Sign out
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {sessions.length > 1 && (
            <button type="button" className="ghost-button" onClick={revokeOthers}>
              Sign out all other sessions
            </button>
          )}
        </section>
      </div>
    </div>
  );
}
