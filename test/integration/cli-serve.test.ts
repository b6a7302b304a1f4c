import { createServer } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HealthResponse } from '../../contract';
import { ON_POSTGRES, testDatabaseUrl } from '../support/core';
import { runSentinel, startServe, tempDir } from '../support/serve';

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => res(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** The environment of a `sentinel serve` on the run's database (a fresh one on Postgres, the data directory's file on SQLite). */
async function onRunDatabase(): Promise<{ env: NodeJS.ProcessEnv }> {
  const url = await testDatabaseUrl();
  return { env: url ? { SENTINEL_DATABASE_URL: url } : {} };
}

/** A failure must be exactly one line on stderr, naming the problem. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

describe('sentinel CLI', () => {
  it('--help lists the commands', async () => {
    const r = await runSentinel(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/serve \[options\]/);
  });

  it('serve --port N --data-dir DIR answers health and serves the console, then stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const dataDir = join(tempDir(), 'x');
    const core = await startServe({ dataDir, args: ['--port', String(port)] });
    try {
      expect(core.url).toBe(`http://127.0.0.1:${port}/`);
      const health = HealthResponse.parse(await (await fetch(`${core.url}api/v1/health`)).json());
      expect(health.status).toBe('ok');
      const page = await fetch(core.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
    } finally {
      expect(await core.stop()).toBe(0);
    }
  });

  it('an invalid config file exits 1 with one line naming the key', async () => {
    const dir = tempDir();
    const file = join(dir, 'sentinel.json');
    writeFileSync(file, JSON.stringify({ server: { port: 8787, hots: 'x' } }));
    const r = await runSentinel(['serve', '--config', file, '--data-dir', join(dir, 'data')], await onRunDatabase());
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(`sentinel: ${file}: unknown key "server.hots"`);
  });

  it('an occupied port exits 1 with one line', async () => {
    const core = await startServe();
    try {
      const port = new URL(core.url).port;
      const r = await runSentinel(['serve', '--port', port, '--data-dir', tempDir()], await onRunDatabase());
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toBe(`sentinel: port ${port} on 127.0.0.1 is already in use; choose another with --port`);
    } finally {
      await core.stop();
    }
  });

  it('an unwritable data directory exits 1 with one line', async () => {
    // Root passes permission checks, so the unwritable directory is one under a regular file.
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), '');
    const r = await runSentinel(['serve', '--port', '0', '--data-dir', join(dir, 'file', 'data')], await onRunDatabase());
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^sentinel: data directory .*file\/data is not writable: /);
  });

  // On Postgres the data directory's sentinel.db is never opened: this is about that file.
  it.skipIf(ON_POSTGRES)('a corrupt database file is reported, never replaced (SQLite file only)', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const db = join(dir, 'sentinel.db');
    writeFileSync(db, 'not sqlite at all');
    const r = await runSentinel(['serve', '--port', '0', '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^sentinel: database .*sentinel\.db is not a SQLite database/);
    expect(readFileSync(db, 'utf8')).toBe('not sqlite at all');
  });

  it('a bad flag value exits non-zero with a usage message', async () => {
    const r = await runSentinel(['serve', '--port', 'eighty'], await onRunDatabase());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('"eighty" is not a port number');
  });
});
