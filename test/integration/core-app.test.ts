import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiErrorBody, HealthResponse, ServerHello } from '../../contract';
import { startCore, type CoreHandle } from '../../core/app';
import { loadConfig } from '../../core/config';
import type { Feature } from '../../core/feature';
import { parseInput } from '../../core/http/errors';
import { createLogger } from '../../core/logger';
import { signIn, type SignedIn } from '../support/auth';
import { ON_POSTGRES, onTestDatabase } from '../support/core';

const Echo = z.strictObject({ name: z.string().min(1), count: z.number().int().positive() });
// A route used only to exercise the shared validation and error path end to end.
const echoFeature: Feature = {
  name: 'echo',
  register(ctx) {
    // Test-only routes are not in the contract's table, so they declare who may call them.
    ctx.http.post('/api/v1/test/echo', { config: { access: ['operator'] } }, async (req) => parseInput(Echo, req.body));
    ctx.http.get('/api/v1/test/boom', { config: { access: ['operator'] } }, async () => {
      throw new Error('secret internal detail');
    });
  },
};

let core: CoreHandle | null = null;
afterEach(async () => {
  await core?.close();
  core = null;
});

async function start(): Promise<CoreHandle & { admin: SignedIn }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-app-'));
  core = await startCore(await onTestDatabase(loadConfig({ port: 0, dataDir, assetsDir: '/nonexistent-assets' }, {})), {
    log: createLogger('silent'),
    after: [echoFeature],
  });
  return { ...core, admin: await signIn(core) };
}

describe('core HTTP API and socket.io', () => {
  it('answers health with status ok, version, schema and the missing assets', async () => {
    const c = await start();
    const res = await fetch(new URL('/api/v1/health', c.url));
    expect(res.status).toBe(200);
    const body = HealthResponse.parse(await res.json());
    expect(body.status).toBe('ok');
    expect(body.database).toMatchObject(
      ON_POSTGRES ? { dialect: 'postgres', journalMode: null } : { dialect: 'sqlite', journalMode: 'wal' },
    );
    expect(body.assets.ok).toBe(false);
    expect(body.assets.missing[0]?.impact).toMatch(/does not exist/);
    // Signed out, health does not reveal where the installation keeps its files...
    expect(body.assets.dir).toBeNull();
    expect(JSON.stringify(body)).not.toContain('/nonexistent-assets');
    // ...signed in, it does.
    const full = HealthResponse.parse(await (await c.admin.api('/api/v1/health')).json());
    expect(full.assets.dir).toBe('/nonexistent-assets');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    // Helmet with today's policy, and none of its defaults that break a plain-HTTP localhost core.
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('returns the contract error shape for validation, bad JSON, unknown routes and crashes', async () => {
    const c = await start();
    const post = (body: string) =>
      c.admin.api('/api/v1/test/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    const ok = await post(JSON.stringify({ name: 'a', count: 2 }));
    expect(await ok.json()).toEqual({ name: 'a', count: 2 });

    const invalid = await post(JSON.stringify({ name: 'a', count: -1 }));
    expect(invalid.status).toBe(400);
    const invalidBody = ApiErrorBody.parse(await invalid.json());
    expect(invalidBody.error).toMatchObject({ code: 'validation_failed', field: 'count' });

    const unknown = ApiErrorBody.parse(await (await post(JSON.stringify({ name: 'a', count: 1, extra: true }))).json());
    expect(unknown.error.message).toContain('"extra"');

    const notJson = await post('{"name": ');
    expect(notJson.status).toBe(400);
    expect(ApiErrorBody.parse(await notJson.json()).error.code).toBe('bad_request');

    const missing = await c.admin.api('/api/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(ApiErrorBody.parse(await missing.json()).error.code).toBe('not_found');

    const boom = await c.admin.api('/api/v1/test/boom');
    expect(boom.status).toBe(500);
    const boomBody = ApiErrorBody.parse(await boom.json());
    expect(boomBody.error.message).not.toContain('secret'); // internals stay in the log
  });

  it('greets a socket.io client and answers its ping; a malformed ping does not break the socket', async () => {
    const c = await start();
    const socket = connect(c.url, { path: '/socket.io', transports: ['websocket'], auth: { token: c.admin.token } });
    try {
      const hello = ServerHello.parse(await new Promise((res) => socket.once('server:hello', res)));
      expect(hello.assets.ok).toBe(false);
      socket.emit('client:ping', { sentAt: 'nope' }, () => undefined);
      const pong = (await socket.timeout(5000).emitWithAck('client:ping', { sentAt: 42 })) as { sentAt: number; serverTime: number };
      expect(pong.sentAt).toBe(42);
      expect(pong.serverTime).toBeGreaterThan(0);
    } finally {
      socket.close();
    }
  });

  it('refuses an occupied port with a clear message and releases what it opened', async () => {
    const c = await start();
    const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-app-'));
    // Both starts on one database (on Postgres, one fresh database for the two).
    const { database } = await onTestDatabase(loadConfig({ port: 0, dataDir }, {}));
    await expect(startCore({ ...loadConfig({ port: c.port, dataDir }, {}), database }, { log: createLogger('silent') })).rejects.toThrow(
      `port ${c.port} on 127.0.0.1 is already in use`,
    );
    // The failed start closed its database: a second core can open the same data dir.
    const again = await startCore({ ...loadConfig({ port: 0, dataDir }, {}), database }, { log: createLogger('silent') });
    await again.close();
  });
});
