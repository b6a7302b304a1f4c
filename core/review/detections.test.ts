import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database';
import { DetectionLog } from './detections';

describe('DetectionLog', () => {
  it('stores frames per camera by capture time, returns a time range in order, and prunes old ones', () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'det-')), 'db.sqlite'));
    const log = new DetectionLog(db, 60_000);
    log.record('a', 2000, [{ id: 7, box: [0.123456, 0.2, 0.3, 0.4], score: 0.91234, zones: ['z1'] }]);
    log.record('a', 1000, []);
    log.record('b', 1500, [{ id: 1, box: [0, 0, 1, 1], score: 0.5, zones: [] }]);
    log.record('a', 9000, []);
    // range() flushes what is pending: nothing recorded is invisible to a reviewer.
    const frames = log.range('a', 0, 5000);
    expect(frames.map((f) => f.t)).toEqual([1000, 2000]);
    expect(frames[1]!.tracks[0]).toEqual({ id: 7, box: [0.1235, 0.2, 0.3, 0.4], score: 0.912, zones: ['z1'] });
    expect(log.range('b', 0, 5000)).toHaveLength(1);
    expect(log.prune(1800)).toBe(2);
    expect(log.range('a', 0, 10_000).map((f) => f.t)).toEqual([2000, 9000]);
    log.close();
  });
});
