import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { API_BASE } from '../../contract';
import { ROOT_DIR } from '../version';

export const CONSOLE_DIR = join(ROOT_DIR, 'dist', 'renderer');

/**
 * A strict content security policy: the console loads only its own files and talks only to
 * its own origin (HTTP and the socket.io websocket). MapLibre needs blob: workers and
 * images; React's style attributes need inline styles.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "worker-src 'self' blob:",
  "media-src 'self' blob:",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Serves the built React console at `/`, with SPA fallback for client-side routes. */
export async function serveConsole(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (_req, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Content-Security-Policy', CSP);
  });
  const built = existsSync(join(CONSOLE_DIR, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, { root: CONSOLE_DIR, prefix: '/', wildcard: false, index: ['index.html'] });
  }
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith(API_BASE) || req.url.startsWith('/socket.io') || req.method !== 'GET') {
      return reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
    }
    if (!built) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The Sentinel console is not built. Run `npm run build` (npm ci does it for you), then reload.\n');
    }
    return reply.type('text/html; charset=utf-8').sendFile('index.html');
  });
}
