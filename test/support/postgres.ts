import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './redis';

/** Debian's PostgreSQL server binaries (package `postgresql`); tests that need Postgres skip without them, saying so. */
export const POSTGRES_BIN =
  ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'].find(
    (d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres')),
  ) ?? null;

export interface RunningPostgres {
  /** postgres:// URL of the `postgres` database, superuser `sentinel`, no password (trust on loopback). */
  url: string;
  port: number;
  proc: ChildProcess;
  /** Creates an empty database and returns its URL, so each test file can have its own. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * initdb and postgres refuse to run as root (a superuser process could be taken over through
 * the server). CI (`.ci/run`) runs as root, so there the server runs as an unprivileged account:
 * Debian's package creates `postgres`; `nobody` is the fallback. node's spawn drops to that
 * uid/gid itself, so the child is postgres and not a wrapper (signals reach it directly).
 */
function serverAccount(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
    } catch {
      // No such account: try the next.
    }
  }
  throw new Error('running as root, and neither a `postgres` nor a `nobody` account exists to run PostgreSQL as');
}

/**
 * Starts a private PostgreSQL: a fresh cluster (initdb) in a temporary directory, listening on
 * a free port on 127.0.0.1 and on a unix socket in that directory, with fsync off (a test
 * cluster is thrown away, durability would only cost time; `durable` keeps it for benchmarks). Resolves once it accepts
 * connections; `stop()` shuts it down (fast mode) and removes the directory.
 */
export async function startPostgres(timeoutMs = 30_000, opts: { durable?: boolean } = {}): Promise<RunningPostgres> {
  if (!POSTGRES_BIN) throw new Error('PostgreSQL server binaries are not installed (apt-get install postgresql)');
  const bin = POSTGRES_BIN;
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-pg-'));
  const data = join(dir, 'data');
  const account = serverAccount();
  if (account) chownSync(dir, account.uid, account.gid);
  const spawnAs = account ? { uid: account.uid, gid: account.gid } : {};
  // The child's HOME and cwd must be readable by the account it runs as.
  const env = { ...process.env, HOME: dir, LC_ALL: 'C' };

  await new Promise<void>((resolve, reject) => {
    const init = spawn(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'sentinel', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      { ...spawnAs, cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    init.stdout.on('data', (d: Buffer) => (out += d.toString()));
    init.stderr.on('data', (d: Buffer) => (out += d.toString()));
    init.once('error', reject);
    init.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb exited with ${code}:\n${out}`))));
  }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });

  const port = await freePort();
  const proc = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      // A benchmark compares against SQLite's durable commits, so it keeps Postgres's own.
      ...(opts.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ],
    { ...spawnAs, cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (proc.exitCode !== null || proc.signalCode !== null) return done();
      // SIGTERM is the "smart" shutdown: it lets clients that are closing finish (a fast
      // shutdown would send them a FATAL they report as an uncaught error). A client left
      // open keeps a smart shutdown waiting, so after 2 s it becomes a fast one (SIGINT).
      const fast = setTimeout(() => proc.kill('SIGINT'), 2000);
      proc.once('exit', () => {
        clearTimeout(fast);
        done();
      });
      proc.kill('SIGTERM');
    });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`postgres did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (/database system is ready to accept connections/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`postgres exited with ${code}:\n${out}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const url = `postgres://sentinel@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    proc,
    stop,
    async createDatabase(name: string): Promise<string> {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${JSON.stringify(name)}: lower-case letters, digits, _`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://sentinel@127.0.0.1:${port}/${name}`;
    },
  };
}
