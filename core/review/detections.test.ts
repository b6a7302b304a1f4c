import { expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { DetectionLog } from './detections';

describeOnBothDatabases('DetectionLog', (open) => {
  it('stores frames per camera by capture time, returns a time range in order, and prunes old ones', async () => {
    const log = new DetectionLog(await open(), undefined, 60_000);
    log.record('a', 2000, [{ id: 7, box: [0.123456, 0.2, 0.3, 0.4], score: 0.91234, zones: ['z1'] }]);
    log.record('a', 1000, []);
    log.record('b', 1500, [{ id: 1, box: [0, 0, 1, 1], score: 0.5, zones: [] }]);
    log.record('a', 9000, []);
    // range() flushes what is pending: nothing recorded is invisible to a reviewer.
    const frames = await log.range('a', 0, 5000);
    expect(frames.map((f) => f.t)).toEqual([1000, 2000]);
    expect(frames[1]!.tracks[0]).toEqual({ id: 7, box: [0.1235, 0.2, 0.3, 0.4], score: 0.912, zones: ['z1'] });
    expect(await log.range('b', 0, 5000)).toHaveLength(1);
    expect(await log.range('a', 0, 10_000, 2)).toHaveLength(2);
    expect(await log.prune(1800)).toBe(2);
    expect((await log.range('a', 0, 10_000)).map((f) => f.t)).toEqual([2000, 9000]);
    await log.close();
  });

  it('keeps the last tracks recorded for one instant, within a batch and across batches', async () => {
    const log = new DetectionLog(await open(), undefined, 60_000);
    const track = (id: number) => [{ id, box: [0, 0, 1, 1] as [number, number, number, number], score: 1, zones: [] }];
    log.record('a', 1000, track(1));
    log.record('a', 1000, track(2));
    const first = log.flush();
    log.record('a', 1000, track(3));
    log.record('a', 1000.2, track(4)); // rounds to the same millisecond
    await Promise.all([first, log.flush()]);
    expect(await log.range('a', 0, 5000)).toEqual([{ t: 1000, tracks: track(4) }]);
  });

  it('writes a large batch in one go and reports a failed timed flush', async () => {
    const db = await open();
    const errors: unknown[] = [];
    const log = new DetectionLog(db, (err) => errors.push(err), 10);
    for (let t = 0; t < 1200; t++) log.record('a', t, []);
    expect(await log.range('a', 0, 5000)).toHaveLength(1200);
    await db.close();
    log.record('a', 5000, []);
    await new Promise((r) => setTimeout(r, 100));
    expect(errors).toHaveLength(1);
  });
});
