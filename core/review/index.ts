import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Alert, Clip, Incident } from '../../contract';
import type { Point } from '../../contract/zones';
import {
  DetectionQuery,
  EvidenceExportRequest,
  ReviewListQuery,
  reviewRoutes,
  ReviewNoteRequest,
  VerdictRequest,
  type DetectionTrack,
  type ReviewBundle,
} from '../../contract/review';
import { ClipError } from '../../analytics/recording/clips';
import type { CameraService } from '../cameras';
import { SentinelError } from '../errors';
import { loadOrCreateSigningKey } from '../evidence';
import type { Feature } from '../feature';
import { parseInput } from '../http/errors';
import { DetectionLog } from './detections';
import { exportIncident, packageFile } from './export';
import { buildPublicCopy } from './public-copy';
import { type ReviewStore } from './service';

export { DetectionLog } from './detections';
export { ReviewStore } from './service';

const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
/** A detections query may span at most an hour (a clip is minutes). */
const MAX_DETECTION_SPAN_MS = 3_600_000;
/**
 * How often the sweep looks for exports whose builder stopped heartbeating: an abandoned
 * export fails at most EXPORT_STALE_AFTER_MS + this after its builder's last heartbeat (40 s).
 * A sweeper that dies itself is replaced within the lease TTL + one renewal (under 15 s), and
 * the new holder sweeps at once, which still falls inside the stale bound.
 */
const EXPORT_SWEEP_EVERY_MS = 10_000;

function userOf(req: { auth: { user: { username: string } } | null }): string {
  return req.auth?.user.username ?? 'unknown';
}

/** The window an incident's alerts cover, in ms: first start to last end (or start + 10 s). */
export function incidentWindow(inc: Incident, alertTimes: { startedAt: string; endedAt: string | null }[]): { from: number; to: number } {
  let from = Date.parse(inc.createdAt);
  let to = from;
  for (const a of alertTimes) {
    const s = Date.parse(a.startedAt);
    from = Math.min(from, s);
    to = Math.max(to, a.endedAt ? Date.parse(a.endedAt) : s + 10_000);
  }
  return { from, to };
}

/**
 * Review: reviewers' incident list and filters, the bundle a replay needs (clips,
 * alert marks, stored detections), verdicts feeding each rule's precision, notes, and signed
 * evidence exports built in the background with progress. Every look and every export is
 * audited. Detections for replay come from the analytics on the domain bus.
 */
export interface ReviewNeeds {
  cameras: CameraService;
  /** Verdicts, notes and exports (built in core/app.ts: retention asks it whether footage is still needed). */
  review: ReviewStore;
  /** A camera's privacy masks, burned into public copies. */
  privacyMasks: (cameraId: string) => Promise<Point[][]>;
}

