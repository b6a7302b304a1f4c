import { z } from 'zod';

/** The format tag inside every package; a verifier refuses what it does not know. */
export const EVIDENCE_FORMAT = 'sentinel-evidence/1';
export const MANIFEST_NAME = 'manifest.json';
export const SIGNATURE_NAME = 'manifest.sig';

export const ManifestFile = z.strictObject({
  name: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
});

/**
 * manifest.json: every other file of the package with its SHA-256, and who signed it.
 * manifest.sig is the Ed25519 signature (base64) over manifest.json's exact bytes.
 */
export const EvidenceManifest = z.strictObject({
  format: z.literal(EVIDENCE_FORMAT),
  createdAt: z.string(),
  /** What the package is about, e.g. { kind: 'incident', id } */
  subject: z.strictObject({ kind: z.string(), id: z.string() }),
  createdBy: z.string().nullable(),
  signer: z.strictObject({ algorithm: z.literal('ed25519'), publicKeyPem: z.string(), fingerprint: z.string() }),
  files: z.array(ManifestFile),
  /**
   * A derived package (the redacted public copy) names the package it was made from: a holder
   * of both can check that this copy came from that original.
   */
  derivedFrom: z.strictObject({ exportId: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), fingerprint: z.string() }).optional(),
});
export type EvidenceManifest = z.infer<typeof EvidenceManifest>;

/** File names inside a package: plain relative paths, no traversal, no absolute paths. */
export function safeEntryName(name: string): boolean {
  return /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(name) && !name.split('/').some((p) => p === '..' || p === '.');
}
