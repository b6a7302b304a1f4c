import helmet from '@fastify/helmet';
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
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'", 'ws:', 'wss:'],
  workerSrc: ["'self'", 'blob:'],
  mediaSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/** Serves the built React console at `/`, with SPA fallback for client-side routes. */
export async function serveConsole(app: FastifyInstance): Promise<void> {
  await installSecurityHeaders(app);
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

/**
 * Security headers on every answer (API, console, errors) with @fastify/helmet: our CSP
 * (helmet's defaults off, so nothing like upgrade-insecure-requests breaks the plain-HTTP
 * localhost console), nosniff, no referrer, no framing. Registered with the route hooks'
 * encapsulation skipped, so it covers routes registered before and after it.
 */
export async function installSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    noSniff: true,
    // A plain-HTTP core on 127.0.0.1 (Electron, the demo) must not pin HTTPS for localhost.
    strictTransportSecurity: false,
  });
}
