import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildEvidencePackage, loadOrCreateSigningKey } from '../../core/evidence';
import { runSentinel, tempDir } from '../support/serve';
import { rewriteZip } from '../support/zip';

describe('sentinel evidence verify / key', () => {
  it('exits 0 for an intact package and 1 naming the altered file for a tampered one', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const key = loadOrCreateSigningKey(dataDir, null);
    const pkg = join(dir, 'inc.zip');
    await buildEvidencePackage({
      outFile: pkg,
      subject: { kind: 'incident', id: 'inc-7' },
      createdBy: 'reviewer',
      entries: [
        { name: 'incident.json', bytes: '{"id":"inc-7"}' },
        { name: 'snapshots/a.jpg', bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) },
      ],
      key,
    });

    // The installation's key, as `sentinel evidence key` prints it for publication.
    const k = await runSentinel(['evidence', 'key', '--data-dir', dataDir]);
    expect(k.code).toBe(0);
    expect(k.stdout).toContain(`fingerprint ${key.fingerprint}`);
    const pem = join(dir, 'installation.pem');
    writeFileSync(pem, k.stdout.slice(k.stdout.indexOf('-----BEGIN')));

    const ok = await runSentinel(['evidence', 'verify', pkg, '--key', pem]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/OK — 2 files match the manifest/);

    const tampered = join(dir, 'tampered.zip');
    await rewriteZip(pkg, tampered, (es) =>
      es.map((e) => (e.name === 'snapshots/a.jpg' ? { ...e, data: Buffer.from([0xff, 0xd8, 0x00, 0xff, 0xd9]) } : e)),
    );

    const bad = await runSentinel(['evidence', 'verify', tampered]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/snapshots\/a\.jpg was altered/);
    const json = await runSentinel(['evidence', 'verify', tampered, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: [{ kind: 'altered', file: 'snapshots/a.jpg' }] });

    const missing = await runSentinel(['evidence', 'verify', join(dir, 'nope.zip')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});
