import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import type { AuthStatus, User } from '../../../contract';
import { ApiError, call } from '../client/api';
import { useCoreSocket } from '../client/CoreProvider';
import { AdminDialog } from './AdminDialog';
import { can, SessionContext } from './session';
import { SsoButton } from './SsoButton';
import './auth.css';

type Phase =
  | { kind: 'loading' }
  | { kind: 'setup' }
  | { kind: 'login'; note?: string }
  | { kind: 'in'; user: User }
  | { kind: 'unreachable'; message: string };

/**
 * Nothing of the console (map, sockets, video) loads before sign-in: the core would refuse
 * it, and the browser would log every refusal. First run (no users): the set-up screen
 * creates the administrator; there is no default password.
 */
export function AuthGate({ children }: { children: (user: User) => ReactNode }) {
  const socket = useCoreSocket();
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  const refresh = useCallback((note?: string) => {
    call('authStatus')
      .then((s: AuthStatus) =>
        setPhase(
          s.setupRequired ? { kind: 'setup' } : s.user ? { kind: 'in', user: s.user } : { kind: 'login', ...(note ? { note } : {}) },
        ),
      )
      .catch((err: Error) => setPhase({ kind: 'unreachable', message: err.message }));
  }, []);
  useEffect(() => refresh(), [refresh]);

  const signedIn = phase.kind === 'in';
  useEffect(() => {
    if (!signedIn) return;
    socket.connect();
    const expired = (): void => refresh('Your session ended; sign in again.');
    socket.on('auth:expired', expired);
    return () => {
      socket.off('auth:expired', expired);
      socket.disconnect();
    };
  }, [signedIn, socket, refresh]);

  const signOut = useCallback(() => {
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
      return <SetupScreen onDone={(user) => setPhase({ kind: 'in', user })} />;
    case 'login':
      return <LoginScreen note={phase.note} onDone={(user) => setPhase({ kind: 'in', user })} />;
    case 'in':
      return <SessionContext.Provider value={{ user: phase.user, signOut }}>{children(phase.user)}</SessionContext.Provider>;
  }
}

function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : 'Something went wrong; try again.';
}

function LoginScreen({ note, onDone }: { note?: string | undefined; onDone: (u: User) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    call('login', { body: { username, password, ...(needTotp && totp ? { totp } : {}) } })
      .then((s) => onDone(s.user))
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.field === 'totp') setNeedTotp(true);
        setError(errorText(err));
      })
      .finally(() => setBusy(false));
  };
  return (
    <div className="auth-screen">
      <form className="auth-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Sentinel</h1>
        {note && <p className="muted">{note}</p>}
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
        {needTotp && (
          <label>
            Authenticator code
            <input
              name="totp"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="\d{6}"
              value={totp}
              onChange={(e) => setTotp(e.target.value)}
            />
          </label>
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

function SetupScreen({ onDone }: { onDone: (u: User) => void }) {
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (password !== again) return setError('The two passwords differ.');
    setError(null);
    call('authSetup', { body: { username, password } })
      .then((s) => onDone(s.user))
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

/** The signed-in user, administration (admins only) and sign-out, for the top bar. */
export function UserMenu({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const [admin, setAdmin] = useState(false);
  return (
    <span className="user-menu" data-testid="user-menu">
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
