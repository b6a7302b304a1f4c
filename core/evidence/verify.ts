import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import yauzl from 'yauzl';
import { fingerprintOf } from './keys';
import { EvidenceManifest, MANIFEST_NAME, SIGNATURE_NAME } from './manifest';

export type ProblemKind = 'not_a_package' | 'altered' | 'missing' | 'extra' | 'signature' | 'untrusted_key';

export interface VerifyProblem {
  kind: ProblemKind;
  /** The file inside the package the problem is about (or the package itself). */
  file: string;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  problems: VerifyProblem[];
  manifest: EvidenceManifest | null;
  /** Fingerprint of the key that signed the package (valid signature or not). */
  fingerprint: string | null;
  filesChecked: number;
}

interface Entry {
  name: string;
  sha256: string;
  bytes: number;
  data?: Buffer;
}

const KEEP_BYTES = new Set([MANIFEST_NAME, SIGNATURE_NAME]);

function readEntries(file: string): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('cannot open'));
      const out: Entry[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (e2, stream) => {
          if (e2 || !stream) return reject(e2 ?? new Error('cannot read entry'));
          const h = createHash('sha256');
          const keep: Buffer[] = [];
          let bytes = 0;
          stream.on('data', (c: Buffer) => {
            h.update(c);
            bytes += c.length;
            if (KEEP_BYTES.has(entry.fileName) && bytes <= 4 * 1024 * 1024) keep.push(c);
          });
          stream.on('error', reject);
          stream.on('end', () => {
            out.push({
              name: entry.fileName,
              sha256: h.digest('hex'),
              bytes,
              ...(KEEP_BYTES.has(entry.fileName) ? { data: Buffer.concat(keep) } : {}),
            });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/**
 * Checks an evidence package: it is a ZIP; manifest.json is signed by manifest.sig with the
 * key the manifest names (and, when `trustedPublicKeyPem` is given, that key is the
 * installation's); every listed file is present with its SHA-256; nothing else is inside.
 * Problems come back in that order, so `problems[0]` is the one to name.
 */
export async function verifyEvidencePackage(file: string, opts: { trustedPublicKeyPem?: string } = {}): Promise<VerifyResult> {
  const fail = (kind: ProblemKind, f: string, message: string): VerifyResult => ({
    ok: false,
    problems: [{ kind, file: f, message }],
    manifest: null,
    fingerprint: null,
    filesChecked: 0,
  });
  let entries: Entry[];
  try {
    entries = await readEntries(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return fail('not_a_package', file, `${file} does not exist`);
    return fail('not_a_package', file, `${file} is not a readable evidence package (ZIP): ${e.message}`);
  }
  const byName = new Map<string, Entry[]>();
  for (const e of entries) byName.set(e.name, [...(byName.get(e.name) ?? []), e]);
  const manifestEntry = byName.get(MANIFEST_NAME)?.[0];
  const sigEntry = byName.get(SIGNATURE_NAME)?.[0];
  if (!manifestEntry?.data) return fail('missing', MANIFEST_NAME, `${MANIFEST_NAME} is missing from the package`);
  if (!sigEntry?.data) return fail('missing', SIGNATURE_NAME, `${SIGNATURE_NAME} is missing from the package`);
  let manifest: EvidenceManifest;
  try {
    manifest = EvidenceManifest.parse(JSON.parse(manifestEntry.data.toString('utf8')));
  } catch {
    return fail('altered', MANIFEST_NAME, `${MANIFEST_NAME} is not a valid Sentinel evidence manifest`);
  }
  const problems: VerifyProblem[] = [];
  let fingerprint: string | null = null;
  try {
    const key = createPublicKey(manifest.signer.publicKeyPem);
    fingerprint = fingerprintOf(key);
    const good = verifySignature(null, manifestEntry.data, key, Buffer.from(sigEntry.data.toString('utf8').trim(), 'base64'));
    if (!good)
      problems.push({
        kind: 'signature',
        file: MANIFEST_NAME,
        message: `${MANIFEST_NAME} does not match its signature: the manifest was altered after signing`,
      });
    if (opts.trustedPublicKeyPem) {
      const trusted = createPublicKey(opts.trustedPublicKeyPem);
      if (!trusted.equals(key))
        problems.push({
          kind: 'untrusted_key',
          file: MANIFEST_NAME,
          message: `signed by key ${fingerprint}, not by the trusted key ${fingerprintOf(trusted)}`,
        });
    }
  } catch (err) {
    problems.push({ kind: 'signature', file: SIGNATURE_NAME, message: `the signature cannot be checked: ${(err as Error).message}` });
  }
  const listed = new Set<string>();
  let filesChecked = 0;
  for (const f of manifest.files) {
    listed.add(f.name);
    const found = byName.get(f.name);
    if (!found || found.length === 0) {
      problems.push({ kind: 'missing', file: f.name, message: `${f.name} is listed in the manifest but missing from the package` });
      continue;
    }
    filesChecked++;
    if (found.length > 1) problems.push({ kind: 'extra', file: f.name, message: `${f.name} appears ${found.length} times in the package` });
    else if (found[0]!.sha256 !== f.sha256 || found[0]!.bytes !== f.bytes)
      problems.push({
        kind: 'altered',
        file: f.name,
        message: `${f.name} was altered: SHA-256 ${found[0]!.sha256} (${found[0]!.bytes} bytes), manifest says ${f.sha256} (${f.bytes} bytes)`,
      });
  }
  for (const e of entries) {
    if (!listed.has(e.name) && e.name !== MANIFEST_NAME && e.name !== SIGNATURE_NAME)
      problems.push({ kind: 'extra', file: e.name, message: `${e.name} is in the package but not in the manifest` });
  }
  // File problems first (what a person asks: which file?), then the signature's.
  const rank = (p: VerifyProblem): number => (p.kind === 'signature' || p.kind === 'untrusted_key' ? 1 : 0);
  problems.sort((a, b) => rank(a) - rank(b));
  return { ok: problems.length === 0, problems, manifest, fingerprint, filesChecked };
}
