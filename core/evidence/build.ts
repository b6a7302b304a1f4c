import { createHash, sign } from 'node:crypto';
import { createReadStream, createWriteStream, statSync, unlinkSync, renameSync, existsSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import yazl from 'yazl';
import { SentinelError } from '../errors';
import type { SigningKey } from './keys';
import { EVIDENCE_FORMAT, MANIFEST_NAME, SIGNATURE_NAME, safeEntryName, type EvidenceManifest } from './manifest';

export type EvidenceEntry = { name: string; path: string } | { name: string; bytes: Uint8Array | string };

export interface BuildOptions {
  outFile: string;
  subject: { kind: string; id: string };
  createdBy: string | null;
  entries: EvidenceEntry[];
  key: SigningKey;
  /** Called as the package is written: bytes written so far, and the expected total. */
  onProgress?: (done: number, total: number) => void;
  now?: Date;
  /** The package this one was derived from (a redacted public copy names its original). */
  derivedFrom?: EvidenceManifest['derivedFrom'];
}

async function sha256OfFile(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

function diskMessage(err: NodeJS.ErrnoException, outFile: string): string {
  if (err.code === 'ENOSPC')
    return `the disk is full: the evidence package ${outFile} could not be written; nothing was kept (free space and export again)`;
  if (err.code === 'EACCES' || err.code === 'EPERM') return `no permission to write the evidence package ${outFile}`;
  if (err.code === 'ENOENT') return `a file for the evidence package is missing: ${err.path ?? err.message}`;
  return `writing the evidence package ${outFile} failed: ${err.code ?? err.message}`;
}

/**
 * Writes a signed evidence ZIP: the entries, manifest.json (each entry's SHA-256 and size,
 * the signer's public key) and manifest.sig (Ed25519 over the manifest's exact bytes).
 *
 * Written to `<outFile>.partial` and renamed only when complete and flushed, so a full
 * disk, a crash or a missing source file never leaves something that looks like a package.
 * Entries are stored, not deflated: clips and JPEGs are already compressed, and stored
 * entries let anyone check a file with standard tools.
 */
export async function buildEvidencePackage(opts: BuildOptions): Promise<EvidenceManifest> {
  const names = new Set<string>();
  for (const e of opts.entries) {
    if (!safeEntryName(e.name)) throw new SentinelError(`"${e.name}" is not a safe file name inside an evidence package`, 'internal');
    if (e.name === MANIFEST_NAME || e.name === SIGNATURE_NAME || names.has(e.name))
      throw new SentinelError(`duplicate or reserved evidence file name "${e.name}"`, 'internal');
    names.add(e.name);
  }
  const files: EvidenceManifest['files'] = [];
  let total = 0;
  for (const e of opts.entries) {
    if ('path' in e) {
      let size: number;
      try {
        size = statSync(e.path).size;
      } catch (err) {
        throw new SentinelError(diskMessage(err as NodeJS.ErrnoException, opts.outFile), 'unavailable');
      }
      files.push({ name: e.name, sha256: await sha256OfFile(e.path), bytes: size });
      total += size;
    } else {
      const buf = typeof e.bytes === 'string' ? Buffer.from(e.bytes, 'utf8') : Buffer.from(e.bytes);
      files.push({ name: e.name, sha256: createHash('sha256').update(buf).digest('hex'), bytes: buf.length });
      total += buf.length;
    }
  }
  const manifest: EvidenceManifest = {
    format: EVIDENCE_FORMAT,
    createdAt: (opts.now ?? new Date()).toISOString(),
    subject: opts.subject,
    createdBy: opts.createdBy,
    signer: { algorithm: 'ed25519', publicKeyPem: opts.key.publicKeyPem, fingerprint: opts.key.fingerprint },
    files,
    ...(opts.derivedFrom ? { derivedFrom: opts.derivedFrom } : {}),
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  const signature = sign(null, manifestBytes, opts.key.privateKey).toString('base64');

  const zip = new yazl.ZipFile();
  const mtime = new Date(manifest.createdAt);
  for (const e of opts.entries) {
    if ('path' in e) zip.addFile(e.path, e.name, { compress: false, mtime });
    else
      zip.addBuffer(typeof e.bytes === 'string' ? Buffer.from(e.bytes, 'utf8') : Buffer.from(e.bytes), e.name, { compress: false, mtime });
  }
  zip.addBuffer(manifestBytes, MANIFEST_NAME, { compress: false, mtime });
  zip.addBuffer(Buffer.from(`${signature}\n`), SIGNATURE_NAME, { compress: false, mtime });
  zip.end();

  const partial = `${opts.outFile}.partial`;
  let written = 0;
  const expected = total + manifestBytes.length + 200 * (files.length + 2);
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      written += chunk.length;
      opts.onProgress?.(written, Math.max(expected, written));
      cb(null, chunk);
    },
  });
  try {
    const out = createWriteStream(partial, { flags: 'wx', flush: true });
    await pipeline(zip.outputStream, count, out);
    renameSync(partial, opts.outFile);
  } catch (err) {
    if (existsSync(partial)) unlinkSync(partial);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') throw new SentinelError(`an export to ${opts.outFile} is already in progress`, 'conflict');
    throw new SentinelError(diskMessage(e, opts.outFile), e.code === 'ENOSPC' ? 'unavailable' : 'internal');
  }
  opts.onProgress?.(written, written);
  return manifest;
}