export const reviewFeature: Feature<ReviewNeeds> = {
  name: 'review',
  async register(ctx) {
    const { http, bus, log, config } = ctx;
    const { review } = ctx;
    const failed = await review.failInterrupted();
    if (failed > 0) log.warn({ exports: failed }, 'failed the evidence exports whose builder had stopped');
    // Any replica's sweep would be right (one idempotent UPDATE); one is enough, like the other timers.
    ctx.cluster.leases.job('evidence-export-sweep', () => {
      const sweep = () =>
        void review
          .failAbandoned()
          .then((n) => n > 0 && log.warn({ exports: n }, 'failed the evidence exports whose builder stopped heartbeating'))
          .catch((err: unknown) => log.warn({ err }, 'cannot sweep abandoned evidence exports'));
      sweep();
      const t = setInterval(sweep, EXPORT_SWEEP_EVERY_MS);
      t.unref();
      return () => clearInterval(t);
    });
    // Closers run in reverse: this one before the leases and the database close.
    ctx.onClose(async () => {
      const n = await review.failOwn();
      if (n > 0) log.warn({ exports: n }, 'failed the evidence exports this core was building as it stopped');
    });
    const detections = new DetectionLog(ctx.sql, (err) => log.error({ err }, 'cannot store detections'));
    ctx.onClose(() => detections.close());
    bus.on('analytics:frame', (f) => {
      const tracks: DetectionTrack[] = f.tracks.map((t) => ({
        id: t.id,
        box: [t.box[0] / f.width, t.box[1] / f.height, t.box[2] / f.width, t.box[3] / f.height],
        score: t.score,
        zones: t.zones,
      }));
      detections.record(f.cameraId, f.t, tracks);
    });
    // Detections live as long as the recordings they annotate.
    const prune = setInterval(() => {
      void detections
        .prune(Date.now() - config.recording.retentionHours * 3_600_000)
        .catch((err: unknown) => log.warn({ err }, 'pruning detections failed'));
    }, 10 * 60_000);
    prune.unref();
    ctx.onClose(() => clearInterval(prune));

    let key: ReturnType<typeof loadOrCreateSigningKey> | null = null;
    const signingKey = () => (key ??= loadOrCreateSigningKey(config.dataDir, config.keyProtection));
    const incidents = () => ctx.lifecycle.incidents;
    const incidentOr404 = async (id: string): Promise<Incident> => {
      const inc = await incidents().get(id);
      if (!inc) throw new SentinelError(`no incident with id ${id}`, 'not_found', 'id');
      return inc;
    };
    const clips = () => ctx.cameras.clips;
    // Alone, a package's builder may be this installation's previous process (a new id at each start).
    const replicaIfClustered = ctx.cluster.clustered ? ctx.cluster.replicaId : null;
    const alertsOf = async (inc: Incident): Promise<Alert[]> => {
      const out: Alert[] = [];
      for (const id of inc.alertIds) {
        const a = await ctx.alerts.get(id);
        if (a) out.push(a.alert);
      }
      return out;
    };
    const bundle = async (inc: Incident): Promise<ReviewBundle> => {
      const alerts = await alertsOf(inc);
      const clipList: Clip[] = [];
      for (const l of inc.links) {
        if (l.kind !== 'clip') continue;
        const c = await clips().get(l.ref);
        if (c) {
          const { path: _p, snapshotPath: _s, ...meta } = c;
          clipList.push(meta);
        }
      }
      return {
        incident: inc,
        alerts: alerts.map((a) => ({
          id: a.id,
          kind: a.kind,
          startedAt: Date.parse(a.startedAt),
          endedAt: a.endedAt ? Date.parse(a.endedAt) : null,
          score: a.score,
          zoneId: a.zoneId,
        })),
        clips: clipList,
        verdict: await review.verdict(inc.id),
        notes: await review.notes(inc.id),
        exports: await review.exports(inc.id),
      };
    };

    http.get(reviewRoutes.reviewIncidents.path, async (req) => {
      const q = parseInput(ReviewListQuery, req.query, 'query');
      return { incidents: await review.filter(await incidents().list({ limit: 2000 }), q) };
    });
    http.get(reviewRoutes.reviewPrecision.path, async () => review.precision(await incidents().list({ limit: 100_000 })));
    http.get(reviewRoutes.reviewBundle.path, async (req) => {
      const inc = await incidentOr404(parseInput(IdParams, req.params, 'params').id);
      await ctx.audit.view(req, 'incident.review', `incident:${inc.id}`);
      return bundle(inc);
    });
    http.post(reviewRoutes.reviewClip.path, async (req, reply) => {
      const inc = await incidentOr404(parseInput(IdParams, req.params, 'params').id);
      const alerts = await alertsOf(inc);
      const { from, to } = incidentWindow(inc, alerts);
      const rec = config.recording;
      try {
        const clip = await clips().cut(inc.cameraId, from, to, {
          preRollMs: rec.preRollS * 1000,
          postRollMs: rec.postRollS * 1000,
          waitForMs: rec.postRollS * 1000 + rec.segmentSeconds * 2000,
        });
        await incidents().update(inc.id, { link: { kind: 'clip', ref: clip.id } }, userOf(req));
        await ctx.audit.record(req, 'clip.export', `clip:${clip.id}`, {
          incidentId: inc.id,
          cameraId: inc.cameraId,
          from: clip.startAt,
          to: clip.endAt,
        });
        return reply.status(201).send(clip);
      } catch (err) {
        if (err instanceof ClipError) throw new SentinelError(`${err.message} (incident ${inc.id}, camera ${inc.cameraName})`, err.code);
        throw err;
      }
    });
    http.put(reviewRoutes.reviewVerdict.path, async (req) => {
      const inc = await incidentOr404(parseInput(IdParams, req.params, 'params').id);
      const body = parseInput(VerdictRequest, req.body);
      const v = await review.setVerdict(inc.id, body.verdict, body.reason, userOf(req));
      await ctx.audit.record(req, 'review.verdict', `incident:${inc.id}`, { verdict: v.verdict, reason: v.reason });
      return v;
    });
    http.post(reviewRoutes.reviewNote.path, async (req, reply) => {
      const inc = await incidentOr404(parseInput(IdParams, req.params, 'params').id);
      const body = parseInput(ReviewNoteRequest, req.body);
      const note = await review.addNote(inc.id, userOf(req), body.text);
      await ctx.audit.record(req, 'review.note', `incident:${inc.id}`, { noteId: note.id });
      return reply.status(201).send(note);
    });
    http.post(reviewRoutes.reviewExport.path, async (req, reply) => {
      const inc = await incidentOr404(parseInput(IdParams, req.params, 'params').id);
      const body = parseInput(EvidenceExportRequest, req.body ?? {});
      const by = userOf(req);
      const job = await review.createExport(inc.id, by, body.publicCopy);
      await ctx.audit.record(req, 'evidence.export', `incident:${inc.id}`, {
        exportId: job.id,
        ...(body.publicCopy ? { publicCopy: { subjects: body.publicCopy.subjects, mode: body.publicCopy.mode } } : {}),
      });
      // Built in the background; the console polls the export for progress.
      void exportIncident(
        {
          audit: ctx.audit.trail,
          alerts: ctx.alerts,
          detections,
          review,
          key: signingKey(),
          clip: (id) => clips().get(id),
          outDir: join(config.dataDir, 'evidence'),
        },
        inc,
        job.id,
        by,
        (done, total) => review.setProgress(job.id, done, total),
      )
        .then(
          async (r) => {
            const done = await review.finishExport(job.id, r);
            if (done.state !== 'ready') {
              // A sweep failed it meanwhile (this replica's heartbeats had stopped reaching the database).
              log.warn({ exportId: job.id, incidentId: inc.id }, 'an evidence package was finished after it had been failed as abandoned');
              return;
            }
            log.info({ exportId: job.id, incidentId: inc.id, bytes: r.bytes }, 'evidence package ready');
            if (!body.publicCopy) return;
            try {
              const pub = await buildPublicCopy(
                {
                  ffmpeg: config.ingest.ffmpegPath,
                  alerts: ctx.alerts,
                  detections,
                  key: signingKey(),
                  clip: (id) => clips().get(id),
                  privacyMasks: ctx.privacyMasks,
                  outDir: join(config.dataDir, 'evidence'),
                },
                inc,
                job.id,
                r,
                body.publicCopy,
                by,
              );
              await review.finishPublicCopy(job.id, pub);
              log.info({ exportId: job.id, incidentId: inc.id, bytes: pub.bytes, boxes: pub.boxes }, 'public copy ready');
            } catch (err) {
              await review.finishPublicCopy(job.id, { error: (err as Error).message });
              log.warn({ exportId: job.id, incidentId: inc.id, err: (err as Error).message }, 'public copy failed');
            }
          },
          async (err: Error) => {
            log.warn({ exportId: job.id, incidentId: inc.id, err: err.message }, 'evidence export failed');
            await review.finishExport(job.id, { error: err.message });
            if (body.publicCopy)
              await review.finishPublicCopy(job.id, { error: 'the original package failed, so no public copy was made' });
          },
        )
        // Only the export's own state could not be written (the database went away): its heartbeat stops, so the sweep fails it.
        .catch((err: unknown) => log.error({ err, exportId: job.id }, 'cannot record how an evidence export ended'));
      return reply.status(202).send(job);
    });
    http.get(reviewRoutes.evidenceExport.path, async (req) => {
      const id = parseInput(IdParams, req.params, 'params').id;
      const e = await review.export(id);
      if (!e) throw new SentinelError(`no evidence export with id ${id}`, 'not_found', 'id');
      return e;
    });
    http.get(reviewRoutes.evidencePackage.path, async (req, reply) => {
      const id = parseInput(IdParams, req.params, 'params').id;
      const row = await review.exportRow(id);
      if (!row) throw new SentinelError(`no evidence export with id ${id}`, 'not_found', 'id');
      if (row.state !== 'ready' || !row.path)
        throw new SentinelError(
          `evidence export ${id} is ${row.state === 'failed' ? `failed: ${row.error}` : 'still being built'}`,
          'conflict',
        );
      const file = packageFile(`evidence export ${id}`, row.path, row.builder, replicaIfClustered);
      await ctx.audit.record(req, 'evidence.download', `incident:${row.incident_id}`, { exportId: id, sha256: row.sha256 });
      return reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="sentinel-evidence-${row.incident_id}.zip"`)
        .header('x-content-sha256', row.sha256 ?? '')
        .send(createReadStream(file));
    });
    http.get(reviewRoutes.evidencePublicPackage.path, async (req, reply) => {
      const id = parseInput(IdParams, req.params, 'params').id;
      const row = await review.exportRow(id);
      if (!row) throw new SentinelError(`no evidence export with id ${id}`, 'not_found', 'id');
      if (!row.public_state) throw new SentinelError(`evidence export ${id} has no public copy: export again with one`, 'not_found');
      if (row.public_state !== 'ready' || !row.public_path)
        throw new SentinelError(
          `the public copy of evidence export ${id} is ${row.public_state === 'failed' ? `failed: ${row.public_error}` : 'still being built'}`,
          'conflict',
        );
      const file = packageFile(`the public copy of export ${id}`, row.public_path, row.builder, replicaIfClustered);
      await ctx.audit.record(req, 'evidence.download', `incident:${row.incident_id}`, {
        exportId: id,
        publicCopy: true,
        sha256: row.public_sha256,
      });
      return reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="sentinel-public-copy-${row.incident_id}.zip"`)
        .header('x-content-sha256', row.public_sha256 ?? '')
        .send(createReadStream(file));
    });
    http.get(reviewRoutes.cameraDetections.path, async (req) => {
      const { id } = parseInput(IdParams, req.params, 'params');
      const q = parseInput(DetectionQuery, req.query, 'query');
      if (q.to < q.from) throw new SentinelError('"to" is before "from"', 'validation_failed', 'to');
      if (q.to - q.from > MAX_DETECTION_SPAN_MS)
        throw new SentinelError('ask for at most one hour of detections at a time', 'validation_failed', 'to');
      return { cameraId: id, from: q.from, to: q.to, frames: await detections.range(id, q.from, q.to) };
    });
  },
};
