import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTied, stopChild } from '../../analytics/ingest/process';

/**
 * Starts and controls the camera simulator (rtsp_sim.py, a real gst-rtsp-server process).
 * Used by the integration tests, `sentinel sim cameras` and `sentinel serve --demo`.
 */

export const SIM_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'rtsp_sim.py');
/**
 * Debian's GI bindings belong to the system interpreter, not to a python3 earlier on PATH.
 * SENTINEL_SIM_PYTHON overrides it (tests hide GStreamer with a path that does not exist).
 */
export const SIM_PYTHON = process.env.SENTINEL_SIM_PYTHON || '/usr/bin/python3';

export interface SimStreamSpec {
  name: string;
  file: string;
  /** Require these credentials (Basic and Digest), e.g. to test `@ : %` in passwords. */
  auth?: { username: string; password: string };
  /** Re-encode at this size (WxH), e.g. to simulate a sub-stream. */
  size?: string;
  fps?: number;
  /** The file is H.264 in MPEG-TS (see preencode): served as it is, with no encoder per stream. */
  copy?: boolean;
}

export interface SimOptions {
  host?: string;
  port?: number;
  /** HTTP control port (0: none). */
  controlPort?: number;
  streams: SimStreamSpec[];
  ffmpegPath?: string;
  /** Milliseconds to wait for the server to come up. */
  startTimeoutMs?: number;
}

export interface SimStreamInfo {
  name: string;
  running: boolean;
  url: string;
  auth: boolean;
  /** RTSP client sessions on the stream now (what a camera limited to N sessions counts). */
  sessions: number;
}

export interface RunningSim {
  readonly pid: number;
  readonly port: number;
  readonly controlPort: number;
  readonly streams: SimStreamInfo[];
  url(name: string): string;
  /** Removes the stream's mount and disconnects its clients (a dropped camera). */
  stopStream(name: string): Promise<void>;
  startStream(name: string): Promise<void>;
  /** Every stream with its current RTSP session count. */
  list(): Promise<SimStreamInfo[]>;
  close(): Promise<void>;
  readonly exited: Promise<number | null>;
}

interface SimReply {
  event: string;
  ok?: boolean;
  error?: string;
  port?: number;
  controlPort?: number;
  streams?: SimStreamInfo[];
}

/** Demo cameras over the footage in the assets pack (the ones that exist). */
export function demoStreams(assetsDir: string): SimStreamSpec[] {
  const media = join(assetsDir, 'media');
  const specs: SimStreamSpec[] = [
    { name: 'station-platform', file: join(media, 'vtest.avi') },
    { name: 'station-entrance', file: join(media, 'one-by-one-person-detection.mp4') },
    { name: 'bus-operator-cab', file: join(media, 'worker-zone-detection.gif') },
    { name: 'railcar-interior', file: join(media, 'classroom.gif') },
  ];
  return specs.filter((s) => existsSync(s.file));
}

/**
 * Encodes a footage file (video or still picture) once to H.264 in MPEG-TS with a 1 s GOP,
 * cached in `cacheDir` by source path, size and modification time, so the simulator can serve
 * it to many cameras without encoding per stream (`copy: true`). A still picture becomes
 * `stillSeconds` of video at `fps`.
 *
 * No B-frames, as an IP camera streams: with B-frames the RTP timestamps go back and forth, and
 * the server's jitter buffer, which releases each packet at its timestamp, held frames and sent
 * them in bursts of ~4 every ~450 ms. Ingest then saw up to half a second of delay that no
 * camera causes (docs/performance.md, Capacity). `bFrames` keeps x264's default B-frames, for that A/B.
 */
