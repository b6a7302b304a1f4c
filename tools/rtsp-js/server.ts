import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { accessUnits, fmtp, packetize, type AccessUnit } from './h264';

/**
 * A small RTSP server in TypeScript for the demo cameras, for machines without GStreamer
 * (only Node, and ffmpeg from npm). Each footage file is encoded once into H.264 (Annex-B,
 * cached in the data directory); the server then loops it in real time, paced by the frame
 * rate, as RTP over RTSP-interleaved TCP. Every client of a stream gets the same packets
 * (packetised once per frame), so a client costs a socket write per packet and nothing else.
 *
 * Why hand-written: the npm RTSP servers we could keep either need an external media
 * server process (or ffmpeg per client), or serve only what a client pushes to them; the
 * part needed here (DESCRIBE/SETUP/PLAY over TCP for one H.264 track) is small.
 * UDP transport is not offered (461): ffmpeg and Sentinel's ingest use TCP interleaving.
 */

export interface RtspJsStreamSpec {
  name: string;
  file: string;
  fps?: number;
}

export interface RtspJsOptions {
  host?: string;
  port?: number;
  streams: RtspJsStreamSpec[];
  /** ffmpeg used (once per file) to encode the footage. */
  ffmpegPath?: string;
  /** Where the encoded footage is cached. */
  cacheDir: string;
  log: Logger;
}

export interface RtspJsStreamInfo {
  name: string;
  running: boolean;
  url: string;
  auth: boolean;
}

export interface RunningRtspJs {
  readonly port: number;
  readonly streams: RtspJsStreamInfo[];
  url(name: string): string;
  /** Clients currently playing a stream (for tests and health). */
  clients(name: string): number;
  stopStream(name: string): Promise<void>;
  startStream(name: string): Promise<void>;
  close(): Promise<void>;
}

const CLOCK = 90_000;
const MAX_LOOP_S = 60;
/** A client whose socket has this much unsent is skipped until the next keyframe: a slow reader never grows our memory. */
const MAX_BACKLOG = 2 * 1024 * 1024;

interface Encoded {
  units: AccessUnit[];
  sps: Buffer;
  pps: Buffer;
  fps: number;
}

