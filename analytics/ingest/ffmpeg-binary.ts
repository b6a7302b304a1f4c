import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';

/**
 * Which ffmpeg Sentinel runs, and which arguments that ffmpeg understands.
 *
 * Preference: a configured path that exists, then `ffmpeg` on PATH (Debian's, current), then
 * the static build shipped in the npm package `@ffmpeg-installer/linux-x64` (in its tarball,
 * so a machine with only Node has one). That build is ffmpeg 4.1 (2018) and comes without
 * ffprobe, so argument choices that changed since (RTSP `-timeout` vs `-stimeout`,
 * `-stats_period`, `force_divisible_by`) are made from the detected version, and every
 * ffprobe use has an ffmpeg fallback.
 */

export type FfmpegSource = 'configured' | 'system' | 'bundled' | 'missing';

export interface FfmpegChoice {
  /** What to spawn: an absolute path, or the configured command as given. */
  path: string;
  source: FfmpegSource;
  /** The matching ffprobe, or null when there is none (the bundled build has none). */
  ffprobe: string | null;
  /** Why the preferred one was not used, for logs and health. */
  note: string | null;
}

export interface FfmpegVersion {
  /** As printed: "6.1.1-3ubuntu5", "N-47683-g0e8eb07980-static"... */
  version: string;
  /** Major and minor, from the version or the libavformat version; null when unknown. */
  major: number | null;
  minor: number | null;
}

const DEFAULT_FFMPEG = 'ffmpeg';
const DEFAULT_FFPROBE = 'ffprobe';

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH, or null (what a shell would run). */
export function findOnPath(name: string, pathEnv = process.env.PATH ?? ''): string | null {
  if (name.includes('/')) return isExecutable(resolve(name)) ? resolve(name) : null;
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return null;
}

