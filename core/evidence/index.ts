// Evidence packages: signed ZIPs a reviewer exports and anyone can verify (docs/evidence.md).
export { buildEvidencePackage, type BuildOptions, type EvidenceEntry } from './build';
export { loadOrCreateSigningKey, fingerprintOf, type SigningKey } from './keys';
export { EvidenceManifest, EVIDENCE_FORMAT, MANIFEST_NAME, SIGNATURE_NAME } from './manifest';
export { verifyEvidencePackage, type VerifyProblem, type VerifyResult } from './verify';
