import { expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { AlertClipStore, HoldStore } from './holds';

const t0 = new Date('2026-05-01T10:00:00.000Z');
const later = new Date('2026-05-01T11:00:00.000Z');

describeOnBothDatabases('HoldStore', (open) => {
  it('places holds (whole ms outward), gets them, and lists the active ones by camera and start', async () => {
    const holds = new HoldStore(await open());
    const m = await holds.place(
      { cameraId: 'b', fromMs: 100.7, toMs: 200.2, kind: 'manual', ref: 'case-1', reason: 'court', createdBy: 'ann' },
      t0,
    );
    expect(m).toEqual({
      id: expect.any(Number),
      cameraId: 'b',
      fromMs: 100,
      toMs: 201,
      kind: 'manual',
      ref: 'case-1',
      reason: 'court',
      createdBy: 'ann',
      createdAt: t0.toISOString(),
      liftedAt: null,
      liftedBy: null,
      liftReason: null,
    });
    const a = await holds.place({ cameraId: 'a', fromMs: 500, toMs: 600, kind: 'alert', ref: 'al-1', reason: 'alert evidence' }, t0);
    const a2 = await holds.place({ cameraId: 'a', fromMs: 50, toMs: 60, kind: 'manual', ref: 'case-2', reason: 'x' }, t0);
    expect(a.createdBy).toBeNull();
    expect(await holds.get(m.id)).toEqual(m);
    expect(await holds.get(m.id + 1000)).toBeNull();
    expect((await holds.active()).map((h) => h.id)).toEqual([a2.id, a.id, m.id]);
    expect((await holds.active('a')).map((h) => h.id)).toEqual([a2.id, a.id]);
    expect(await holds.active('none')).toEqual([]);
  });

  it('places an alert hold once: a second place returns the first, also when both race', async () => {
    const holds = new HoldStore(await open());
    const h = { cameraId: 'a', fromMs: 1, toMs: 2, kind: 'alert' as const, ref: 'al-1', reason: 'alert evidence' };
    const [x, y] = await Promise.all([holds.place(h), holds.place({ ...h, fromMs: 0 })]);
    expect(y).toEqual(x);
    expect(await holds.place(h)).toEqual(x);
    expect(await holds.forAlert('al-1')).toEqual([x]);
    // Manual holds with the same reference are separate holds.
    await holds.place({ ...h, kind: 'manual', ref: 'al-1' });
    await holds.place({ ...h, kind: 'manual', ref: 'al-1' });
    expect(await holds.forAlert('al-1')).toEqual([x]);
    expect(await holds.active()).toHaveLength(3);
  });

  it('lifts an active hold once, keeping who, when and why; lifted holds stay listed as recent', async () => {
    const db = await open();
    const holds = new HoldStore(db);
    const h = await holds.place({ cameraId: 'a', fromMs: 1, toMs: 2, kind: 'alert', ref: 'al-1', reason: 'alert evidence' }, t0);
    const other = await holds.place({ cameraId: 'a', fromMs: 3, toMs: 4, kind: 'manual', ref: 'c', reason: 'r' }, t0);
    const lifted = await holds.lift(h.id, 'bob', 'reviewed', later);
    expect(lifted).toEqual({ ...h, liftedAt: later.toISOString(), liftedBy: 'bob', liftReason: 'reviewed' });
    expect(await holds.lift(h.id, 'eve', 'again', later)).toBeNull();
    expect(await holds.lift(h.id + 1000, 'eve', 'none', later)).toBeNull();
    expect((await holds.get(h.id))?.liftedBy).toBe('bob');
    expect((await holds.active()).map((x) => x.id)).toEqual([other.id]);
    expect(await holds.forAlert('al-1')).toEqual([lifted]);
    expect((await holds.recent()).map((x) => x.id)).toEqual([other.id, h.id]);
    expect((await holds.recent(1)).map((x) => x.id)).toEqual([other.id]);
  });

  it("lifts inside the caller's transaction: rolled back with it", async () => {
    const db = await open();
    const holds = new HoldStore(db);
    const h = await holds.place({ cameraId: 'a', fromMs: 1, toMs: 2, kind: 'manual', ref: 'c', reason: 'r' });
    await expect(
      db.transaction(async (trx) => {
        expect(await holds.lift(h.id, 'bob', 'why', later, trx)).not.toBeNull();
        expect((await holds.get(h.id, trx))?.liftedAt).toBe(later.toISOString());
        throw new Error('audit failed');
      }),
    ).rejects.toThrow('audit failed');
    expect((await holds.get(h.id))?.liftedAt).toBeNull();
    await db.transaction(async (trx) => void (await holds.lift(h.id, 'bob', 'why', later, trx)));
    expect((await holds.get(h.id))?.liftedAt).toBe(later.toISOString());
  });
});

describeOnBothDatabases('AlertClipStore', (open) => {
  it('begins a cut once per alert, then records it ready or failed; pending cuts are listed oldest first', async () => {
    const links = new AlertClipStore(await open());
    expect(await links.begin('al-2', 'a', 10.5, 20.5, later)).toBe(true);
    expect(await links.begin('al-1', 'a', 1, 2, t0)).toBe(true);
    expect(await links.begin('al-1', 'b', 5, 6, later)).toBe(false);
    expect(await links.get('al-1')).toEqual({
      alertId: 'al-1',
      cameraId: 'a',
      fromMs: 1,
      toMs: 2,
      state: 'pending',
      clipId: null,
      sha256: null,
      error: null,
      createdAt: t0.toISOString(),
      updatedAt: t0.toISOString(),
    });
    expect(await links.get('none')).toBeNull();
    expect((await links.pending()).map((l) => [l.alertId, l.fromMs, l.toMs])).toEqual([
      ['al-1', 1, 2],
      ['al-2', 10, 21],
    ]);

    await links.failed('al-1', 'x'.repeat(3000), later);
    expect(await links.get('al-1')).toMatchObject({ state: 'failed', error: 'x'.repeat(2000), updatedAt: later.toISOString() });
    // A later retry that succeeds clears the error.
    await links.ready('al-1', 'clip-1', 'abc', later);
    expect(await links.get('al-1')).toMatchObject({ state: 'ready', clipId: 'clip-1', sha256: 'abc', error: null });
    expect((await links.pending()).map((l) => l.alertId)).toEqual(['al-2']);
  });
});
