import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { AuthStatus, Session, User, UserNotice } from '../../../contract';
import { ApiError, call } from '../client/api';
import { useCoreSocket } from '../client/CoreProvider';
import { AccountDialog } from './AccountDialog';
import { AdminDialog } from './AdminDialog';
import { MfaEnrolment } from './MfaEnrolment';
import { can, SessionContext } from './session';
import { SsoButton } from './SsoButton';
import './auth.css';
import { CodeField } from './CodeField';

type Phase =
  | { kind: 'loading' }
  | { kind: 'setup' }
  | { kind: 'login'; note?: string }
  | { kind: 'enrol'; user: User; notices: UserNotice[] }
  | { kind: 'in'; user: User; notices: UserNotice[] }
  | { kind: 'unreachable'; message: string };

/**
 * Nothing of the console (map, sockets, video) loads before sign-in: the core would refuse
 * it, and the browser would log every refusal. First run (no users): the set-up screen
 * creates the administrator; there is no default password. A user whose role must use a
 * second factor and has none goes to enrolment first (the core refuses everything else to
 * that session anyway).
 */
export function AuthGate({ children }: { children: (user: User) => ReactNode }) {
  const socket = useCoreSocket();
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const [policyNote, setPolicyNote] = useState<string | null>(null);
  // Notices survive a trip through enrolment (an admin's reset sends a liaison there).
  const kept = useRef<UserNotice[]>([]);

  const enter = useCallback((user: User, mfaEnrolmentRequired: boolean, notices: UserNotice[] = []) => {
    const all = [...kept.current, ...notices.filter((n) => !kept.current.some((k) => k.id === n.id))];
    kept.current = all;
    setPhase(mfaEnrolmentRequired ? { kind: 'enrol', user, notices: all } : { kind: 'in', user, notices: all });
  }, []);
  const refresh = useCallback(
    (note?: string) => {
      call('authStatus')
        .then((s: AuthStatus) => {
          setPolicyNote(s.policyNote);
          if (s.setupRequired) return setPhase({ kind: 'setup' });
          if (s.user) return enter(s.user, s.mfaEnrolmentRequired);
          setPhase({ kind: 'login', ...(note ? { note } : {}) });
        })
        .catch((err: Error) => setPhase({ kind: 'unreachable', message: err.message }));
    },
    [enter],
  );
  useEffect(() => refresh(), [refresh]);
  const started = (s: Session): void => enter(s.user, s.mfaEnrolmentRequired, s.notices);

  const signedIn = phase.kind === 'in';
  useEffect(() => {
    if (!signedIn) return;
    socket.connect();
    const expired = (): void => refresh('Your session ended; sign in again.');
    const notice = (n: UserNotice): void => {
      if (!kept.current.some((k) => k.id === n.id)) kept.current = [...kept.current, n];
      setPhase((p) => (p.kind === 'in' ? { ...p, notices: kept.current } : p));
    };
    socket.on('auth:expired', expired);
    socket.on('auth:notice', notice);
    return () => {
      socket.off('auth:expired', expired);
      socket.off('auth:notice', notice);
      socket.disconnect();
    };
  }, [signedIn, socket, refresh]);
  const dismiss = useCallback((id: number) => {
    kept.current = kept.current.filter((n) => n.id !== id);
    setPhase((p) => (p.kind === 'in' || p.kind === 'enrol' ? { ...p, notices: kept.current } : p));
  }, []);

  const signOut = useCallback(() => {
    kept.current = [];
    void call('logout')
      .catch(() => undefined)
      .finally(() => setPhase({ kind: 'login', note: 'Signed out.' }));
  }, []);

  switch (phase.kind) {
    case 'loading':
      return <div className="auth-screen" aria-busy="true" />;
    case 'unreachable':
      return (
        <div className="auth-screen">
          <div className="auth-card" role="alert">
            <h1>Sentinel</h1>
            <p>Cannot reach the Sentinel core: {phase.message}</p>
            <button type="button" onClick={() => refresh()}>
              Try again
            </button>
          </div>
        </div>
      );
    case 'setup':
      return <SetupScreen onDone={started} />;
    case 'login':
      return <LoginScreen note={phase.note} policyNote={policyNote} onDone={started} />;
    case 'enrol':
      return (
        <div className="auth-screen">
          <div className="auth-card mfa-card" aria-labelledby="enrol-title">
            <h1 id="enrol-title">Set up two-step sign-in</h1>
            <Notices notices={phase.notices} onDismiss={dismiss} />
            <p className="muted">
              Your role ({phase.user.role}) must use a second factor: a code from an authenticator app on your phone, as well as your
              password. Set it up to open the console.
            </p>
            <MfaEnrolment replacing={false} onDone={() => refresh()} />
            <button type="button" className="ghost-button" onClick={signOut}>
              Sign out
            </button>
          </div>
        </div>
      );
    case 'in':
      return (
        <SessionContext.Provider value={{ user: phase.user, signOut }}>
          {phase.notices.length > 0 && (
            <div className="auth-notices">
              <Notices notices={phase.notices} onDismiss={dismiss} />
            </div>
          )}
          {children(phase.user)}
        </SessionContext.Provider>
      );
  }
}

