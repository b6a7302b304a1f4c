import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { pino } from 'pino';
import { discoverAssetsDir } from '../../core/config';
import { simulatorAvailable } from '../../tools/rtsp-sim/sim';

/** The assets pack, or null (tests that need footage skip, saying so). */
export const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
export const vtest = assets ? `${assets}/media/vtest.avi` : '';
export const secondFootage = assets ? `${assets}/media/one-by-one-person-detection.mp4` : '';
/** Why the RTSP tests cannot run here, or null when they can. */
export const skipReason =
  !assets || !existsSync(vtest) ? 'assets pack with media/vtest.avi not found (set SENTINEL_ASSETS)' : simulatorAvailable();

export const quietLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A free TCP port on 127.0.0.1 (the simulator needs a fixed one to restart on). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

type Maybe<T> = T | undefined | null | false;

/** Polls `fn` (which may be async: its promise is awaited, not taken as the answer) until it gives a value. */
export async function waitFor<T>(what: string, fn: () => Maybe<T> | Promise<Maybe<T>>, timeoutMs: number, stepMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Whether a pid is a live (non-zombie) process. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** A TCP server that answers every connection with junk: a "camera" that is not RTSP. */
export async function garbageServer(): Promise<{ port: number; server: Server }> {
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.write(Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\r\n<html>not a camera</html>\u0000\u00ff\u0013'));
    setTimeout(() => sock.destroy(), 200);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server };
}
