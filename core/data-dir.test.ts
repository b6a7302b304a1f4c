import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initDataDir, requireSentinelDataDir } from './data-dir';

describe('a new data directory (users create-admin --init)', () => {
  const root = mkdtempSync(join(tmpdir(), 'sentinel-data-dir-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('on Postgres holds the keys folder at once, so the next command accepts it before the core ever ran', () => {
    const dataDir = join(root, 'pg');
    initDataDir({ dataDir, database: { url: 'postgres://sentinel@127.0.0.1:5432/sentinel' } });
    expect(statSync(join(dataDir, 'keys')).mode & 0o777).toBe(0o700);
    expect(() => requireSentinelDataDir(dataDir)).not.toThrow();
    expect(existsSync(join(dataDir, 'sentinel.db'))).toBe(false);
  });

  it('on SQLite is left to the database file opened next (nothing else is made)', () => {
    const dataDir = join(root, 'sqlite');
    initDataDir({ dataDir, database: {} });
    expect(existsSync(dataDir)).toBe(true);
    expect(existsSync(join(dataDir, 'keys'))).toBe(false);
    expect(() => requireSentinelDataDir(dataDir)).toThrow(/holds no Sentinel data/);
  });
});
