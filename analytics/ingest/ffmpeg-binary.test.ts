import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bundledFfmpeg,
  chooseFfmpeg,
  ffmpegAtLeast,
  parseFfmpegBanner,
  parseFfmpegVersion,
  rtspTimeoutArgs,
  scaleToFitFilter,
  statsPeriodArgs,
} from './ffmpeg-binary';

const bundled = bundledFfmpeg();

describe('choosing ffmpeg', () => {
  it('prefers the system ffmpeg on PATH, then the npm-bundled one, and says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ffbin-'));
    writeFileSync(join(dir, 'ffmpeg'), '#!/bin/sh\n');
    chmodSync(join(dir, 'ffmpeg'), 0o755);
    expect(chooseFfmpeg({}, dir)).toMatchObject({ path: join(dir, 'ffmpeg'), source: 'system', ffprobe: null });
    const empty = mkdtempSync(join(tmpdir(), 'ffbin-empty-'));
    const none = chooseFfmpeg({}, empty);
    if (bundled) expect(none).toMatchObject({ path: bundled, source: 'bundled', ffprobe: null, note: 'no ffmpeg on PATH' });
    else expect(none.source).toBe('missing');
    expect(chooseFfmpeg({ ffmpegPath: '/nowhere/ffmpeg' }, empty).note).toMatch(
      /configured ingest.ffmpegPath "\/nowhere\/ffmpeg" not found/,
    );
  });

  it('reads versions of release builds and of git snapshots (by libavformat)', () => {
    expect(parseFfmpegVersion('ffmpeg version 6.1.1-3ubuntu5 Copyright')).toMatchObject({ major: 6, minor: 1 });
    expect(parseFfmpegVersion('ffmpeg version n4.4.2 Copyright')).toMatchObject({ major: 4, minor: 4 });
    expect(parseFfmpegVersion('ffmpeg version N-47683-g0e8eb07980-static https://x\nlibavformat    58. 20.100 / 58. 20.100')).toMatchObject(
      { major: 4, minor: 1 },
    );
  });

  it.skipIf(!bundled)('picks arguments the bundled ffmpeg 4.1 understands', () => {
    const b = bundled!;
    expect(ffmpegAtLeast(b, 5)).toBe(false);
    expect(rtspTimeoutArgs(b, 5e6)).toEqual(['-stimeout', '5000000']);
    expect(statsPeriodArgs(b, 1)).toEqual([]);
    expect(scaleToFitFilter(b, 416, 416)).not.toContain('force_divisible_by');
  });

  it('parses stream parameters from the ffmpeg banner', () => {
    const banner = `Input #0, avi, from 'vtest.avi':
  Duration: 00:01:19.50, start: 0.000000, bitrate: 1311 kb/s
    Stream #0:0: Video: mpeg4 (Simple Profile) (XVID / 0x44495658), yuv420p, 768x576 [SAR 1:1 DAR 4:3], 1309 kb/s, 10 fps, 10 tbr, 10 tbn, 10 tbc
At least one output file must be specified`;
    expect(parseFfmpegBanner(banner)).toEqual({ codec: 'mpeg4', width: 768, height: 576, fps: 10, durationS: 79.5 });
  });
});
