import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAssetsManifest } from '../../core/assets-fetch';
import { runSentinel } from '../support/serve';
import { assets } from './ingest-helpers';

/** Every file under dir with its sha256: "unchanged" means this is equal before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const online = await lookup('github.com').then(
  () => true,
  () => false,
);

// The offline case, which is this machine's: every file is named once with why, nothing is written.
describe.skipIf(online)(`sentinel assets fetch without network${online ? ' (skipped: this machine is online)' : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-assets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails with one clear line per file it could not get and leaves the directory unchanged', async () => {
    const manifest = readAssetsManifest();
    // One file already there and correct (skipped), one there but wrong (kept as it is, reported).
    const sample = manifest.find((f) => f.path.startsWith('fixtures/'))!;
    const wrong = manifest.find((f) => f.path === 'media/vtest.avi')!;
    if (assets) {
      mkdirSync(join(dir, 'fixtures', 'cta-api', 'doc-samples'), { recursive: true });
      copyFileSync(join(assets, sample.path), join(dir, sample.path));
    }
    mkdirSync(join(dir, 'media'));
    writeFileSync(join(dir, wrong.path), 'not the video');
    const before = snapshot(dir);

    const r = await runSentinel(['assets', 'fetch', '--dir', dir], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('could not fetch '));
    const expected = manifest.filter((f) => !(assets && f.path === sample.path)).map((f) => f.path);
    expect(lines.map((l) => /^could not fetch (.+?): /.exec(l)?.[1]).sort()).toEqual(expected.sort());
    // Each line says why: no address known, or the network error for the address tried.
    for (const l of lines) expect(l).toMatch(/no public download address is known|cannot fetch https:\/\/\S+: \S+/);
    expect(lines.find((l) => l.includes(wrong.path))).toMatch(/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH|timed out/);
    expect(r.stdout).toMatch(new RegExp(`0 fetched, ${assets ? 1 : 0} already present, ${expected.length} could not be fetched`));
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/could not be fetched \(listed above\)/);
    expect(snapshot(dir)).toEqual(before);
  }, 150_000);
});
