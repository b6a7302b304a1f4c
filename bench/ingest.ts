import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { IngestSupervisor } from '../analytics/ingest/supervisor';
import { discoverAssetsDir } from '../core/config';
import { startSimulator } from '../tools/rtsp-sim/sim';

/**
 * CPU cost of ingesting one camera (RTSP -> ffmpeg decode -> 5 fps -> scale to 416 -> BGR24
 * on a pipe -> Node frame slot) against a plain `ffmpeg -i <same> -f null -` decode of the
 * same stream, measured in the same run, alternating A/B rounds. Source: the simulator
 * serving vtest.avi (768x576, 10 fps) as H.264 over RTSP/TCP.
 *
 * `npm run bench -- ingest [--seconds 15] [--rounds 2]`
 */

const TICK = 100; // Linux clock ticks per second (USER_HZ)

function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function baseline(url: string, seconds: number): Promise<{ cpu: number; wall: number; nodeIdle: number }> {
  const p = spawn(
    'ffmpeg',
    ['-hide_banner', '-nostats', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url, '-an', '-f', 'null', '-'],
    { stdio: 'ignore' },
  );
  // Measure a steady window: skip the connection and probing.
  await new Promise((r) => setTimeout(r, 2000));
  const c0 = cpuSecondsOf(p.pid!);
  const n0 = process.cpuUsage();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = cpuSecondsOf(p.pid!) - c0;
  const n = process.cpuUsage(n0);
  const wall = (Date.now() - t0) / 1000;
  p.kill('SIGKILL');
  // What this Node process burns while doing nothing for the camera (timers, GC, tsx): not
  // a cost of ingest, so it is subtracted from the ingest run's Node time below.
  return { cpu, wall, nodeIdle: (n.user + n.system) / 1e6 };
}

async function ingest(
  url: string,
  seconds: number,
): Promise<{ cpu: number; ffmpegCpu: number; nodeCpu: number; wall: number; frames: number; buffersAllocated: number }> {
  const sup = new IngestSupervisor({
    cameraId: 'bench',
    url,
    fps: 5,
    maxWidth: 416,
    maxHeight: 416,
    stallTimeoutMs: 5000,
    log: pino({ level: 'silent' }),
  });
  let pid = 0;
  const before = new Set<number>();
  sup.start();
  // A consumer that touches every frame and then lets it go, as the analytics runner does.
  let frames = 0;
  sup.slot.subscribe((f) => {
    frames++;
    if (f.data.byteLength === 0) throw new Error('empty frame');
    f.release();
  });
  await new Promise((r) => setTimeout(r, 2000));
  // The supervisor's ffmpeg is the one child of ours whose command line reads the URL at 5 fps.
  for (const line of readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/)) {
    const child = Number(line);
    if (!child || before.has(child)) continue;
    try {
      if (readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('rawvideo')) pid = child;
    } catch {
      // exited
    }
  }
  if (!pid) throw new Error('ingest ffmpeg not found');
  const c0 = cpuSecondsOf(pid);
  const n0 = process.cpuUsage();
  const f0 = frames;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const ffmpegCpu = cpuSecondsOf(pid) - c0;
  const n = process.cpuUsage(n0);
  const wall = (Date.now() - t0) / 1000;
  const got = frames - f0;
  await sup.stop();
  // The Node side includes this process's idle overhead (timers, GC); it is an upper bound.
  const nodeCpu = (n.user + n.system) / 1e6;
  return { cpu: ffmpegCpu + nodeCpu, ffmpegCpu, nodeCpu, wall, frames: got, buffersAllocated: sup.bufferStats().allocated };
}

export async function run(args: string[]): Promise<void> {
  const arg = (name: string, def: number): number => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const seconds = arg('seconds', 15);
  const rounds = arg('rounds', 2);
  const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
  if (!assets) throw new Error('assets pack not found (set SENTINEL_ASSETS)');
  const sim = await startSimulator({ port: await freePort(), streams: [{ name: 'vtest', file: join(assets, 'media', 'vtest.avi') }] });
  try {
    const url = sim.url('vtest');
    const a: Array<Awaited<ReturnType<typeof baseline>>> = [];
    const b: Array<Awaited<ReturnType<typeof ingest>>> = [];
    for (let i = 0; i < rounds; i++) {
      a.push(await baseline(url, seconds));
      b.push(await ingest(url, seconds));
    }
    const perSec = (xs: Array<{ cpu: number; wall: number }>): number =>
      xs.reduce((s, x) => s + x.cpu, 0) / xs.reduce((s, x) => s + x.wall, 0);
    const base = perSec(a);
    const ingRaw = perSec(b);
    const idle = a.reduce((s, x) => s + x.nodeIdle, 0) / a.reduce((s, x) => s + x.wall, 0);
    const ing = ingRaw - idle;
    const ff = b.reduce((s, x) => s + x.ffmpegCpu, 0) / b.reduce((s, x) => s + x.wall, 0);
    const fps = b.reduce((s, x) => s + x.frames, 0) / b.reduce((s, x) => s + x.wall, 0);
    const row = {
      source: 'vtest.avi 768x576 10 fps, H.264 over RTSP/TCP (simulator)',
      seconds,
      rounds,
      baselineCpuPerCameraS: +base.toFixed(4),
      ingestCpuPerCameraS: +ing.toFixed(4),
      ingestCpuRawS: +ingRaw.toFixed(4),
      nodeIdleCpuS: +idle.toFixed(4),
      ingestFfmpegOnlyCpuS: +ff.toFixed(4),
      ratio: +(ing / base).toFixed(3),
      ratioRaw: +(ingRaw / base).toFixed(3),
      ratioFfmpegOnly: +(ff / base).toFixed(3),
      analysisFps: +fps.toFixed(2),
      camerasPerCore: +(1 / ing).toFixed(1),
      // Frame buffers allocated per ingest round (the rest came back from the pool).
      buffersAllocated: b.map((x) => x.buffersAllocated),
      framesPerRound: b.map((x) => x.frames),
    };
    console.log(JSON.stringify(row, null, 2));
    console.log(`ingest costs ${row.ratio}x a plain decode (goal <= 1.1x); ${row.camerasPerCore} cameras per core at 5 fps analysis`);
  } finally {
    await sim.close();
  }
}