export function preencode(
  file: string,
  cacheDir: string,
  opts: { size?: string; fps?: number; stillSeconds?: number; ffmpegPath?: string; bFrames?: boolean } = {},
): string {
  const fps = opts.fps ?? 10;
  const st = statSync(file);
  const key = createHash('sha256')
    .update(`${file}|${st.size}|${st.mtimeMs}|${opts.size ?? ''}|${fps}|${opts.stillSeconds ?? ''}|${opts.bFrames ? 'bf' : 'bf0'}`)
    .digest('hex')
    .slice(0, 16);
  const out = join(cacheDir, `${basename(file).replace(/\W+/g, '_')}-${key}.ts`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  const still = /\.(png|jpe?g|bmp)$/i.test(file);
  const vf = [`fps=${fps}`, ...(opts.size ? [`scale=${opts.size.replace('x', ':')}`] : ['scale=trunc(iw/2)*2:trunc(ih/2)*2'])];
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    ...(still ? ['-loop', '1', '-t', String(opts.stillSeconds ?? 10)] : []),
    '-i',
    file,
    '-an',
    '-vf',
    vf.join(','),
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    ...(opts.bFrames ? [] : ['-bf', '0']),
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(fps),
    '-keyint_min',
    String(fps),
    '-sc_threshold',
    '0',
    '-f',
    'mpegts',
    '-y',
    `${out}.part`,
  ];
  const r = spawnSync(opts.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0)
    throw new Error(`cannot pre-encode ${file}: ${String(r.stderr).trim().split('\n').at(-1) ?? `ffmpeg exited with ${r.status}`}`);
  renameSync(`${out}.part`, out);
  return out;
}

export function simulatorAvailable(): string | null {
  if (!existsSync(SIM_PYTHON))
    return `${SIM_PYTHON} not found (the simulator needs Debian's python3 with python3-gi and gir1.2-gst-rtsp-server-1.0)`;
  return null;
}

function encodeAuth(a: { username: string; password: string }): string {
  return `${encodeURIComponent(a.username)}:${encodeURIComponent(a.password)}`;
}

export async function startSimulator(opts: SimOptions): Promise<RunningSim> {
  const missing = simulatorAvailable();
  if (missing) throw new Error(missing);
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8554;
  const args = [SIM_SCRIPT, '--host', host, '--port', String(port), '--control-port', String(opts.controlPort ?? 0)];
  if (opts.ffmpegPath) args.push('--ffmpeg', opts.ffmpegPath);
  for (const s of opts.streams) {
    let spec = `${s.name}=${s.file}`;
    if (s.auth) spec += `,auth=${encodeAuth(s.auth)}`;
    if (s.size) spec += `,size=${s.size}`;
    if (s.fps) spec += `,fps=${s.fps}`;
    if (s.copy) spec += ',copy=1';
    args.push('--stream', spec);
  }
  // stdin stays open as the control channel; its EOF (our death) stops the simulator.
  const child: ChildProcess = spawnTied(SIM_PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const replies: Array<(r: SimReply) => void> = [];
  let ready: ((r: SimReply) => void) | null = null;
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    let r: SimReply;
    try {
      r = JSON.parse(line) as SimReply;
    } catch {
      return; // not ours (a stray line from a library)
    }
    if (r.event === 'ready' || r.event === 'error') ready?.(r);
    else if (r.event === 'reply') replies.shift()?.(r);
  });
  const first = await Promise.race([
    new Promise<SimReply>((resolve) => (ready = resolve)),
    exited.then((code): SimReply => ({
      event: 'error',
      error: `simulator exited (code ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`,
    })),
    new Promise<SimReply>((resolve) =>
      setTimeout(() => resolve({ event: 'error', error: 'simulator did not start in time' }), opts.startTimeoutMs ?? 10_000),
    ),
  ]);
  if (first.event !== 'ready') {
    await stopChild(child, 1000);
    throw new Error(first.error ?? 'simulator failed to start');
  }
  const command = (line: string): Promise<SimReply> =>
    new Promise((resolve, reject) => {
      replies.push((r) => (r.ok ? resolve(r) : reject(new Error(r.error ?? 'simulator command failed'))));
      child.stdin?.write(`${line}\n`);
    });
  return {
    pid: child.pid ?? 0,
    port,
    controlPort: first.controlPort ?? 0,
    streams: first.streams ?? [],
    url: (name) => `rtsp://${host}:${port}/${name}`,
    stopStream: async (name) => void (await command(`stop ${name}`)),
    startStream: async (name) => void (await command(`start ${name}`)),
    list: async () => (await command('list')).streams ?? [],
    close: async () => {
      child.stdin?.end();
      await stopChild(child, 3000);
    },
    exited,
  };
}
