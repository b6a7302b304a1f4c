import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server as IoServer } from 'socket.io';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/redis';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { sqliteSql } from '../db/sql';
import type { SentinelIo } from '../feature';
import { createLogger } from '../logger';
import { safeRedisUrl, startCluster } from './index';

describe('cluster configuration', () => {
  it('SENTINEL_REDIS_URL selects Redis, and a malformed one is refused by name', () => {
    const dataDir = '/tmp/sentinel-never-created';
    expect(loadConfig({ dataDir }, {}).cluster.redisUrl).toBeUndefined();
    expect(loadConfig({ dataDir }, { SENTINEL_REDIS_URL: 'redis://10.0.0.5:6379' }).cluster).toMatchObject({
      redisUrl: 'redis://10.0.0.5:6379',
      leaseTtlS: 10,
    });
    expect(() => loadConfig({ dataDir }, { SENTINEL_REDIS_URL: 'http://10.0.0.5' })).toThrow(/SENTINEL_REDIS_URL is not a redis/);
  });

  it('never shows a Redis password', () => {
    expect(safeRedisUrl('redis://sentinel:s3cret@redis.cta.local:6379/0')).toBe('redis://sentinel:***@redis.cta.local:6379/0');
    expect(safeRedisUrl('not a url')).toBe('(unparseable URL)');
  });

  it('refuses to start when Redis cannot be reached, naming where (and not the password)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-cluster-unit-'));
    const db = sqliteSql(openDatabase(join(dir, 'sentinel.db')));
    const io: SentinelIo = new IoServer();
    try {
      const port = await freePort(); // nothing listens there
      const config = loadConfig({ dataDir: dir }, { SENTINEL_REDIS_URL: `redis://u:pw-123@127.0.0.1:${port}` });
      const err = await startCluster({ config, sql: db, io, log: createLogger('silent') }).catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(new RegExp(`cannot connect to Redis at redis://u:\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
      expect((err as Error).message).not.toContain('pw-123');
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
