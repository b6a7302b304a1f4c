import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Alert, Clip, Incident } from '../../contract';
import type { RedactionMode } from '../../contract/review';
import type { Point } from '../../contract/zones';
import { redactJpeg, redactVideo, type RedactionPlan } from '../../analytics/redaction/redact';
import { sha256File } from '../../analytics/recording/clips';
import type { AlertStore } from '../alerts/store';
import { SentinelError } from '../errors';
import { buildEvidencePackage, type EvidenceEntry, type SigningKey } from '../evidence';
import type { DetectionLog } from './detections';
import type { PublicCopyResult } from './service';

export interface PublicCopySources {
  ffmpeg: string;
  alerts: AlertStore;
  detections: DetectionLog;
  key: SigningKey;
  clip(id: string): Promise<(Clip & { path: string; snapshotPath: string | null }) | null>;
  /** The camera's privacy masks (normalised polygons), burned into every picture. */
  privacyMasks(cameraId: string): Promise<Point[][]>;
  outDir: string;
}

export interface PublicCopyRequestResolved {
  subjects: number[];
  mode: RedactionMode;
}

const README = `Sentinel evidence package: PUBLIC COPY (redacted)
=================================================

This package was made from an original Sentinel evidence package for release to the public.
In its clips and pictures, every person the analytics detected is pixelated except the
subjects the reviewer kept visible (redaction.json lists them and the method), and the
camera's privacy masks are pixelated too. The clips were re-encoded (H.264) to do that: they
are NOT the recorded footage, whose stream copies are in the original package only.

manifest.json lists every file with its SHA-256 and is signed (manifest.sig, Ed25519) by the
Sentinel installation's key, like the original. Its "derivedFrom" names the original
package's SHA-256: a holder of both can check that this copy was made from it.

Pixelation covers the people Sentinel detected; a person it missed is not covered unless the
copy was made in "all-but-subjects" mode. A person must watch this copy before it is released.

To check it:  sentinel evidence verify <this file> --key <the installation's public key>
`;

/** Strips what the public is not given from an alert: nothing about who handled it. */
function publicAlert(a: Alert): Record<string, unknown> {
  return { id: a.id, kind: a.kind, cameraName: a.cameraName, zoneName: a.zoneName, startedAt: a.startedAt, endedAt: a.endedAt };
}

/**
 * Builds the redacted public copy of an incident's evidence: each clip re-encoded with people
 * pixelated (from the stored detections, by capture time, the same clock the reviewer's
 * overlay uses) and the privacy masks burned in; the alert snapshots likewise; the incident's
 * public facts; and a manifest signed with the installation key that names the original
 * package. Notes, verdict reasons and the audit excerpt stay in the original: they name staff.
 */
export async function buildPublicCopy(
  src: PublicCopySources,
  inc: Incident,
  exportId: string,
  original: { sha256: string; fingerprint: string },
  req: PublicCopyRequestResolved,
  createdBy: string,
): Promise<PublicCopyResult> {
  const work = join(src.outDir, `${exportId}.public-work`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const masks = await src.privacyMasks(inc.cameraId);
    const subjects = new Set(req.subjects);
    const entries: EvidenceEntry[] = [{ name: 'README.txt', bytes: README }];
    const clipsReport: Record<string, unknown>[] = [];
    let boxes = 0;
    let framesWithoutDetections = 0;
    const planFor = async (fromMs: number, toMs: number): Promise<RedactionPlan> => ({
      frames: await src.detections.range(inc.cameraId, fromMs - 1000, toMs + 1000),
      subjects,
      mode: req.mode,
      masks,
    });

    for (const l of inc.links) {
      if (l.kind !== 'clip') continue;
      const c = await src.clip(l.ref);
      if (!c) throw new SentinelError(`clip ${l.ref} linked to incident ${inc.id} is not in the clip store`, 'not_found');
      if (!existsSync(c.path))
        throw new SentinelError(`the video of clip ${c.id} is no longer on disk; no public copy was made`, 'not_found');
      const startMs = Date.parse(c.startAt);
      const endMs = Date.parse(c.endAt);
      const plan = await planFor(startMs, endMs);
      const out = join(work, `${c.id}.mp4`);
      let report;
      try {
        report = await redactVideo({ ffmpeg: src.ffmpeg, input: c.path, output: out, startMs, plan });
      } catch (err) {
        throw new SentinelError(`redacting clip ${c.id} failed: ${(err as Error).message}`, 'internal');
      }
      boxes += report.boxes;
      framesWithoutDetections += report.framesWithoutDetections;
      entries.push({ name: `clips/${c.id}.mp4`, path: out });
      if (c.snapshotPath && existsSync(c.snapshotPath)) {
        const mid = startMs + (c.durationS * 1000) / 2;
        entries.push({ name: `clips/${c.id}.jpg`, bytes: await redactJpeg(readFileSync(c.snapshotPath), mid, plan) });
      }
      clipsReport.push({
        clipId: c.id,
        originalSha256: c.sha256,
        startAt: c.startAt,
        endAt: c.endAt,
        frames: report.frames,
        fps: report.fps,
        size: `${report.width}x${report.height}`,
        boxesPixelated: report.boxes,
        framesWithoutDetections: report.framesWithoutDetections,
      });
    }

    const alerts: Record<string, unknown>[] = [];
    for (const id of inc.alertIds) {
      const a = await src.alerts.get(id);
      if (!a) continue;
      alerts.push(publicAlert(a.alert));
      if (a.snapshotPath && existsSync(a.snapshotPath)) {
        const t = Date.parse(a.alert.startedAt);
        entries.push({
          name: `snapshots/alert-${a.alert.id}.jpg`,
          bytes: await redactJpeg(readFileSync(a.snapshotPath), t, await planFor(t, t)),
        });
      }
    }

    entries.push(
      {
        name: 'incident.json',
        bytes: JSON.stringify(
          {
            id: inc.id,
            title: inc.title,
            kind: inc.kind,
            cameraName: inc.cameraName,
            stationId: inc.stationId,
            vehicleId: inc.vehicleId,
            createdAt: inc.createdAt,
            resolvedAt: inc.resolvedAt,
            alertIds: inc.alertIds,
          },
          null,
          2,
        ),
      },
      { name: 'alerts.json', bytes: JSON.stringify(alerts, null, 2) },
      {
        name: 'redaction.json',
        bytes: JSON.stringify(
          {
            method: 'pixelation: each cell replaced by its mean colour; about four cells across a person, 16 px cells for masks',
            mode: req.mode,
            subjectsKeptVisible: req.subjects,
            privacyMasks: masks.length,
            detectionWindowMs: 400,
            clips: clipsReport,
          },
          null,
          2,
        ),
      },
    );

    const outFile = join(src.outDir, `${exportId}.public.zip`);
    await buildEvidencePackage({
      outFile,
      subject: { kind: 'incident-public-copy', id: inc.id },
      createdBy,
      entries,
      key: src.key,
      derivedFrom: { exportId, sha256: original.sha256, fingerprint: original.fingerprint },
    });
    return { path: outFile, bytes: statSync(outFile).size, sha256: await sha256File(outFile), boxes, framesWithoutDetections };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