/** Encodes (or loads from the cache) one footage file as H.264 Annex-B at a constant frame rate with 1 s GOPs. */
async function encodeOnce(spec: RtspJsStreamSpec, ffmpeg: string, cacheDir: string, log: Logger): Promise<Encoded> {
  const fps = spec.fps ?? 10;
  const st = statSync(spec.file);
  const key = createHash('sha256').update(`${spec.file}|${st.size}|${st.mtimeMs}|${fps}|${MAX_LOOP_S}|v2`).digest('hex').slice(0, 16);
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, `${spec.name}-${key}.h264`);
  if (!existsSync(out)) {
    const tmp = `${out}.part`;
    // At most a minute of each file loops: plenty for a demo camera, and the one-time encode
    // stays within seconds even on a busy 2-core machine (ultrafast, as the GStreamer simulator encodes).
    const args = [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'error',
      '-y',
      '-i',
      spec.file,
      '-t',
      String(MAX_LOOP_S),
      '-an',
      '-sn',
      '-dn',
      '-map',
      '0:v:0',
    ];
    // Even sizes and 4:2:0 (GIFs are palette images of any size); a 1 s GOP so a client joins within a second.
    args.push(
      '-vf',
      `fps=${fps},scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '26',
    );
    args.push(
      '-g',
      String(fps),
      '-keyint_min',
      String(fps),
      '-sc_threshold',
      '0',
      '-bf',
      '0',
      '-x264-params',
      'repeat-headers=1:sliced-threads=0',
      '-f',
      'h264',
      tmp,
    );
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      const p = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-2000)));
      p.on('error', (e) => reject(new Error(`cannot run ffmpeg to encode ${spec.file}: ${e.message}`)));
      p.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`encoding ${spec.file} failed: ${err.trim().split('\n').at(-1) ?? `exit ${code}`}`)),
      );
    }).catch((e: unknown) => {
      rmSync(tmp, { force: true });
      throw e;
    });
    // Renamed into place only when complete: an interrupted encode is never mistaken for a cached one.
    renameSync(tmp, out);
    log.info({ stream: spec.name, file: spec.file, ms: Date.now() - t0, bytes: statSync(out).size }, 'demo footage encoded once (cached)');
  }
  const { units, sps, pps } = accessUnits(readFileSync(out));
  if (!sps || !pps || units.length === 0 || !units[0]!.key) throw new Error(`${out}: not an H.264 stream starting with a keyframe`);
  return { units, sps, pps, fps };
}

interface Client {
  socket: Socket;
  channel: number;
  /** Waiting for a keyframe before the first (or next, after a backlog) packet. */
  needKey: boolean;
}

/** One looping live stream: a timer sends each frame to every playing client at its time. */
class LiveStream {
  readonly clients = new Set<Client>();
  private seq = Math.floor(Math.random() * 0xffff);
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private frame = 0;
  private timer: NodeJS.Timeout | null = null;
  private t0 = 0;
  running = true;

  constructor(
    readonly name: string,
    readonly enc: Encoded,
  ) {}

  get rtpTime(): number {
    return Math.round((this.frame * CLOCK) / this.enc.fps) >>> 0;
  }
  get nextSeq(): number {
    return this.seq & 0xffff;
  }

  start(): void {
    if (this.timer) return;
    this.t0 = performance.now() - (this.frame * 1000) / this.enc.fps;
    this.tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private tick = (): void => {
    const au = this.enc.units[this.frame % this.enc.units.length]!;
    if (this.clients.size > 0) this.send(au);
    this.frame++;
    // Paced by the frame clock, not by timer drift: each frame is due at t0 + n / fps.
    const due = this.t0 + (this.frame * 1000) / this.enc.fps;
    this.timer = setTimeout(this.tick, Math.max(0, due - performance.now()));
    this.timer.unref?.();
  };

  private send(au: AccessUnit): void {
    const ts = this.rtpTime;
    const packets = packetize(au).map(({ payload, marker }) => {
      const h = Buffer.alloc(12);
      h[0] = 0x80;
      h[1] = (marker ? 0x80 : 0) | 96;
      h.writeUInt16BE(this.seq++ & 0xffff, 2);
      h.writeUInt32BE(ts, 4);
      h.writeUInt32BE(this.ssrc, 8);
      return Buffer.concat([h, payload]);
    });
    // Interleaved framing per channel, built once for all clients on that channel.
    const framed = new Map<number, Buffer>();
    for (const c of this.clients) {
      if (c.needKey && !au.key) continue;
      if (c.socket.writableLength > MAX_BACKLOG) {
        c.needKey = true;
        continue;
      }
      c.needKey = false;
      let buf = framed.get(c.channel);
      if (!buf) {
        buf = Buffer.concat(
          packets.flatMap((p) => {
            const f = Buffer.alloc(4);
            f[0] = 0x24;
            f[1] = c.channel;
            f.writeUInt16BE(p.length, 2);
            return [f, p];
          }),
        );
        framed.set(c.channel, buf);
      }
      c.socket.write(buf);
    }
  }
}

interface Request {
  method: string;
  url: string;
  headers: Map<string, string>;
}

/** Starts the server; resolves once every stream is encoded (or loaded from the cache) and the port listens. */
export async function startRtspJs(opts: RtspJsOptions): Promise<RunningRtspJs> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log;
  const streams = new Map<string, LiveStream>();
  for (const s of opts.streams) {
    const enc = await encodeOnce(s, opts.ffmpegPath ?? 'ffmpeg', opts.cacheDir, log);
    streams.set(s.name, new LiveStream(s.name, enc));
  }
  const sockets = new Set<Socket>();
  let port = opts.port ?? 8554;

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    let session: { id: string; stream: LiveStream; client: Client | null } | null = null;
    const drop = (): void => {
      sockets.delete(socket);
      if (session?.client) session.stream.clients.delete(session.client);
    };
    socket.on('close', drop);
    socket.on('error', drop);

    const reply = (req: Request, code: number, reason: string, headers: Record<string, string> = {}, body = ''): void => {
      const lines = [
        `RTSP/1.0 ${code} ${reason}`,
        `CSeq: ${req.headers.get('cseq') ?? '0'}`,
        'Server: sentinel-rtsp-js',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    };

    const streamOf = (url: string): LiveStream | null => {
      let path: string;
      try {
        path = decodeURIComponent(new URL(url).pathname);
      } catch {
        return null;
      }
      const name = path.replace(/^\/+/, '').split('/')[0] ?? '';
      const s = streams.get(name);
      return s?.running ? s : null;
    };

    const handle = (req: Request): void => {
      const s = streamOf(req.url);
      switch (req.method) {
        case 'OPTIONS':
          return reply(req, 200, 'OK', { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER' });
        case 'DESCRIBE': {
          if (!s) return reply(req, 404, 'Not Found');
          const { sps, pps, fps } = s.enc;
          const sdp = [
            'v=0',
            `o=- ${Date.now()} 1 IN IP4 ${host}`,
            `s=${s.name}`,
            't=0 0',
            'a=control:*',
            'a=range:npt=now-',
            'm=video 0 RTP/AVP 96',
            'c=IN IP4 0.0.0.0',
            'a=rtpmap:96 H264/90000',
            `a=fmtp:96 ${fmtp(sps, pps)}`,
            `a=framerate:${fps}`,
            'a=control:trackID=0',
            '',
          ].join('\r\n');
          return reply(req, 200, 'OK', { 'Content-Base': `rtsp://${host}:${port}/${s.name}/`, 'Content-Type': 'application/sdp' }, sdp);
        }
        case 'SETUP': {
          if (!s) return reply(req, 404, 'Not Found');
          const transport = req.headers.get('transport') ?? '';
          const m = /interleaved=(\d+)(?:-(\d+))?/.exec(transport);
          if (!/RTP\/AVP\/TCP/i.test(transport) || !m) return reply(req, 461, 'Unsupported Transport');
          const ch = Number(m[1]);
          session = { id: randomBytes(8).toString('hex'), stream: s, client: { socket, channel: ch, needKey: true } };
          return reply(req, 200, 'OK', {
            Transport: `RTP/AVP/TCP;unicast;interleaved=${ch}-${ch + 1}`,
            Session: `${session.id};timeout=60`,
          });
        }
        case 'PLAY': {
          if (!session?.client) return reply(req, 455, 'Method Not Valid in This State');
          const st = session.stream;
          reply(req, 200, 'OK', {
            Session: session.id,
            Range: 'npt=now-',
            'RTP-Info': `url=rtsp://${host}:${port}/${st.name}/trackID=0;seq=${st.nextSeq};rtptime=${st.rtpTime}`,
          });
          st.clients.add(session.client);
          return;
        }
        case 'PAUSE':
          if (session?.client) session.stream.clients.delete(session.client);
          return reply(req, 200, 'OK', session ? { Session: session.id } : {});
        case 'TEARDOWN':
          if (session?.client) session.stream.clients.delete(session.client);
          reply(req, 200, 'OK', session ? { Session: session.id } : {});
          session = null;
          return;
        case 'GET_PARAMETER':
        case 'SET_PARAMETER':
          return reply(req, 200, 'OK', session ? { Session: session.id } : {});
        default:
          return reply(req, 501, 'Not Implemented');
      }
    };

    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        if (buf.length === 0) return;
        if (buf[0] === 0x24) {
          // Interleaved data from the client (RTCP receiver reports): skipped.
          if (buf.length < 4) return;
          const len = buf.readUInt16BE(2);
          if (buf.length < 4 + len) return;
          buf = buf.subarray(4 + len);
          continue;
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buf.length > 64 * 1024) socket.destroy(); // not RTSP
          return;
        }
        const head = buf.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map<string, string>();
        for (const line of head.slice(1)) {
          const i = line.indexOf(':');
          if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
        }
        const bodyLen = Number(headers.get('content-length') ?? 0) || 0;
        if (buf.length < end + 4 + bodyLen) return;
        buf = buf.subarray(end + 4 + bodyLen);
        const [method = '', url = ''] = (head[0] ?? '').split(' ');
        handle({ method: method.toUpperCase(), url, headers });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  for (const s of streams.values()) s.start();
  log.info({ port, streams: [...streams.keys()] }, 'built-in RTSP server (rtsp-js) serving the demo footage');

  const info = (): RtspJsStreamInfo[] =>
    [...streams.values()].map((s) => ({ name: s.name, running: s.running, url: `rtsp://${host}:${port}/${s.name}`, auth: false }));
  const kick = (s: LiveStream): void => {
    for (const c of s.clients) c.socket.destroy();
    s.clients.clear();
  };
  return {
    port,
    get streams() {
      return info();
    },
    url: (name) => `rtsp://${host}:${port}/${name}`,
    clients: (name) => streams.get(name)?.clients.size ?? 0,
    stopStream: async (name) => {
      const s = streams.get(name);
      if (!s) throw new Error(`no stream ${name}`);
      s.running = false;
      kick(s);
    },
    startStream: async (name) => {
      const s = streams.get(name);
      if (!s) throw new Error(`no stream ${name}`);
      s.running = true;
    },
    close: async () => {
      for (const s of streams.values()) {
        s.stop();
        kick(s);
      }
      for (const so of sockets) so.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
