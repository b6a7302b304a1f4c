import { createServer } from 'node:net';

/**
 * A free TCP port on loopback, for a server whose URL must be known before it starts (an
 * OIDC redirect URL registered at the provider). Another process could take it in between;
 * on a test machine that is rare, and the start then fails loudly (EADDRINUSE), never silently.
 */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}
