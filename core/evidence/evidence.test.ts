import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readZip as readAll, rewriteZip as rewrite } from '../../test/support/zip';
import { buildEvidencePackage, loadOrCreateSigningKey, verifyEvidencePackage, type EvidenceEntry } from './index';

const dir = mkdtempSync(join(tmpdir(), 'evidence-'));
const key = loadOrCreateSigningKey(join(dir, 'data'), null);

// A real clip-like file: an MP4 made by ffmpeg from a test pattern (no shared assets needed).
const clip = join(dir, 'clip.mp4');
let haveFfmpeg = true;
try {
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=320x240:rate=10',
    '-t',
    '2',
    '-pix_fmt',
    'yuv420p',
    '-y',
    clip,
  ]);
} catch {
  haveFfmpeg = false;
  writeFileSync(clip, Buffer.alloc(50_000, 7));
}

function entries(): EvidenceEntry[] {
  return [
    { name: 'clips/clip-1.mp4', path: clip },
    { name: 'incident.json', bytes: JSON.stringify({ id: 'inc-1', kind: 'fight' }) },
    { name: 'detections.json', bytes: '[]' },
  ];
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evidence packages', () => {
  const pkg = join(dir, 'inc-1.zip');

  it('builds a signed package that verifies, with every file hashed and the clip stored byte for byte', async () => {
    const progress: number[] = [];
    const manifest = await buildEvidencePackage({
      outFile: pkg,
      subject: { kind: 'incident', id: 'inc-1' },
      createdBy: 'reviewer1',
      entries: entries(),
      key,
      onProgress: (d) => progress.push(d),
    });
    expect(manifest.files.map((f) => f.name)).toEqual(['clips/clip-1.mp4', 'incident.json', 'detections.json']);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(statSync(pkg).size);
    expect(existsSync(`${pkg}.partial`)).toBe(false);
    const r = await verifyEvidencePackage(pkg, { trustedPublicKeyPem: key.publicKeyPem });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.filesChecked).toBe(3);
    expect(r.fingerprint).toBe(key.fingerprint);
    const inside = await readAll(pkg);
    expect(inside.find((e) => e.name === 'clips/clip-1.mp4')!.data.equals(readFileSync(clip))).toBe(true);
    if (!haveFfmpeg) console.warn('ffmpeg absent: the clip was a plain byte file');
  });

  it('names an altered file', async () => {
    const bad = join(dir, 'altered.zip');
    await rewrite(pkg, bad, (es) =>
      es.map((e) => (e.name === 'incident.json' ? { ...e, data: Buffer.from(JSON.stringify({ id: 'inc-1', kind: 'crowding' })) } : e)),
    );
    const r = await verifyEvidencePackage(bad);
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatchObject({ kind: 'altered', file: 'incident.json' });
  });

  it('names a missing file and an extra file', async () => {
    const missing = join(dir, 'missing.zip');
    await rewrite(pkg, missing, (es) => es.filter((e) => e.name !== 'clips/clip-1.mp4'));
    expect((await verifyEvidencePackage(missing)).problems[0]).toMatchObject({ kind: 'missing', file: 'clips/clip-1.mp4' });
    const extra = join(dir, 'extra.zip');
    await rewrite(pkg, extra, (es) => [...es, { name: 'notes.txt', data: Buffer.from('added later') }]);
    expect((await verifyEvidencePackage(extra)).problems[0]).toMatchObject({ kind: 'extra', file: 'notes.txt' });
  });

  it('catches a manifest rewritten to match an altered file (the signature no longer matches)', async () => {
    const forged = join(dir, 'forged.zip');
    await rewrite(pkg, forged, (es) => {
      const newIncident = Buffer.from('{"id":"inc-1","kind":"none"}');
      const m = JSON.parse(es.find((e) => e.name === 'manifest.json')!.data.toString()) as {
        files: { name: string; sha256: string; bytes: number }[];
      };
      const f = m.files.find((x) => x.name === 'incident.json')!;
      f.sha256 = createHash('sha256').update(newIncident).digest('hex');
      f.bytes = newIncident.length;
      return es.map((e) =>
        e.name === 'incident.json'
          ? { ...e, data: newIncident }
          : e.name === 'manifest.json'
            ? { ...e, data: Buffer.from(JSON.stringify(m, null, 2) + '\n') }
            : e,
      );
    });
    const r = await verifyEvidencePackage(forged);
    expect(r.ok).toBe(false);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ kind: 'signature', file: 'manifest.json' });
  });

  it('refuses a package re-signed with another key when the installation key is given', async () => {
    const other = loadOrCreateSigningKey(join(dir, 'other'), null);
    const pkg2 = join(dir, 'other-key.zip');
    await buildEvidencePackage({
      outFile: pkg2,
      subject: { kind: 'incident', id: 'inc-1' },
      createdBy: null,
      entries: entries(),
      key: other,
    });
    expect((await verifyEvidencePackage(pkg2)).ok).toBe(true);
    const r = await verifyEvidencePackage(pkg2, { trustedPublicKeyPem: key.publicKeyPem });
    expect(r.problems[0]).toMatchObject({ kind: 'untrusted_key' });
  });

  it('says plainly when the file is not a package at all', async () => {
    const junk = join(dir, 'junk.zip');
    writeFileSync(junk, 'this is not a zip');
    expect((await verifyEvidencePackage(junk)).problems[0]).toMatchObject({ kind: 'not_a_package' });
    expect((await verifyEvidencePackage(join(dir, 'nope.zip'))).problems[0]?.message).toMatch(/does not exist/);
  });

  it('keeps the same key across restarts and refuses unsafe names', async () => {
    expect(loadOrCreateSigningKey(join(dir, 'data'), null).fingerprint).toBe(key.fingerprint);
    expect(statSync(join(dir, 'data', 'keys', 'evidence-ed25519.pem')).mode & 0o077).toBe(0);
    await expect(
      buildEvidencePackage({
        outFile: join(dir, 'x.zip'),
        subject: { kind: 'incident', id: 'x' },
        createdBy: null,
        entries: [{ name: '../escape.txt', bytes: 'x' }],
        key,
      }),
    ).rejects.toThrow(/not a safe file name/);
    await expect(
      buildEvidencePackage({
        outFile: join(dir, 'y.zip'),
        subject: { kind: 'incident', id: 'x' },
        createdBy: null,
        entries: [{ name: 'clip.mp4', path: join(dir, 'deleted-by-retention.mp4') }],
        key,
      }),
    ).rejects.toThrow(/missing/);
    expect(existsSync(join(dir, 'y.zip'))).toBe(false);
  });

  // A real full disk: a 256 KiB tmpfs. Needs root (CI runs as root); skipped elsewhere, and says so.
  const canMount = process.getuid?.() === 0;
  it.skipIf(!canMount)(
    'leaves nothing behind and says the disk is full when the disk fills mid-export (root only: mounts a tmpfs)',
    async () => {
      const small = join(dir, 'small');
      mkdirSync(small);
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small]);
      } catch (err) {
        console.warn(`skipped: cannot mount a tmpfs here (${(err as Error).message})`);
        return;
      }
      try {
        const big = join(dir, 'big.bin');
        writeFileSync(big, Buffer.alloc(1024 * 1024, 1));
        await expect(
          buildEvidencePackage({
            outFile: join(small, 'inc.zip'),
            subject: { kind: 'incident', id: 'x' },
            createdBy: null,
            entries: [{ name: 'big.bin', path: big }],
            key,
          }),
        ).rejects.toThrow(/disk is full/);
        expect(readdirSync(small)).toEqual([]);
      } finally {
        execFileSync('umount', [small]);
      }
    },
  );
});
