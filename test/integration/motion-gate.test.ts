import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Zone } from '../../contract/zones';
import { openRegistry } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import type { FrameLine } from '../../analytics/pipeline/offline';
import { detectEntries, matchEntries } from '../../analytics/pipeline/metrics';
import { discoverAssetsDir } from '../../core/config';
import { REPO_ROOT, runSentinel } from '../support/serve';

/**
 * Motion gating through the real `sentinel analyze` (ffmpeg, YOLOX-nano, tracker): footage
 * that does not move gets almost no detector runs, footage that moves still gets every
 * labelled zone entry.
 */
const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
const PICTURE = assets ? join(assets, 'media', 'astronaut.png') : '';
const ONE_BY_ONE = assets ? join(assets, 'media', 'one-by-one-person-detection.mp4') : '';
const yolox = (() => {
  if (!assets) return false;
  const m = openRegistry({ assetsDir: assets }).get('yolox-nano');
  return Boolean(m && checkModel(m, join(assets, 'models')).state === 'ready');
})();
const ffmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const haveAll = yolox && ffmpeg && existsSync(PICTURE) && existsSync(ONE_BY_ONE);
const SKIP = haveAll ? '' : ' [skipped: ffmpeg or the assets pack (media/, models/yolox_nano.onnx) is absent]';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Line = { type: string; [k: string]: unknown };
const lines = (stdout: string): Line[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
const analyze = (args: string[]) =>
  runSentinel(['analyze', ...args, '--json'], { env: { SENTINEL_ASSETS: assets ?? '' }, timeoutMs: 240_000 });

describe.skipIf(!haveAll)(`motion-gated detection${SKIP}`, () => {
  let still = '';
  let zones = '';
  beforeAll(() => {
    still = join(dir, 'still.mp4');
    // A still picture as 20 s of H.264: the encoder's noise is all the "motion" there is.
    const r = spawnSync('ffmpeg', [
      '-v',
      'error',
      '-loop',
      '1',
      '-i',
      PICTURE,
      '-t',
      '20',
      '-r',
      '10',
      '-vf',
      'scale=640:-2',
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'libx264',
      '-y',
      still,
    ]);
    expect(r.status, String(r.stderr)).toBe(0);
    zones = join(dir, 'zones.json');
    writeFileSync(zones, JSON.stringify({ zones: [{ id: 'all', kind: 'crowding', capacity: 5 }] }));
  });

  it('a still picture: the detector runs on the first frame and the 5 s keep-alives only', async () => {
    const r = await analyze(['--video', still, '--zones', zones]);
    expect(r.stderr).toBe('');
    const out = lines(r.stdout);
    const summary = out.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', complete: true, framesRead: 100, framesAnalysed: 100 });
    // First frame + keep-alives at 5, 10 and 15 s.
    expect(summary.detectorRuns).toBe(4);
    // Every frame still has its line, with the count held from the last detection.
    expect(out.filter((l) => l.type === 'frame')).toHaveLength(100);
  }, 240_000);

  it('a still picture with --no-gate: the detector runs on every frame', async () => {
    const r = await analyze(['--video', still, '--zones', zones, '--no-gate', '--seconds', '4']);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout).at(-1)).toMatchObject({ type: 'summary', framesRead: 20, framesAnalysed: 20, detectorRuns: 20 });
  }, 240_000);

  it('footage with people walking in: every labelled zone entry is still found, with fewer detector runs', async () => {
    const label = JSON.parse(readFileSync(join(REPO_ROOT, 'eval', 'labels', 'one-by-one.json'), 'utf8')) as {
      zones: Zone[];
      entries: Array<{ zone: string; t: number }>;
    };
    const labelled = join(dir, 'one-by-one.json');
    writeFileSync(labelled, JSON.stringify({ zones: label.zones }));
    const r = await analyze(['--video', ONE_BY_ONE, '--zones', labelled, '--seconds', '60']);
    expect(r.stderr).toBe('');
    const out = lines(r.stdout);
    const frames = out.filter((l) => l.type === 'frame') as unknown as FrameLine[];
    const truth = label.entries.filter((e) => e.t < 59);
    expect(truth.length).toBeGreaterThanOrEqual(3);
    const m = matchEntries(
      detectEntries(
        frames,
        label.zones.filter((z) => z.id === 'room'),
      ),
      truth,
      1.5,
    );
    expect(m).toMatchObject({ tp: truth.length, fn: 0 });
    const summary = out.at(-1)!;
    expect(summary.detectorRuns as number).toBeLessThan(summary.framesRead as number);
  }, 240_000);

  it('a motion mask drawn among the zones: people moving inside it never wake the detector', async () => {
    const base = (await analyze(['--video', ONE_BY_ONE, '--zones', zones, '--seconds', '20'])).stdout;
    const open = lines(base).at(-1)!;
    // The same 20 s with the whole picture masked: only the first frame and the keep-alives run.
    const masked = join(dir, 'masked.json');
    const whole = [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
    ];
    writeFileSync(
      masked,
      JSON.stringify({
        zones: [
          { id: 'all', kind: 'crowding', capacity: 5 },
          { id: 'screen', kind: 'motion-mask', polygon: whole },
        ],
      }),
    );
    const r = await analyze(['--video', ONE_BY_ONE, '--zones', masked, '--seconds', '20']);
    expect(r.stderr).toBe('');
    const summary = lines(r.stdout).at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', framesRead: open.framesRead });
    expect(open.detectorRuns as number).toBeGreaterThan(20);
    // First frame + keep-alives at 5, 10 and 15 s.
    expect(summary.detectorRuns).toBe(4);
  }, 240_000);
});
