import { existsSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { spawnTied } from './process';

describe('spawnTied', () => {
  it('runs a child at the niceness asked for, and at the normal one otherwise', async () => {
    const niced = spawnTied('sleep', ['5'], { stdio: 'ignore', nice: 7 });
    const plain = spawnTied('sleep', ['5'], { stdio: 'ignore' });
    try {
      // Through the kill-with-parent wrapper, which execs sleep in the same process.
      await new Promise((r) => setTimeout(r, 300));
      expect(getPriority(niced.pid!)).toBe(7);
      expect(getPriority(plain.pid!)).toBe(getPriority());
    } finally {
      niced.kill('SIGKILL');
      plain.kill('SIGKILL');
    }
  });

  const linuxWrapper = process.platform === 'linux' && existsSync('/usr/bin/python3');
  it.skipIf(!linuxWrapper)(
    'gives the child a larger stdout socket buffer when asked (skipped: needs Linux and /usr/bin/python3)',
    async () => {
      const probe = [
        '-c',
        'import socket; s = socket.socket(fileno=1); print(s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF), flush=True); s.detach()',
      ];
      const read = async (opts: { stdoutBufferBytes?: number }): Promise<number> => {
        const c = spawnTied('/usr/bin/python3', probe, { stdio: ['ignore', 'pipe', 'ignore'], ...opts });
        let out = '';
        c.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
        await new Promise((r) => c.once('close', r));
        return Number(out.trim());
      };
      const big = await read({ stdoutBufferBytes: 1 << 20 });
      const plain = await read({});
      // Linux reports twice the size asked for (bookkeeping overhead), capped by net.core.wmem_max.
      expect(big).toBeGreaterThan(plain);
      expect(big).toBeGreaterThanOrEqual(Math.min(1 << 20, plain * 2));
    },
  );
});
