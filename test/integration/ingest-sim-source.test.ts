import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { preencode } from '../../tools/rtsp-sim/sim';
import { assets } from './ingest-helpers';

const still = assets ? join(assets, 'media', 'astronaut.png') : '';
const ffprobe = spawnSync('ffprobe', ['-version']).status === 0;
const skip =
  !still || !existsSync(still)
    ? 'assets pack with media/astronaut.png not found (set SENTINEL_ASSETS)'
    : !ffprobe
      ? 'ffprobe not found'
      : null;

/** The picture types of every frame of a file, in decode order. */
function pictTypes(file: string): string[] {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pict_type', '-of', 'csv=p=0', file], {
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().replace(/,$/, ''))
    .filter(Boolean);
}

// The capacity bench serves pre-encoded footage through the simulator as stand-in cameras. With
// B-frames, the simulator's server delivered frames in bursts and ingest measured up to half a
// second of delay no camera causes (docs/performance.md, Capacity): the footage must have none.
describe.skipIf(skip !== null)(`simulator footage for ingest${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-preencode-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is pre-encoded without B-frames, unlike x264 left to its default', () => {
    const plain = pictTypes(preencode(still, dir, { size: '320x180', stillSeconds: 3 }));
    const withB = pictTypes(preencode(still, dir, { size: '320x180', stillSeconds: 3, bFrames: true }));
    expect(plain.length).toBeGreaterThanOrEqual(29);
    expect(plain.filter((t) => t === 'B')).toEqual([]);
    // The check can fail: the same picture left to x264's default does get B-frames.
    expect(withB.filter((t) => t === 'B').length).toBeGreaterThan(0);
  });
});
