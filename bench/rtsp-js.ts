import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chooseFfmpeg } from '../analytics/ingest/ffmpeg-binary';
import { discoverAssetsDir } from '../core/config';
import { startRtspJs } from '../tools/rtsp-js/server';

/**
 * What a client costs the built-in RTSP server (tools/rtsp-js): the server's own CPU while
 * serving vtest.avi (768x576, 10 fps H.264) to 0, 1, 10 and 40 clients, each a plain
 * RTSP/TCP session (DESCRIBE, SETUP interleaved, PLAY) in a separate process that reads and
 * discards the packets. Baseline: the same server with no client (its frame clock only),
 * measured in the same run, rounds alternating.
 *
 * `npm run bench -- rtsp-js [--seconds 10] [--rounds 3]`
 */

// The clients live in another process so their CPU is not counted as the server's.
const CLIENTS = `
const net = require('node:net');
const [url, n] = [process.argv[1], Number(process.argv[2])];
const u = new URL(url);
let bytes = 0;
for (let i = 0; i < n; i++) {
  const s = net.connect(Number(u.port), u.hostname);
  let cseq = 0;
  const send = (m, path, extra = '') => s.write(m + ' ' + path + ' RTSP/1.0\\r\\nCSeq: ' + ++cseq + '\\r\\n' + extra + '\\r\\n');
  let stage = 0;
  let session = '';
  s.on('data', (d) => {
    bytes += d.length;
    if (stage === 0 && d.includes('RTSP/1.0 200')) { stage = 1; send('SETUP', url + '/trackID=0', 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1\\r\\n'); return; }
    if (stage === 1 && d.includes('Session:')) { stage = 2; session = /Session: ([^;\\r]+)/.exec(d.toString('latin1'))[1]; send('PLAY', url, 'Session: ' + session + '\\r\\n'); }
  });
  s.on('connect', () => send('DESCRIBE', url, 'Accept: application/sdp\\r\\n'));
}
setInterval(() => process.stdout.write(String(bytes) + '\\n'), 1000);
`;

async function window(seconds: number): Promise<number> {
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6 / seconds;
}

async function measure(url: string, clients: number, seconds: number): Promise<{ cpu: number; mbps: number }> {
  if (clients === 0) return { cpu: await window(seconds), mbps: 0 };
  const p = spawn(process.execPath, ['-e', CLIENTS, url, String(clients)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last = 0;
  p.stdout.setEncoding('utf8').on('data', (s: string) => (last = Number(s.trim().split('\n').at(-1)) || last));
  await new Promise((r) => setTimeout(r, 2000)); // connected, and past the first keyframe
  const b0 = last;
  const cpu = await window(seconds);
  const mbps = ((last - b0) * 8) / 1e6 / seconds;
  p.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  return { cpu, mbps };
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

export async function run(args: string[]): Promise<void> {
  const opt = (name: string, dflt: number): number => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const seconds = opt('seconds', 10);
  const rounds = opt('rounds', 3);
  const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
  if (!assets) throw new Error('no assets pack (set SENTINEL_ASSETS)');
  const cacheDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-rtspjs-'));
  const srv = await startRtspJs({
    port: 0,
    streams: [{ name: 'platform', file: join(assets, 'media', 'vtest.avi'), fps: 10 }],
    cacheDir,
    log: pino({ level: 'silent' }),
    ffmpegPath: chooseFfmpeg().path,
  });
  const url = srv.url('platform');
  const counts = [0, 1, 10, 40];
  const cpu = new Map<number, number[]>(counts.map((n) => [n, []]));
  const mbps = new Map<number, number[]>(counts.map((n) => [n, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const n of counts) {
        const m = await measure(url, n, seconds);
        cpu.get(n)!.push(m.cpu);
        mbps.get(n)!.push(m.mbps);
      }
    }
  } finally {
    await srv.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const base = median(cpu.get(0)!);
  for (const n of counts) {
    const c = median(cpu.get(n)!);
    const perClient = n ? (c - base) / n : 0;
    console.log(
      `${String(n).padStart(2)} clients: server CPU ${(c * 100).toFixed(2)} % of a core` +
        (n
          ? `, ${(perClient * 100).toFixed(3)} % per client, ${median(mbps.get(n)!).toFixed(1)} Mbit/s delivered, x${(c / Math.max(base, 1e-4)).toFixed(1)} vs no client`
          : ' (baseline: the frame clock alone)'),
    );
  }
}
