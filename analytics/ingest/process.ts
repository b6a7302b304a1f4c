import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import { rtspTimeoutArgs } from './ffmpeg-binary';

/**
 * Child processes (ffmpeg, the RTSP simulator) that must never outlive the core, however the
 * core ends:
 *  - a clean stop kills them (the owners do, and stop() waits for the exit);
 *  - process exit (including an uncaught exception) kills every child still tracked here;
 *  - a SIGKILL of the core or a crash in native code runs no JavaScript at all, so on Linux
 *    each child is started through a tiny exec wrapper that sets PR_SET_PDEATHSIG: the kernel
 *    sends the child SIGKILL when its parent dies. The wrapper is Python's ctypes (present on
 *    the machines we run on) and execs the real program, so no shell is ever involved.
 */

const PYTHON = '/usr/bin/python3';
const WRAPPER = [
  '-c',
  'import ctypes,os,signal,socket,sys\n' +
    'ctypes.CDLL(None).prctl(1, signal.SIGKILL)\n' +
    // The parent may have died before prctl took effect: then we are already orphaned.
    'if os.getppid() != int(sys.argv[1]): sys.exit(70)\n' +
    // Node's stdio "pipes" are Unix sockets: their send buffer is what the child can write ahead.
    'n = int(sys.argv[2])\n' +
    'if n > 0:\n' +
    '  try:\n' +
    '    s = socket.socket(fileno=1); s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, n); s.detach()\n' +
    '  except OSError: pass\n' +
    'os.execvp(sys.argv[3], sys.argv[3:])',
];

const canWrap = process.platform === 'linux' && existsSync(PYTHON);
const live = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export interface TiedSpawnOptions extends SpawnOptions {
  /**
   * Send buffer of the child's stdout socket, bytes (Linux, best effort: the kernel caps it at
   * net.core.wmem_max). Lets a child that writes large records (raw video frames) write each in
   * one call instead of blocking every ~200 KB until the parent has read.
   */
  stdoutBufferBytes?: number;
  /** Niceness for the child (best effort). */
  nice?: number;
}

/** Spawns `cmd args` directly (never through a shell), tied to this process's life. */
export function spawnTied(cmd: string, args: readonly string[], opts: TiedSpawnOptions = {}): ChildProcess {
  hookExit();
  const { stdoutBufferBytes = 0, nice, ...spawnOpts } = opts;
  const child = canWrap
    ? spawn(PYTHON, [...WRAPPER, String(process.pid), String(Math.max(0, Math.floor(stdoutBufferBytes))), cmd, ...args], {
        ...spawnOpts,
        shell: false,
      })
    : spawn(cmd, args, { ...spawnOpts, shell: false });
  // The wrapper execs the command in the same process, so the niceness carries over to it.
  if (nice && child.pid !== undefined) {
    try {
      setPriority(child.pid, nice);
    } catch {
      // Not permitted or already gone: it runs at the normal priority, which is only slower.
    }
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** Pids of tied children still running (tests check that none remain after shutdown). */
export function tiedChildren(): number[] {
  return [...live].map((c) => c.pid).filter((p): p is number => typeof p === 'number');
}

/**
 * Asks a child to stop (SIGTERM, or 'q' on stdin for ffmpeg so it finalises its files) and
 * kills it if it has not exited after `graceMs`. Resolves when it has exited.
 */
export function stopChild(child: ChildProcess, graceMs = 2000, how: 'term' | 'ffmpeg-q' = 'term'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      if (how === 'ffmpeg-q' && child.stdin && !child.stdin.destroyed) {
        child.stdin.end('q');
      } else {
        child.kill('SIGTERM');
      }
    } catch {
      child.kill('SIGKILL');
    }
  });
}

/**
 * ffmpeg input options for a live RTSP camera, shared by ingest and the recorder so both
 * connect the same way:
 * - TCP interleaving: UDP loses packets through NATs and firewalls on buses and stations.
 * - A socket I/O timeout (µs): a camera that stops answering ends the session instead of
 *   hanging it.
 * - Little probing: the SDP carries SPS/PPS, and ffmpeg's default 5 s analysis would delay
 *   the first frame of every (re)connect by seconds (measured ~1.2 s vs ~3.5 s).
 */
// The ffmpeg binary is required, not defaulted: the RTSP timeout option changed meaning in ffmpeg 5 (`-timeout` was
// the listen timeout before), so the arguments must be chosen for the binary that will run them.
export function rtspInputArgs(stallTimeoutMs: number, ffmpegPath: string | undefined): string[] {
  return [
    '-rtsp_transport',
    'tcp',
    ...rtspTimeoutArgs(ffmpegPath ?? 'ffmpeg', Math.max(2_000_000, stallTimeoutMs * 1000)),
    '-analyzeduration',
    '300000',
    '-probesize',
    '500000',
  ];
}