/** What the user must be told (an administrator reset their second factor), until dismissed. */
function Notices({ notices, onDismiss }: { notices: UserNotice[]; onDismiss: (id: number) => void }) {
  return (
    <>
      {notices.map((n) => (
        <div key={n.id} className="auth-notice" role="alert" data-testid="auth-notice">
          <span>{n.message}</span>
          <button type="button" className="ghost-button" onClick={() => onDismiss(n.id)} aria-label="Dismiss notice">
            OK
          </button>
        </div>
      ))}
    </>
  );
}

function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : 'Something went wrong; try again.';
}

function LoginScreen({ note, policyNote, onDone }: { note?: string | undefined; policyNote: string | null; onDone: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [useRecovery, setUseRecovery] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const second = needTotp && totp.trim() ? (useRecovery ? { recoveryCode: totp.trim() } : { totp: totp.trim() }) : {};
    call('login', { body: { username, password, ...second } })
      .then(onDone)
      .catch((err: unknown) => {
        if (err instanceof ApiError && (err.field === 'totp' || err.field === 'recoveryCode')) setNeedTotp(true);
        setError(errorText(err));
      })
      .finally(() => setBusy(false));
  };
  return (
    <div className="auth-screen">
      <form className="auth-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Sentinel</h1>
        {note && <p className="muted">{note}</p>}
        {policyNote && (
          <p className="muted" data-testid="policy-note">
            {policyNote}
          </p>
        )}
        <label>
          User name
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            autoFocus
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {needTotp && !useRecovery && <CodeField label="Authenticator code" name="totp" value={totp} onChange={setTotp} autoFocus />}
        {needTotp && useRecovery && (
          <label>
            Recovery code
            <input name="recovery-code" autoComplete="off" value={totp} onChange={(e) => setTotp(e.target.value)} autoFocus />
          </label>
        )}
        {needTotp && (
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setUseRecovery(!useRecovery);
              setTotp('');
            }}
          >
            {useRecovery ? 'Use the authenticator app' : 'Lost your phone? Use a recovery code'}
          </button>
        )}
        {error && (
          <p className="auth-error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <SsoButton />
      </form>
    </div>
  );
}

function SetupScreen({ onDone }: { onDone: (s: Session) => void }) {
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (password !== again) return setError('The two passwords differ.');
    setError(null);
    call('authSetup', { body: { username, password } })
      .then(onDone)
      .catch((err: unknown) => setError(errorText(err)));
  };
  return (
    <div className="auth-screen">
      <form className="auth-card" onSubmit={submit} aria-labelledby="setup-title">
        <h1 id="setup-title">Set up Sentinel</h1>
        <p className="muted">
          No one has an account yet. Create the administrator; there is no default password. Use at least 12 characters.
        </p>
        <label>
          Administrator user name
          <input name="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            minLength={12}
          />
        </label>
        <label>
          Password again
          <input
            name="password-again"
            type="password"
            autoComplete="new-password"
            value={again}
            onChange={(e) => setAgain(e.target.value)}
            required
          />
        </label>
        {error && (
          <p className="auth-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit">Create administrator</button>
      </form>
    </div>
  );
}

/** The signed-in user, their account (second factor, sessions), administration (admins only) and sign-out, for the top bar. */
export function UserMenu({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const [admin, setAdmin] = useState(false);
  const [account, setAccount] = useState(false);
  return (
    <span className="user-menu" data-testid="user-menu">
      <button type="button" className="ghost-button" onClick={() => setAccount(true)}>
        Account
      </button>
      {account && <AccountDialog onClose={() => setAccount(false)} onSignedOut={onSignOut} />}
      {can(user.role, 'manageUsers') && (
        <button type="button" className="ghost-button" onClick={() => setAdmin(true)}>
          Administration
        </button>
      )}
      {admin && <AdminDialog onClose={() => setAdmin(false)} />}
      <span>
        {user.displayName} <span className="muted">· {user.role}</span>
      </span>
      <button type="button" className="ghost-button" onClick={onSignOut}>
        Sign out
      </button>
    </span>
  );
}
