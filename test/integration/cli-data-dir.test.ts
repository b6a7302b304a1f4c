import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../contract';
import { UserStore } from '../../core/auth/store';
import { openData } from '../../core/db/open';
import { testDatabaseUrl } from '../support/core';
import { REPO_ROOT, runSentinel, SENTINEL_BIN, tempDir } from '../support/serve';

/** The environment naming a command's database: a Postgres one on a Postgres run, none (the data directory's file) on SQLite. */
function databaseEnv(url: string | undefined): NodeJS.ProcessEnv {
  return url ? { SENTINEL_DATABASE_URL: url } : {};
}

// With a Postgres database configured the data directory is still checked first: it holds the
// installation's keys, and a mistyped one must not get fresh keys (or read another's database).
describe('commands that read an installation refuse a directory with no Sentinel data', () => {
  for (const args of [
    ['audit', 'verify'],
    ['evidence', 'key'],
    ['users', 'list'],
    ['users', 'create', '--username', 'lee', '--role', 'operator'],
    ['users', 'create-admin', '--username', 'chief'],
  ]) {
    it(`sentinel ${args.join(' ')} --data-dir /wrong/dir names the directory and creates nothing`, async () => {
      const dir = join(tempDir(), 'wrong');
      const r = await runSentinel([...args, '--data-dir', dir], { env: databaseEnv(await testDatabaseUrl()) });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${dir} holds no Sentinel data`);
      expect(r.stdout).not.toMatch(/ok|BEGIN PUBLIC KEY|"username"/);
      expect(existsSync(dir)).toBe(false);
    });
  }

  it('an existing but empty directory is refused as well (mkdir then a typo in the config is the same mistake)', async () => {
    const dir = tempDir();
    const r = await runSentinel(['users', 'create-admin', '--username', 'chief', '--data-dir', dir], {
      env: databaseEnv(await testDatabaseUrl()),
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `sentinel: ${dir} holds no Sentinel data (no sentinel.db, no keys/); pass the data directory of a Sentinel that has run (or pass --init to create it)`,
    );
    expect(existsSync(join(dir, 'sentinel.db'))).toBe(false);
  });
});

describe('sentinel models list', () => {
  it('exits 1 and says why when no model in the directory is usable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-models-empty-'));
    try {
      const r = await runSentinel(['models', 'list', '--models-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('missing file');
      expect(r.stderr).toContain(`sentinel: no model is usable in ${dir}`);
      const json = await runSentinel(['models', 'list', '--json', '--models-dir', dir]);
      expect(json.code).toBe(1);
      expect((JSON.parse(json.stdout) as { models: unknown[] }).models.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Runs the CLI inside a real pseudo-terminal (util-linux `script`), so stdin.isTTY is true
 * exactly as for a person at a console. Keys are fed once each prompt has appeared.
 */
function inPty(
  args: string[],
  answers: Array<{ after: string; type: string }>,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; screen: string }> {
  const cmd = [process.execPath, SENTINEL_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((res, rej) => {
    const p = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...process.env, SENTINEL_LOG_LEVEL: 'warn', TERM: 'dumb', ...env },
    });
    let screen = '';
    let next = 0;
    p.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      // Answer each prompt once it is on the screen (the pty echoes nothing while raw).
      while (next < answers.length && screen.split(answers[next]!.after).length > countBefore(next)) {
        p.stdin.write(answers[next]!.type);
        next++;
      }
    });
    // The n-th answer waits for the n-th occurrence of its prompt text among the answers so far.
    const countBefore = (i: number): number => answers.slice(0, i + 1).filter((a) => a.after === answers[i]!.after).length;
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      rej(new Error(`no exit within 60 s; screen so far:\n${screen}`));
    }, 60_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, screen });
    });
  });
}

describe.skipIf(!existsSync('/usr/bin/script'))('users create-admin in a terminal [needs util-linux script]', () => {
  const dataDir = join(tempDir(), 'fresh');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const password = 'typed-in-a-terminal-42';
  let databaseUrl: string | undefined;
  beforeAll(async () => {
    databaseUrl = await testDatabaseUrl();
  });

  it('asks twice without echo and refuses two different passwords', async () => {
    const r = await inPty(
      ['users', 'create-admin', '--username', 'chief', '--data-dir', dataDir, '--init'],
      [
        { after: 'Password (not shown): ', type: `${password}\r` },
        { after: 'Same password again: ', type: 'something-else-entirely\r' },
      ],
      databaseEnv(databaseUrl),
    );
    expect(r.code).toBe(1);
    expect(r.screen).toContain('the two passwords differ; nothing was created');
    expect(r.screen).not.toContain(password);
  });

  it('creates the administrator from the typed password (backspace edits), never showing it', async () => {
    const r = await inPty(
      ['users', 'create-admin', '--username', 'chief', '--data-dir', dataDir, '--init'],
      [
        { after: 'Password (not shown): ', type: `${password}x\u007f\r` },
        { after: 'Same password again: ', type: `${password}\r` },
      ],
      databaseEnv(databaseUrl),
    );
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).not.toContain(password);
    const line = r.screen.split(/\r?\n/).find((l) => l.startsWith('{'));
    expect(User.parse(JSON.parse(line ?? '{}'))).toMatchObject({ username: 'chief', role: 'admin' });
    // On Postgres the administrator is in the database named to the command, and no SQLite file is made.
    expect(existsSync(join(dataDir, 'sentinel.db'))).toBe(!databaseUrl);
    // The stored hash is of what was typed, minus the erased x.
    const db = await openData({ dataDir, database: { url: databaseUrl } });
    try {
      const store = new UserStore(db, { ttlMs: 60_000, idleMs: 60_000 });
      const chief = (await store.byUsername('chief'))!;
      expect(await store.checkPassword(chief.id, password)).toBe(true);
      expect(await store.checkPassword(chief.id, `${password}x`)).toBe(false);
    } finally {
      await db.close();
    }
  });
});
