import { expect, it } from 'vitest';
import { Zone } from '../../contract/zones';
import { describeOnBothDatabases } from '../../test/support/dialects';
import type { SqlDb } from '../db/sql';
import { ModelChoiceStore, OccupancyStore, ZoneStore } from './store';

interface CameraRow {
  cameras: { id: string; name: string; url: string; mount: string; created_at: string; updated_at: string };
}

/** Zones, samples and model choices belong to a camera (foreign keys): a bare camera row. */
const camera = async (db: SqlDb, id: string): Promise<void> => {
  const at = new Date(0).toISOString();
  await db
    .as<CameraRow>()
    .insertInto('cameras')
    .values({ id, name: `Camera ${id}`, url: `rtsp://127.0.0.1/${id}`, mount: '{"kind":"fixed"}', created_at: at, updated_at: at })
    .execute();
};

const square = [
  [0.1, 0.1],
  [0.5, 0.1],
  [0.5, 0.5],
  [0.1, 0.5],
];
const zone = (id: string, kind = 'privacy'): Zone => Zone.parse({ id, name: `Zone ${id}`, kind, polygon: square });

describeOnBothDatabases('analytics store', (open) => {
  it('zones: replaced as a whole, read back in the order given, per camera', async () => {
    const db = await open();
    await camera(db, 'c1');
    await camera(db, 'c2');
    const zones = new ZoneStore(db);
    expect(await zones.list('c1')).toEqual([]);
    await zones.replace('c1', [zone('b'), zone('a')]);
    await zones.replace('c2', [zone('x')]);
    expect((await zones.list('c1')).map((z) => z.id)).toEqual(['b', 'a']);
    expect(await zones.list('c1')).toEqual([zone('b'), zone('a')]);
    await zones.replace('c1', [zone('a'), zone('c'), zone('b')]);
    expect((await zones.list('c1')).map((z) => z.id)).toEqual(['a', 'c', 'b']);
    await zones.replace('c1', []);
    expect(await zones.list('c1')).toEqual([]);
    expect((await zones.list('c2')).map((z) => z.id)).toEqual(['x']);
  });

  it('zones: a replacement that fails leaves the old zones in place', async () => {
    const db = await open();
    await camera(db, 'c1');
    const zones = new ZoneStore(db);
    await zones.replace('c1', [zone('a')]);
    // The same id twice breaks the primary key half-way: nothing of the replacement may stay.
    await expect(zones.replace('c1', [zone('b'), zone('b')])).rejects.toThrow();
    expect((await zones.list('c1')).map((z) => z.id)).toEqual(['a']);
  });

  it('occupancy: samples per zone in time order since a cut-off, swept by age', async () => {
    const db = await open();
    await camera(db, 'c1');
    const occ = new OccupancyStore(db);
    const t0 = 1_790_000_000_000;
    await occ.add('c1', t0 + 2000.4, { door: 3, platform: 7 });
    await occ.add('c1', t0, { door: 1 });
    await occ.add('c1', t0 + 1000, { door: 2 });
    await occ.add('c1', t0 + 3000, {});
    expect(await occ.series('c1', 'door', t0 + 500)).toEqual([
      { t: new Date(t0 + 1000).toISOString(), count: 2 },
      { t: new Date(t0 + 2000).toISOString(), count: 3 },
    ]);
    expect(await occ.series('c1', 'platform', 0)).toEqual([{ t: new Date(t0 + 2000).toISOString(), count: 7 }]);
    expect(await occ.sweep(t0 + 1500)).toBe(2);
    expect((await occ.series('c1', 'door', 0)).map((p) => p.count)).toEqual([3]);
  });

  it('model choices: a slot and a camera’s model, set, replaced and cleared', async () => {
    const db = await open();
    await camera(db, 'c1');
    await camera(db, 'c2');
    const m = new ModelChoiceStore(db);
    expect(await m.slot('detector')).toBeNull();
    await m.setSlot('detector', 'yolox-s', 'tech');
    await m.setSlot('detector', 'yolox-tiny', null);
    await m.setSlot('fight', 'builtin', 'tech');
    expect(await m.slot('detector')).toBe('yolox-tiny');
    expect(await m.slot('fight')).toBe('builtin');
    await m.setCamera('c1', 'yolox-s', 'tech');
    await m.setCamera('c2', 'yolox-s', 'tech');
    await m.setCamera('c2', 'yolox-m', 'tech');
    expect([...(await m.cameras())].sort()).toEqual([
      ['c1', 'yolox-s'],
      ['c2', 'yolox-m'],
    ]);
    await m.setCamera('c1', null, 'tech');
    expect([...(await m.cameras())]).toEqual([['c2', 'yolox-m']]);
  });
});
