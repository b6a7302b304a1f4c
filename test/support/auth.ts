import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { Session, SOCKET_PATH, type ClientToServerEvents, type Role, type ServerToClientEvents, type UserCreate } from '../../contract';
import { UserStore } from '../../core/auth/store';
import { prepareDataDir } from '../../core/data-dir';
import { openDatabase, type Database } from '../../core/db/database';

/**
 * How tests sign in (every route and socket needs a session).
 *
 * - `sentinel serve` children (startServe): before the child starts, the first admin is
 *   created directly in the data directory's database (TEST_ADMIN below), exactly what
 *   `sentinel users create-admin` does; then startServe signs in over HTTP and the returned
 *   RunningServe carries `token`, `api()` (fetch with the bearer token) and `socket()`.
 * - In-process cores (startCore): `signIn(core)` creates the admin in the core's database
 *   and signs in over HTTP, returning the same helpers.
 * - Chromium: `openPage(browser, url, viewport, { token })` puts the session cookie in the
 *   page's context (or drive the real sign-in screen, as test/e2e/auth.test.ts does).
 *
 * There is no default password in the product: this one exists only in test data dirs.
 */
export const TEST_ADMIN = { username: 'test-admin', password: 'test-admin-password-not-for-production' } as const;

const noopPolicy = { ttlMs: 12 * 3_600_000, idleMs: 30 * 60_000 };

/** Creates a user in an open database (no-op when the user name exists). */
export async function ensureUser(db: Database, user: UserCreate & { role: Role }): Promise<void> {
  const store = new UserStore(db, noopPolicy);
  if (store.byUsername(user.username)) return;
  await store.create(user);
}

/** Creates TEST_ADMIN in a data directory (before `sentinel serve` starts on it). */
export async function seedAdmin(dataDir: string): Promise<void> {
  prepareDataDir(dataDir);
  const db = openDatabase(join(dataDir, 'sentinel.db'));
  try {
    await ensureUser(db, { ...TEST_ADMIN, role: 'admin' });
  } finally {
    db.close();
  }
}

export interface SignedIn {
  token: string;
  session: Session;
  /** fetch with `Authorization: Bearer`, relative to the core's URL. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** A socket.io client with this session (not yet waited for: use `connected(socket)`). */
  socket(opts?: { lastAlertId?: string; lastSeq?: number }): Socket<ServerToClientEvents, ClientToServerEvents>;
}

export async function login(baseUrl: string, username: string, password: string): Promise<SignedIn> {
  const res = await fetch(new URL('/api/v1/auth/login', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in as ${username} failed: ${res.status} ${await res.text()}`);
  const session = Session.parse(await res.json());
  return signedIn(baseUrl, session);
}

export function signedIn(baseUrl: string, session: Session): SignedIn {
  const token = session.token;
  return {
    token,
    session,
    api: (path, init = {}) =>
      fetch(new URL(path, baseUrl), {
        ...init,
        headers: {
          ...(init.body !== undefined && typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}),
          ...(init.headers as Record<string, string> | undefined),
          authorization: `Bearer ${token}`,
        },
      }),
    socket: (opts = {}) => ioClient(baseUrl, { path: SOCKET_PATH, transports: ['websocket'], auth: { token, ...opts }, forceNew: true }),
  };
}

/** Signs in to an in-process core as TEST_ADMIN (creating it in the core's database). */
export async function signIn(
  core: { url: string; db: Database },
  user: UserCreate & { role: Role } = { ...TEST_ADMIN, role: 'admin' },
): Promise<SignedIn> {
  await ensureUser(core.db, user);
  return login(core.url, user.username, user.password);
}

/** Creates a user through the admin API (audited, like the console does) and signs in as it. */
export async function createAndLogin(baseUrl: string, admin: SignedIn, user: UserCreate & { role: Role }): Promise<SignedIn> {
  const res = await admin.api('/api/v1/users', { method: 'POST', body: JSON.stringify(user) });
  if (res.status !== 201) throw new Error(`creating ${user.username} failed: ${res.status} ${await res.text()}`);
  return login(baseUrl, user.username, user.password);
}

export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', (e) => reject(e));
  });
}
