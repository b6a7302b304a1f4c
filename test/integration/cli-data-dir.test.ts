import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSentinel, tempDir } from '../support/serve';

describe('commands that read an installation refuse a directory with no Sentinel data', () => {
  for (const args of [
    ['audit', 'verify'],
    ['evidence', 'key'],
  ]) {
    it(`sentinel ${args.join(' ')} --data-dir /wrong/dir names the directory and creates nothing`, async () => {
      const dir = join(tempDir(), 'wrong');
      const r = await runSentinel([...args, '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${dir} holds no Sentinel data`);
      expect(r.stdout).not.toMatch(/ok|BEGIN PUBLIC KEY/);
      expect(existsSync(dir)).toBe(false);
    });
  }
});
