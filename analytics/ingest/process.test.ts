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
});
