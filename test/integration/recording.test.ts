import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { sql as q } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipCutter } from '../../analytics/recording/clips';
import { SegmentRecorder, type RecordedSegment } from '../../analytics/recording/recorder';
import type { SqlDb } from '../../core/db/sql';
import { ClipStore, Clips } from '../../core/recording/clips';
import { SegmentStore } from '../../core/recording/segments';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { ON_POSTGRES } from '../support/core';
import { openTestSql } from '../support/dialects';
import { freePort, quietLog, skipReason, vtest, waitFor } from './ingest-helpers';

function durationOf(path: string): number {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', path], {
    encoding: 'utf8',
  });
  return Number(r.stdout.trim());
}

describe.skipIf(skipReason !== null)(`recording from a real RTSP server${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let sim: RunningSim;
  let dir: string;
  let recorder: SegmentRecorder;
  const segments: RecordedSegment[] = [];
  let store: SegmentStore;
  let sql: SqlDb;

  beforeAll(async () => {
    sim = await startSimulator({ port: await freePort(), streams: [{ name: 'platform', file: vtest }] });
    dir = mkdtempSync(join(tmpdir(), 'sentinel-rec-'));
    // The segment and clip indexes on the run's database (a fresh one); the files stay in `dir`.
    sql = await openTestSql(ON_POSTGRES ? 'postgres' : 'sqlite');
    await q`INSERT INTO cameras (id, name, url, mount, created_at, updated_at) VALUES ('cam', 'Cam', 'rtsp://x/y', '{}', 'now', 'now')`.execute(
      sql.as(),
    );
    store = new SegmentStore(sql, quietLog);
    recorder = new SegmentRecorder({
      cameraId: 'cam',
      url: sim.url('platform'),
      dir: join(dir, 'rec'),
      segmentSeconds: 2,
      stallTimeoutMs: 4000,
      log: quietLog,
    });
    recorder.on('segment', (s) => {
      segments.push(s);
      void store.add(s);
    });
    recorder.start();
  });
  afterAll(async () => {
    await recorder?.stop();
    await sim?.close();
    await sql?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes playable rolling segments of the configured length, copied from the stream', async () => {
    await waitFor('3 segments', () => segments.length >= 3, 30_000, 200);
    for (const s of segments.slice(0, 3)) {
      expect(existsSync(s.path)).toBe(true);
      const d = durationOf(s.path);
      // Segments are cut on keyframes (1 s GOP at the simulator): 2 s, give or take one GOP.
      expect(d).toBeGreaterThan(1);
      expect(d).toBeLessThan(3.2);
      expect(s.endMs - s.startMs).toBeGreaterThan(900);
    }
    const codec = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', segments[0]!.path], {
      encoding: 'utf8',
    }).stdout.trim();
    expect(codec).toBe('h264');
  });

  it('starts a new segment after a reconnect', async () => {
    const before = segments.length;
    await sim.stopStream('platform');
    await new Promise((r) => setTimeout(r, 1500));
    await sim.startStream('platform');
    await waitFor('a segment from a second session', () => segments.slice(before).find((s) => s.session > 1), 30_000, 200);
  });

  it('cuts a clip of the requested duration (within 1 s) and stores its SHA-256', async () => {
    // 8 s of continuous recording (the previous test's reconnect left a gap before it).
    const session = segments.at(-1)!.session;
    await waitFor('8 s of continuous recording', () => segments.filter((s) => s.session === session).length >= 4, 30_000, 200);
    const cutter = new Clips(new ClipCutter(store, join(dir, 'clips'), quietLog), new ClipStore(sql));
    const last = segments.at(-1)!;
    // 4 s requested + 1 s pre-roll + 1 s post-roll = 6 s.
    const to = last.endMs - 1000 - 500;
    const from = to - 4000;
    const clip = await cutter.cut('cam', from, to, { preRollMs: 1000, postRollMs: 1000, waitForMs: 10_000 });
    expect(Math.abs(clip.durationS - 6)).toBeLessThanOrEqual(1);
    const stored = (await cutter.get(clip.id))!;
    expect(durationOf(stored.path)).toBeCloseTo(clip.durationS, 1);
    expect(createHash('sha256').update(readFileSync(stored.path)).digest('hex')).toBe(stored.sha256);
    expect(stored.snapshotPath && existsSync(stored.snapshotPath)).toBeTruthy();
    expect(readFileSync(stored.snapshotPath!).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(createHash('sha256').update(readFileSync(stored.snapshotPath!)).digest('hex')).toBe(stored.snapshotSha256);
    await expect(cutter.cut('cam', 1000, 2000, { preRollMs: 0, postRollMs: 0 })).rejects.toThrow(/no recording/);
  });
});
