import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { login, seedAdmin, TEST_ADMIN, type SignedIn } from './auth';
import { testDatabaseUrl } from './core';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SENTINEL_BIN = join(REPO_ROOT, 'bin', 'sentinel.js');

export interface RunningServe {
  url: string;
  dataDir: string;
  /** The Postgres database the process runs on (integration-postgres), undefined on SQLite. */
  databaseUrl: string | undefined;
  proc: ChildProcess;
  stderr(): string;
  /** Signed in as TEST_ADMIN (see test/support/auth.ts); null with `{ auth: false }`. */
  admin: SignedIn | null;
  /** The admin's bearer token (shortcut for admin.token). */
  token: string;
  /** fetch as the admin, relative to the core's URL. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Stops the core (SIGTERM, then SIGKILL after 5 s) and removes a temp data dir. */
  stop(): Promise<number | null>;
}

export function tempDir(prefix = 'sentinel-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

const databaseOfDir = new Map<string, string>();

/** The test or bench file that called, read from the stack (plain JS: benches run outside vitest). */
function callerFile(): string {
  for (const line of (new Error().stack ?? '').split('\n').slice(2)) {
    const m = /([^\s(]+\.ts):\d+/.exec(line);
    if (m?.[1] && !m[1].includes('/test/support/')) return m[1];
  }
  return '';
}

/**
 * Starts the real `sentinel serve` as a child process on a free port (the same command a
 * user runs) and resolves once it prints its console URL.
 */
export async function startServe(
  opts: {
    args?: string[];
    env?: NodeJS.ProcessEnv;
    dataDir?: string;
    timeoutMs?: number;
    auth?: boolean;
    /** A Postgres database to run on (a benchmark's own server); by default the run's (see testDatabaseUrl). */
    databaseUrl?: string;
  } = {},
): Promise<RunningServe> {
  const caller = callerFile(); // before any await, while the stack still holds the caller
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? tempDir();
  // Every route needs a session: the first admin is created in the data directory before the
  // core starts (what `sentinel users create-admin` does), then we sign in over HTTP.
  // On a Postgres run the core gets its own fresh database, named to it by the environment;
  // a restart on the same data directory finds the same database, as it finds its SQLite file.
  let databaseUrl = opts.databaseUrl ?? databaseOfDir.get(dataDir);
  if (!databaseUrl) {
    databaseUrl = await testDatabaseUrl();
    if (databaseUrl) databaseOfDir.set(dataDir, databaseUrl);
  }
  if (opts.auth !== false) await seedAdmin(dataDir, databaseUrl);
  const proc = spawn(process.execPath, [SENTINEL_BIN, 'serve', '--port', '0', '--data-dir', dataDir, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      SENTINEL_LOG_LEVEL: 'warn',
      // Names the test that started it, so a core left running after a run says whose it is.
      SENTINEL_TEST_FILE: caller,
      ...(databaseUrl ? { SENTINEL_DATABASE_URL: databaseUrl } : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`sentinel serve did not start within ${opts.timeoutMs ?? 60_000} ms; stderr:\n${err}`)),
      opts.timeoutMs ?? 60_000,
    );
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Sentinel console at (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`sentinel serve exited with ${code}; stderr:\n${err}`));
    });
  });
  const admin = opts.auth !== false ? await login(url, TEST_ADMIN.username, TEST_ADMIN.password) : null;
  return {
    url,
    dataDir,
    databaseUrl,
    proc,
    admin,
    token: admin?.token ?? '',
    api: (path, init) => (admin ? admin.api(path, init) : fetch(new URL(path, url), init)),
    stderr: () => err,
    stop: () =>
      new Promise((res) => {
        const done = (code: number | null): void => {
          if (ownDir) rmSync(dataDir, { recursive: true, force: true });
          res(code);
        };
        // Already gone (it exited, or a test killed it with a signal): nothing to wait for.
        if (proc.exitCode !== null || proc.signalCode !== null) return done(proc.exitCode);
        const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
        proc.once('exit', (code) => {
          clearTimeout(kill);
          done(code);
        });
        proc.kill('SIGTERM');
      }),
  };
}

/** Runs the `sentinel` CLI to completion and returns its exit code and output. */
export function runSentinel(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; stdin?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const proc = spawn(process.execPath, [SENTINEL_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn', ...opts.env },
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.stdin !== undefined) proc.stdin!.end(opts.stdin);
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}
