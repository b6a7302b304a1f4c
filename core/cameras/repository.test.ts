import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { createLogger } from '../logger';
import { CameraCatalog, type CameraChange } from './catalog';
import { CameraRepository } from './repository';
import { CredentialVault } from './secrets';
import type { CameraTables } from './tables';

const log = createLogger('silent');
const station = { kind: 'station', stationId: '41320' } as const;

describeOnBothDatabases('CameraRepository', (open) => {
  const repoOn = (db: SqlDb, dir = mkdtempSync(join(tmpdir(), 'cams-'))) => new CameraRepository(db, new CredentialVault(dir, null));

  it('creates, reads, lists by name, updates and deletes a camera, credentials encrypted at rest', async () => {
    const db = await open();
    const repo = repoOn(db);
    const b = await repo.create({
      name: 'b platform',
      url: 'rtsp://op:s3cret@10.0.0.2/main',
      mount: station,
      location: { lat: 41.9, lon: -87.6 },
    });
    const a = await repo.create({ name: 'A cab', url: 'rtsp://10.0.0.1/cab', analyticsEnabled: false }, { demo: true });
    expect(b).toMatchObject({ url: 'rtsp://10.0.0.2/main', credentials: { username: 'op', password: 's3cret' }, mount: station });
    expect(b.location).toEqual({ lat: 41.9, lon: -87.6 });
    expect(a).toMatchObject({ analyticsEnabled: false, recordingEnabled: true, demo: true, subUrl: null, location: null });
    // Byte order: upper case before lower case, on both databases.
    expect((await repo.list()).map((c) => c.name)).toEqual(['A cab', 'b platform']);
    expect(await repo.get(b.id)).toEqual(b);
    expect(await repo.findByName('A cab')).toEqual(a);
    expect(await repo.get('nope')).toBeNull();
    expect(await repo.findByName('a cab')).toBeNull();

    const raw = await db.as<CameraTables>().selectFrom('cameras').selectAll().where('id', '=', b.id).executeTakeFirstOrThrow();
    expect(raw.url).not.toContain('s3cret');
    expect(raw.credentials!.toString('latin1')).not.toContain('s3cret');
    expect(raw.demo).toBe(0);

    const u = await repo.update(b.id, { name: 'B platform', password: 'n3w', subUrl: 'rtsp://10.0.0.2/sub', recordingEnabled: false });
    expect(u).toMatchObject({ name: 'B platform', credentials: { username: 'op', password: 'n3w' }, subUrl: 'rtsp://10.0.0.2/sub' });
    expect(u.recordingEnabled).toBe(false);
    expect(u.createdAt).toBe(b.createdAt);
    expect(await repo.get(b.id)).toEqual(u);
    // A URL with credentials replaces them; null clears a field.
    expect((await repo.update(b.id, { url: 'rtsp://x:y@10.0.0.3/main' })).credentials).toEqual({ username: 'x', password: 'y' });
    expect((await repo.update(b.id, { password: null, location: null })).credentials).toEqual({ username: 'x' });

    expect(await repo.delete(a.id)).toBe(true);
    expect(await repo.delete(a.id)).toBe(false);
    expect((await repo.list()).map((c) => c.id)).toEqual([b.id]);
  });

  it('refuses a taken name, an unknown camera and a bad URL, writing nothing', async () => {
    const repo = repoOn(await open());
    const a = await repo.create({ name: 'Cam', url: 'rtsp://h/a' });
    const b = await repo.create({ name: 'Other', url: 'rtsp://h/b' });
    await expect(repo.create({ name: 'Cam', url: 'rtsp://h/c' })).rejects.toMatchObject({ code: 'conflict' });
    await expect(repo.update(b.id, { name: 'Cam' })).rejects.toMatchObject({ code: 'conflict' });
    expect((await repo.update(a.id, { name: 'Cam' })).name).toBe('Cam'); // its own name is not a conflict
    await expect(repo.update('nope', { name: 'x' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(repo.update(b.id, { subUrl: 'http://h/b' })).rejects.toMatchObject({ code: 'validation_failed' });
    expect((await repo.get(b.id))?.subUrl).toBeNull();
    expect((await repo.list()).map((c) => c.name)).toEqual(['Cam', 'Other']);
  });

  it('creates all cameras of a batch in one transaction, or none', async () => {
    const repo = repoOn(await open());
    const made = await repo.createAll([
      { name: 'One', url: 'rtsp://h/1' },
      { name: 'Two', url: 'rtsp://h/2' },
    ]);
    expect(made.map((c) => c.name)).toEqual(['One', 'Two']);
    await expect(
      repo.createAll([
        { name: 'Three', url: 'rtsp://h/3' },
        { name: 'One', url: 'rtsp://h/1b' },
      ]),
    ).rejects.toThrow(/already exists/);
    expect((await repo.list()).map((c) => c.name)).toEqual(['One', 'Two']);
  });

  it('says so when the credentials of a camera cannot be decrypted (another key)', async () => {
    const db = await open();
    const c = await repoOn(db).create({ name: 'Cam', url: 'rtsp://u:p@h/a' });
    // Another key directory: the ciphertext cannot be opened.
    await expect(repoOn(db).get(c.id)).rejects.toThrow(/cannot be decrypted/);
  });
});

/** Two replicas' catalogs over one database, joined by an in-memory stand-in for the Redis topic. */
function fakeCluster() {
  const subs: { who: number; fn: (payload: unknown, from: string) => void }[] = [];
  let up = true;
  const member = (who: number) => ({
    clustered: true,
    publish: (_topic: string, payload: unknown) => {
      if (up) for (const s of subs) if (s.who !== who) s.fn(payload, `replica-${who}`);
    },
    subscribe: async (_topic: string, fn: (payload: unknown, from: string) => void): Promise<void> => void subs.push({ who, fn }),
  });
  return { member, setUp: (v: boolean) => void (up = v) };
}

describeOnBothDatabases('CameraCatalog', (open) => {
  const two = async () => {
    const db = await open();
    const dir = mkdtempSync(join(tmpdir(), 'cams-'));
    const a = new CameraCatalog(new CameraRepository(db, new CredentialVault(dir, null)), log);
    const b = new CameraCatalog(new CameraRepository(db, new CredentialVault(dir, null)), log);
    return { db, a, b };
  };

  it('answers reads from memory and applies its own writes at once', async () => {
    const { a } = await two();
    await a.load();
    const changes: CameraChange[] = [];
    a.onChange((c) => changes.push(c));
    const c = await a.create({ name: 'Zed', url: 'rtsp://h/z' });
    await a.create({ name: 'Alpha', url: 'rtsp://h/a' });
    expect(a.list().map((x) => x.name)).toEqual(['Alpha', 'Zed']);
    expect(a.get(c.id)).toEqual(c);
    expect(a.findByName('Zed')?.id).toBe(c.id);
    const u = await a.update(c.id, { analyticsEnabled: false });
    expect(a.get(c.id)).toEqual(u);
    expect(await a.delete(c.id)).toBe(true);
    expect(a.get(c.id)).toBeNull();
    expect(changes.map((x) => [x.origin, x.before?.name ?? null, x.after?.name ?? null])).toEqual([
      ['here', null, 'Zed'],
      ['here', null, 'Alpha'],
      ['here', 'Zed', 'Zed'],
      ['here', 'Zed', null],
    ]);
  });

  it('sees a camera written through another replica: at once by its notice, or at the resync when the notice is lost', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { a, b } = await two();
      const cluster = fakeCluster();
      await Promise.all([a.load(), b.load()]);
      const stopA = await a.follow(cluster.member(1), 10_000);
      await b.follow(cluster.member(2), 10_000);
      const changes: CameraChange[] = [];
      a.onChange((c) => changes.push(c));

      const c = await b.create({ name: 'Cam', url: 'rtsp://u:p@h/a', mount: station });
      await vi.waitFor(() => expect(a.get(c.id)).toEqual(c));
      const u = await b.update(c.id, { url: 'rtsp://h/b' });
      await vi.waitFor(() => expect(a.get(c.id)?.url).toBe('rtsp://h/b'));
      expect(a.get(c.id)).toEqual(u);
      expect(changes.map((x) => x.origin)).toEqual(['replica', 'replica']);

      // Redis away: the notice is dropped, the periodic re-read catches up.
      cluster.setUp(false);
      await b.delete(c.id);
      const late = await b.create({ name: 'Late', url: 'rtsp://h/l' });
      expect(a.get(c.id)).not.toBeNull();
      await vi.advanceTimersByTimeAsync(10_000);
      await vi.waitFor(() => expect(a.list().map((x) => x.id)).toEqual([late.id]));
      expect(changes).toContainEqual(expect.objectContaining({ id: c.id, after: null, origin: 'replica' }));

      // fresh() finds a camera created elsewhere a moment ago without waiting for either.
      const now = await b.create({ name: 'Now', url: 'rtsp://h/n' });
      expect(a.get(now.id)).toBeNull();
      expect(await a.fresh(now.id)).toEqual(now);
      expect(a.get(now.id)).toEqual(now);
      expect(await a.fresh('nope')).toBeNull();
      stopA();
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not follow anyone when the process is alone', async () => {
    const { a } = await two();
    const subscribe = vi.fn();
    const stop = await a.follow({ clustered: false, publish: vi.fn(), subscribe });
    expect(subscribe).not.toHaveBeenCalled();
    stop();
  });
});
