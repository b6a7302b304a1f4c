import { sql } from 'kysely';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiErrorBody } from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import { loadConfig } from '../../core/config';
import { createLogger } from '../../core/logger';
import { signIn, type SignedIn } from '../support/auth';
import { onTestDatabase } from '../support/core';
import { num } from '../support/rows';

describe('rate limits (@fastify/rate-limit): sign-in per address, writes per user', () => {
  let core: CoreHandle;
  let admin: SignedIn;
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-ratelimit-'));
    const cfg = await onTestDatabase(loadConfig({ port: 0, dataDir, assetsDir: '/nonexistent-assets' }, {}));
    core = await startCore(
      { ...cfg, auth: { ...cfg.auth, freeFailures: 100, rateLimit: { signInPerMinute: 4, writesPerMinute: 3 } } },
      { log: createLogger('silent') },
    );
    admin = await signIn(core); // sign-in 1 of 4
  });
  afterAll(async () => {
    await core?.close();
  });

  it('refuses the sign-in beyond the limit with 429 and the error shape', async () => {
    const post = () =>
      fetch(new URL('/api/v1/auth/login', core.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'nobody', password: 'wrong-password' }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post()).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const last = await post();
    expect(last.status).toBe(429);
    expect(ApiErrorBody.parse(await last.json()).error.code).toBe('rate_limited');
  });

  it('limits writes per user, never reads', async () => {
    for (let i = 0; i < 10; i++) expect((await admin.api('/api/v1/auth/me')).status).toBe(200);
    const write = () => admin.api('/api/v1/users', { method: 'POST', body: JSON.stringify({}) });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await write()).status);
    expect(statuses).toEqual([400, 400, 400, 429]);
    expect(await num(core.sql, sql`SELECT COUNT(*) AS n FROM users`)).toBe(1);
  });
});
