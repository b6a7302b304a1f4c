import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ROLES, type Role, type User } from '../../../contract';
import { ApiError, call } from '../client/api';
import { StatisticsAdmin } from '../statistics/StatisticsAdmin';

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * Administration (admins only; the core refuses everyone else): users with their roles and
 * liaison scopes, a new user, enabling/disabling (which ends the user's sessions and sockets),
 * signing a user out everywhere, resetting a lost second factor, and the "send test alert"
 * that proves the liaisons of a district receive their pushes.
 */
export function AdminDialog({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const [users, setUsers] = useState<User[]>([]);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [form, setForm] = useState({ username: '', password: '', role: 'operator' as Role, districts: '', lines: '', routes: '' });
  const [testDistrict, setTestDistrict] = useState('1');
  const fail = (err: unknown): void => setMsg({ ok: false, text: err instanceof ApiError ? err.message : 'request failed' });
  const load = useCallback(() => {
    call('users')
      .then((r) => setUsers(r.users))
      .catch(fail);
  }, []);
  useEffect(() => {
    ref.current?.focus();
    load();
  }, [load]);

  const create = (e: FormEvent): void => {
    e.preventDefault();
    call('userCreate', {
      body: {
        username: form.username,
        password: form.password,
        role: form.role,
        scope: { districts: list(form.districts), lines: list(form.lines), routes: list(form.routes) },
      },
    })
      .then((u) => {
        setMsg({ ok: true, text: `Created ${u.username} (${u.role}).` });
        setForm((f) => ({ ...f, username: '', password: '' }));
        load();
      })
      .catch(fail);
  };
  const toggle = (u: User): void => {
    call('userUpdate', { params: { id: u.id }, body: { disabled: !u.disabled } })
      .then(() => load())
      .catch(fail);
  };
  const signOutEverywhere = (u: User): void => {
    call('userSignOutEverywhere', { params: { id: u.id }, body: {} })
      .then((r) => setMsg({ ok: true, text: `Signed ${u.username} out of ${r.revoked} session${r.revoked === 1 ? '' : 's'}.` }))
      .catch(fail);
  };
  const resetMfa = (u: User): void => {
    // A lost phone: the user sets up the factor again at their next sign-in, and is told.
    if (!window.confirm(`Reset ${u.username}'s two-step sign-in? Their authenticator and recovery codes stop working.`)) return;
    call('userMfaReset', { params: { id: u.id }, body: {} })
      .then(() => {
        setMsg({ ok: true, text: `Reset ${u.username}'s two-step sign-in; they are told at once and at their next sign-in.` });
        load();
      })
      .catch(fail);
  };
  const testAlert = (): void => {
    call('testAlert', { body: { district: testDistrict, cameraName: `Test alert (district ${testDistrict})` } })
      .then(() => setMsg({ ok: true, text: `Test alert sent to district ${testDistrict}.` }))
      .catch(fail);
  };

  return (
    <div className="overlay" onClick={onClose}>
      <div
        className="dialog admin-dialog"
        role="dialog"
        aria-modal="true"
        aria-label="Administration"
        tabIndex={-1}
        ref={ref}
        onClick={(e) => e.stopPropagation()}
      >
        <header>
          <h2>Administration</h2>
          <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        {msg && (
          <p className={msg.ok ? 'admin-ok' : 'auth-error'} role="status">
            {msg.text}
          </p>
        )}
        <table className="admin-users">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>Scope</th>
              <th>Two-step</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} className={u.disabled ? 'muted' : ''}>
                <td>{u.username}</td>
                <td>{u.role}</td>
                <td>
                  {[...u.scope.districts.map((d) => `D${d}`), ...u.scope.lines, ...u.scope.routes.map((r) => `#${r}`)].join(' ') || '—'}
                </td>
                <td>{u.totpEnabled ? 'on' : 'off'}</td>
                <td className="admin-user-actions" data-testid={`admin-user-${u.username}`}>
                  <button type="button" className="ghost-button" onClick={() => toggle(u)}>
                    {u.disabled ? 'Enable' : 'Disable'}
                  </button>
                  <button type="button" className="ghost-button" onClick={() => signOutEverywhere(u)}>
                    Sign out everywhere
                  </button>
                  {u.totpEnabled && (
                    <button type="button" className="ghost-button" onClick={() => resetMfa(u)}>
                      Reset two-step
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form className="admin-form" onSubmit={create} aria-label="New user">
          <h3>New user</h3>
          <input
            aria-label="New user name"
            placeholder="user name"
            value={form.username}
            onChange={(e) => setForm({ ...form, username: e.target.value })}
            required
          />
          <input
            aria-label="New user password"
            placeholder="password (12+ characters)"
            type="password"
            autoComplete="new-password"
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
            required
          />
          <select aria-label="Role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
          {form.role === 'liaison' && (
            <>
              <input
                aria-label="Districts"
                placeholder="districts, e.g. 1, 18"
                value={form.districts}
                onChange={(e) => setForm({ ...form, districts: e.target.value })}
              />
              <input
                aria-label="Lines"
                placeholder="'L' lines, e.g. Red, Blue"
                value={form.lines}
                onChange={(e) => setForm({ ...form, lines: e.target.value })}
              />
              <input
                aria-label="Bus routes"
                placeholder="bus routes, e.g. 9, 66"
                value={form.routes}
                onChange={(e) => setForm({ ...form, routes: e.target.value })}
              />
            </>
          )}
          <button type="submit">Create user</button>
        </form>
        <div className="admin-form">
          <h3>Send test alert</h3>
          <input aria-label="Test alert district" value={testDistrict} onChange={(e) => setTestDistrict(e.target.value)} size={3} />
          <button type="button" onClick={testAlert}>
            Send to district
          </button>
        </div>
        <StatisticsAdmin />
      </div>
    </div>
  );
}
