import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { ClipCutter, CutClip } from '../../analytics/recording/clips';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { Clips, ClipStore } from './clips';

const cut = (id: string, cameraId: string, startMs: number, over: Partial<CutClip> = {}): CutClip => ({
  id,
  cameraId,
  path: `/clips/${id}.mp4`,
  snapshotPath: `/clips/${id}.jpg`,
  startMs,
  endMs: startMs + 12_345,
  durationS: 12.345,
  bytes: 5_000_000_000,
  sha256: `sha-${id}`,
  snapshotSha256: null,
  ...over,
});

describeOnBothDatabases('ClipStore', (open) => {
  it('stores clips and reads them back: by id with their files, per camera newest first, and the camera of a clip', async () => {
    const store = new ClipStore(await open());
    const at = new Date('2026-05-01T10:00:00.000Z');
    const c1 = await store.add(cut('c1', 'a', 1_790_000_000_000), at);
    await store.add(cut('c2', 'a', 1_790_000_100_000, { snapshotPath: null }), at);
    await store.add(cut('c3', 'b', 1_790_000_200_000), at);
    expect(c1).toEqual({
      id: 'c1',
      cameraId: 'a',
      startAt: new Date(1_790_000_000_000).toISOString(),
      endAt: new Date(1_790_000_012_345).toISOString(),
      durationS: 12.345,
      bytes: 5_000_000_000,
      sha256: 'sha-c1',
      snapshotSha256: null,
      createdAt: at.toISOString(),
    });
    expect(await store.get('c1')).toEqual({ ...c1, path: '/clips/c1.mp4', snapshotPath: '/clips/c1.jpg' });
    expect((await store.get('c2'))?.snapshotPath).toBeNull();
    expect(await store.get('nope')).toBeNull();
    expect((await store.list('a')).map((c) => c.id)).toEqual(['c2', 'c1']);
    expect(await store.list('z')).toEqual([]);
    expect(await store.cameraOf('c3')).toBe('b');
    expect(await store.cameraOf('nope')).toBeNull();
  });

  it('cuts and stores a clip; when it cannot be stored, its files are removed', async () => {
    const store = new ClipStore(await open());
    const dir = mkdtempSync(join(tmpdir(), 'clips-'));
    const files = (id: string) => {
      const path = join(dir, `${id}.mp4`);
      const snapshotPath = join(dir, `${id}.jpg`);
      writeFileSync(path, 'v');
      writeFileSync(snapshotPath, 'j');
      return { path, snapshotPath };
    };
    let next = cut('k1', 'a', 1000, files('k1'));
    const cutter = { cut: () => Promise.resolve(next) } as unknown as ClipCutter;
    const clips = new Clips(cutter, store);
    const c = await clips.cut('a', 1000, 2000, { preRollMs: 0, postRollMs: 0 });
    expect(c.id).toBe('k1');
    expect((await clips.get('k1'))?.path).toBe(next.path);
    expect((await clips.list('a')).map((x) => x.id)).toEqual(['k1']);
    // The same id again violates the primary key: the second cut's files go.
    next = { ...next, ...files('k1-again') };
    await expect(clips.cut('a', 1000, 2000, { preRollMs: 0, postRollMs: 0 })).rejects.toThrow();
    expect([existsSync(next.path), existsSync(next.snapshotPath!)]).toEqual([false, false]);
    expect(existsSync(join(dir, 'k1.mp4'))).toBe(true);
  });
});