/** The ffmpeg binary inside @ffmpeg-installer/linux-x64, or null when the package is absent (or not for this platform). */
export function bundledFfmpeg(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return null;
  try {
    const req = createRequire(import.meta.url);
    const dir = dirname(req.resolve('@ffmpeg-installer/linux-x64/package.json'));
    const p = join(dir, 'ffmpeg');
    return existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

/**
 * Resolves the ffmpeg (and ffprobe) to use from the configured values (defaults `ffmpeg`
 * and `ffprobe`: "whatever is on PATH"). Only looks at the file system; no process is run.
 */
export function chooseFfmpeg(
  configured: { ffmpegPath?: string; ffprobePath?: string } = {},
  pathEnv = process.env.PATH ?? '',
): FfmpegChoice {
  const want = configured.ffmpegPath ?? DEFAULT_FFMPEG;
  const wantProbe = configured.ffprobePath ?? DEFAULT_FFPROBE;
  const probeFor = (ffmpeg: string): string | null => {
    if (wantProbe !== DEFAULT_FFPROBE)
      return findOnPath(wantProbe, pathEnv) ?? (isAbsolute(wantProbe) && isExecutable(wantProbe) ? wantProbe : null);
    // The ffprobe beside the chosen ffmpeg first (same build), then PATH's.
    const sibling = join(dirname(ffmpeg), 'ffprobe');
    return isExecutable(sibling) ? sibling : findOnPath(DEFAULT_FFPROBE, pathEnv);
  };
  let note: string | null = null;
  if (want !== DEFAULT_FFMPEG) {
    const p = findOnPath(want, pathEnv);
    if (p) return { path: p, source: 'configured', ffprobe: probeFor(p), note: null };
    note = `configured ingest.ffmpegPath "${want}" not found`;
  }
  const sys = findOnPath(DEFAULT_FFMPEG, pathEnv);
  if (sys) return { path: sys, source: 'system', ffprobe: probeFor(sys), note };
  const bundled = bundledFfmpeg();
  if (bundled) return { path: bundled, source: 'bundled', ffprobe: probeFor(bundled), note: note ?? 'no ffmpeg on PATH' };
  return {
    path: want,
    source: 'missing',
    ffprobe: null,
    note: `${note ?? 'no ffmpeg on PATH'}, and the npm package @ffmpeg-installer/linux-x64 is not installed`,
  };
}

const versions = new Map<string, FfmpegVersion | null>();

/** Parses `ffmpeg -version` output. */
export function parseFfmpegVersion(out: string): FfmpegVersion | null {
  const m = /ffmpeg version (\S+)/.exec(out);
  if (!m?.[1]) return null;
  const v = /^n?(\d+)\.(\d+)/.exec(m[1]);
  if (v) return { version: m[1], major: Number(v[1]), minor: Number(v[2]) };
  // Git snapshots ("N-47683-g...") say nothing; libavformat's major.minor does: 58.x is ffmpeg 4.x, 59 is 5, 60 is 6, 61 is 7.
  const lavf = /libavformat\s+(\d+)\.\s*(\d+)/.exec(out);
  if (lavf) {
    const maj = Number(lavf[1]);
    const min = Number(lavf[2]);
    if (maj === 58) return { version: m[1], major: 4, minor: min >= 76 ? 4 : min >= 45 ? 3 : min >= 29 ? 2 : min >= 20 ? 1 : 0 };
    if (maj >= 59) return { version: m[1], major: maj - 54, minor: 0 };
    return { version: m[1], major: 3, minor: 0 };
  }
  return { version: m[1], major: null, minor: null };
}

/** The version of an ffmpeg binary (run once per path and cached), or null when it cannot run. */
export function ffmpegVersion(path: string): FfmpegVersion | null {
  if (versions.has(path)) return versions.get(path) ?? null;
  // Its own argv[0]: a process listing (or a test looking for a camera's ffmpeg) never takes
  // this one-off check for a stream's ffmpeg.
  const r = spawnSync(path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000, argv0: 'sentinel-ffmpeg-version-check' });
  const v = r.status === 0 ? parseFfmpegVersion(String(r.stdout)) : null;
  versions.set(path, v);
  return v;
}

/** True when the ffmpeg at `path` is at least major.minor (an unknown version counts as current). */
export function ffmpegAtLeast(path: string, major: number, minor = 0): boolean {
  const v = ffmpegVersion(path);
  if (!v || v.major === null || v.minor === null) return true;
  return v.major > major || (v.major === major && v.minor >= minor);
}

/**
 * The RTSP socket I/O timeout option: `-timeout` (µs) since ffmpeg 5; before that `-timeout`
 * meant "listen for an incoming connection" (it would turn the client into a server) and
 * the socket timeout was `-stimeout`.
 */
export function rtspTimeoutArgs(ffmpegPath: string, timeoutUs: number): string[] {
  return [ffmpegAtLeast(ffmpegPath, 5) ? '-timeout' : '-stimeout', String(Math.round(timeoutUs))];
}

/** `-stats_period` (how often `-progress` reports) exists from ffmpeg 4.4; older ones report about twice a second anyway. */
export function statsPeriodArgs(ffmpegPath: string, seconds: number): string[] {
  return ffmpegAtLeast(ffmpegPath, 4, 4) ? ['-stats_period', String(seconds)] : [];
}

/**
 * Scale to fit inside w x h keeping the aspect ratio, to even sizes. `force_divisible_by`
 * arrived in ffmpeg 4.3; before, a second scale rounds down to even.
 */
export function scaleToFitFilter(ffmpegPath: string, w: number, h: number): string {
  return ffmpegAtLeast(ffmpegPath, 4, 3)
    ? `scale=w=${w}:h=${h}:force_original_aspect_ratio=decrease:force_divisible_by=2`
    : `scale=w=${w}:h=${h}:force_original_aspect_ratio=decrease,scale=w=trunc(iw/2)*2:h=trunc(ih/2)*2`;
}

export interface MediaInfo {
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  durationS: number | null;
}

/**
 * Stream parameters from `ffmpeg -i INPUT` (its banner on stderr), for when there is no
 * ffprobe: the first video stream's codec, size and frame rate, and the duration.
 */
export function parseFfmpegBanner(stderr: string): MediaInfo {
  const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
  const line = stderr.split('\n').find((l) => /Stream #\d+:\d+.*: Video: /.test(l)) ?? '';
  const codec = /Video: ([a-z0-9_]+)/.exec(line)?.[1] ?? null;
  const size = /, (\d{2,5})x(\d{2,5})[ ,]/.exec(line);
  const fps = /, ([\d.]+) fps/.exec(line) ?? /, ([\d.]+) tbr/.exec(line);
  return {
    codec,
    width: size ? Number(size[1]) : null,
    height: size ? Number(size[2]) : null,
    fps: fps ? Number(fps[1]) : null,
    durationS: d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : null,
  };
}
