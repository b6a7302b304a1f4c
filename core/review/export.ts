import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Alert, Clip, Incident } from '../../contract';
import type { AlertStore } from '../alerts/store';
import type { AuditTrail } from '../audit';
import { SentinelError } from '../errors';
import { buildEvidencePackage, type EvidenceEntry, type SigningKey } from '../evidence';
import type { DetectionLog } from './detections';
import type { ReviewStore } from './service';

export interface ExportSources {
  audit: AuditTrail;
  alerts: AlertStore;
  detections: DetectionLog;
  review: ReviewStore;
  key: SigningKey;
  /** Clip metadata and files on disk (the cameras feature's clip store). */
  clip(id: string): Promise<(Clip & { path: string; snapshotPath: string | null }) | null>;
  outDir: string;
}

const README = `Sentinel evidence package
=========================

manifest.json lists every other file in this package with its SHA-256 and size, and the
public key of the Sentinel installation that made it. manifest.sig is the Ed25519
signature of manifest.json's exact bytes by that key.

To check it:  sentinel evidence verify <this file> --key <the installation's public key>
or by hand:   sha256sum each file and compare with manifest.json; verify manifest.sig
              against manifest.json with the public key (e.g. openssl pkeyutl -verify
              -rawin -pubin -inkey key.pem -sigfile <(base64 -d manifest.sig) -in manifest.json).

Clips are byte-for-byte copies of the recorded footage (stream copy, no re-encoding);
their SHA-256 also matches the one Sentinel stored when each clip was cut (clips.json).
Detections are the tracks the analytics saw, in fractions of the frame, by capture time.
audit.json is the excerpt of the installation's hash-chained audit trail about this
incident, its alerts and clips; each record carries its hash and the previous one.
`;

function sha256(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => res(h.digest('hex')))
      .on('error', rej);
  });
}

/**
 * Everything about one incident a court, an inspector or the public may need, as a signed
 * package: the original clips (stream copies), alert snapshots, the incident with its
 * history, verdict and notes, the stored detections, the audit excerpt, a README.
 * A clip whose file retention already removed stops the export with a message naming it:
 * a package that silently lacks the footage would mislead.
 */
export async function exportIncident(
  src: ExportSources,
  inc: Incident,
  exportId: string,
  createdBy: string,
  onProgress: (done: number, total: number) => void,
): Promise<{ path: string; bytes: number; sha256: string; fingerprint: string }> {
  const entries: EvidenceEntry[] = [{ name: 'README.txt', bytes: README }];
  const alerts: Alert[] = [];
  let from = Date.parse(inc.createdAt);
  let to = from;
  for (const id of inc.alertIds) {
    const a = await src.alerts.get(id);
    if (!a) continue;
    alerts.push(a.alert);
    from = Math.min(from, Date.parse(a.alert.startedAt));
    to = Math.max(to, Date.parse(a.alert.endedAt ?? a.alert.startedAt));
    if (a.snapshotPath && existsSync(a.snapshotPath)) entries.push({ name: `snapshots/alert-${a.alert.id}.jpg`, path: a.snapshotPath });
  }
  const clipIds = inc.links.filter((l) => l.kind === 'clip').map((l) => l.ref);
  const clips: Clip[] = [];
  for (const id of clipIds) {
    const c = await src.clip(id);
    if (!c) throw new SentinelError(`clip ${id} linked to incident ${inc.id} is not in the clip store`, 'not_found');
    if (!existsSync(c.path))
      throw new SentinelError(
        `the video of clip ${id} (${c.startAt} to ${c.endAt}) is no longer on disk; nothing was exported`,
        'not_found',
      );
    // The clip must still be what was cut: a changed file is not evidence.
    const actual = await sha256(c.path);
    if (actual !== c.sha256)
      throw new SentinelError(`clip ${id} on disk no longer matches the SHA-256 stored when it was cut; nothing was exported`, 'conflict');
    const { path, snapshotPath, ...meta } = c;
    clips.push(meta);
    entries.push({ name: `clips/${id}.mp4`, path });
    if (snapshotPath && existsSync(snapshotPath)) entries.push({ name: `clips/${id}.jpg`, path: snapshotPath });
    from = Math.min(from, Date.parse(c.startAt));
    to = Math.max(to, Date.parse(c.endAt));
  }
  const detections = await src.detections.range(inc.cameraId, from, to);
  const targets = [`incident:${inc.id}`, ...inc.alertIds.map((a) => `alert:${a}`), ...clipIds.map((c) => `clip:${c}`)];
  // The audit trail's own excerpt; hashes included so it can be matched against the installation's chain.
  const audit = await src.audit.excerpt(targets);
  entries.push(
    {
      name: 'incident.json',
      bytes: JSON.stringify({ incident: inc, verdict: await src.review.verdict(inc.id), notes: await src.review.notes(inc.id) }, null, 2),
    },
    { name: 'alerts.json', bytes: JSON.stringify(alerts, null, 2) },
    { name: 'clips.json', bytes: JSON.stringify(clips, null, 2) },
    {
      name: 'detections.json',
      bytes: JSON.stringify({ cameraId: inc.cameraId, from, to, coordinates: 'fractions of frame width/height', frames: detections }),
    },
    { name: 'audit.json', bytes: JSON.stringify(audit, null, 2) },
  );
  mkdirSync(src.outDir, { recursive: true });
  const outFile = join(src.outDir, `${exportId}.zip`);
  const manifest = await buildEvidencePackage({
    outFile,
    subject: { kind: 'incident', id: inc.id },
    createdBy,
    entries,
    key: src.key,
    onProgress,
  });
  return { path: outFile, bytes: statSync(outFile).size, sha256: await sha256(outFile), fingerprint: manifest.signer.fingerprint };
}

/**
 * The file of a ready package (or public copy), or a clear error when this replica cannot
 * read it. Packages are written under the data directory of the replica that built them and
 * their absolute path is stored, so every replica serves them only when the replicas share
 * one data directory mounted at the same path (docs/scale.md); a replica that does not see
 * another's file says so, naming that replica, instead of a bare "missing".
 */
export function packageFile(
  what: string,
  path: string,
  builder: string | null,
  /** This replica's id in a cluster; null alone (every package there was built by this installation). */
  replicaId: string | null,
  exists: (path: string) => boolean = existsSync,
): string {
  if (exists(path)) return path;
  if (replicaId !== null && builder !== null && builder !== replicaId)
    throw new SentinelError(
      `${what} was built by core replica ${builder} and its file ${path} is not on this replica (${replicaId}): core replicas must share one data directory, mounted at the same path (docs/scale.md)`,
      'unavailable',
    );
  throw new SentinelError(`the file of ${what} is missing`, 'not_found');
}
