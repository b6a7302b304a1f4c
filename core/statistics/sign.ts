import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import { StatisticsManifest, type StatisticsManifest as Manifest } from '../../contract';
import { canonicalJson } from '../audit';
import { fingerprintOf, type SigningKey } from '../evidence/keys';

/** Signs a month's files with the installation key (the same Ed25519 key as evidence packages). */
export function signMonth(
  key: SigningKey,
  month: string,
  files: Record<string, string>,
  publishedAt = new Date(),
): { manifest: Manifest; signature: string } {
  const manifest: Manifest = {
    format: 'sentinel-statistics/1',
    month,
    files: Object.fromEntries(
      Object.entries(files).map(([name, text]) => [
        name,
        { sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text) },
      ]),
    ),
    fingerprint: key.fingerprint,
    publicKeyPem: key.publicKeyPem,
    publishedAt: publishedAt.toISOString(),
  };
  return { manifest, signature: sign(null, Buffer.from(canonicalJson(manifest)), key.privateKey).toString('base64') };
}

export interface MonthVerification {
  ok: boolean;
  problems: string[];
  fingerprint: string | null;
}

/**
 * Checks a published month: the signature over the manifest (with the key given, or the one
 * inside the manifest, whose fingerprint the reader compares with the CTA's), then each file.
 */
export function verifyMonth(
  manifestJson: string,
  signatureB64: string,
  files: Record<string, string | null>,
  trustedPublicKeyPem?: string,
): MonthVerification {
  const problems: string[] = [];
  let manifest: Manifest;
  try {
    manifest = StatisticsManifest.parse(JSON.parse(manifestJson));
  } catch (err) {
    return {
      ok: false,
      problems: [`the manifest is not a Sentinel statistics manifest: ${(err as Error).message.split('\n')[0]}`],
      fingerprint: null,
    };
  }
  const pub = createPublicKey(trustedPublicKeyPem ?? manifest.publicKeyPem);
  const fingerprint = fingerprintOf(pub);
  if (trustedPublicKeyPem && fingerprint !== manifest.fingerprint)
    problems.push(`signed by key ${manifest.fingerprint}, not the trusted key ${fingerprint}`);
  if (!verify(null, Buffer.from(canonicalJson(manifest)), pub, Buffer.from(signatureB64.trim(), 'base64')))
    problems.push('the signature does not match the manifest (altered, or another key)');
  for (const [name, want] of Object.entries(manifest.files)) {
    const text = files[name];
    if (text === undefined || text === null) problems.push(`${name} is missing`);
    else if (createHash('sha256').update(text).digest('hex') !== want.sha256)
      problems.push(`${name} does not match the signed manifest (altered)`);
  }
  return { ok: problems.length === 0, problems, fingerprint };
}
