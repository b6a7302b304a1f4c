import { CsvImportRequest, ProbeRequest, technicianRoutes, type CsvImportReport, type ProbeResult } from '../../contract';
import { maskRtspUrl, parseRtspUrl, withCredentials, type Camera } from '../../contract/cameras';
import { ProbeError, probeStream } from '../../analytics/ingest/probe';
import { SentinelError } from '../errors';
import type { CoreContext } from '../feature';
import { parseInput } from '../http/errors';
import { checkCsv, importCamerasCsv } from './csv-import';
import type { CameraCatalog } from './catalog';
import type { CameraService } from './service';

/** Probes spawn ffprobe; a handful at once is plenty for people typing into a form. */
const MAX_CONCURRENT_PROBES = 4;
/** The brief promises an answer within 10 s; the probe's own budget stays under it. */
const PROBE_BUDGET_MS = 9000;

/** Removes a secret (raw and percent-encoded) from a message that may quote a URL. */
export function scrubSecret(message: string, secret: string | undefined): string {
  if (!secret) return message;
  let out = message;
  for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  return out;
}

/**
 * Technician routes: the RTSP probe behind the camera form's live validation, and
 * the all-or-nothing CSV import with its dry run. Registered by the cameras feature, which
 * owns the repository and the running ingest service.
 */
/** `publish` sends a camera record to the sockets that may see it (the visibility rule). */
export function registerTechnicianRoutes(
  ctx: CoreContext,
  repo: CameraCatalog,
  service: CameraService,
  publish: (c: Camera) => void,
): void {
  const { http } = ctx;
  const log = ctx.log.child({ module: 'technician' });
  let probing = 0;

  http.post(technicianRoutes.cameraProbe.path, async (req): Promise<ProbeResult> => {
    const body = parseInput(ProbeRequest, req.body);
    const parsed = parseRtspUrl(body.url);
    // RtspUrl already refused a bad URL; this narrows the type.
    if ('error' in parsed) throw new SentinelError(`url: ${parsed.error}`, 'validation_failed', 'url');
    let username = body.username ?? parsed.username;
    let password = body.password ?? parsed.password;
    if (body.cameraId !== undefined) {
      const cam = repo.get(body.cameraId);
      if (!cam) throw new SentinelError(`no camera with id ${body.cameraId}`, 'not_found', 'cameraId');
      // The form leaves the password out when it is unchanged: use the stored one.
      username ??= cam.credentials.username;
      password ??= cam.credentials.password;
    }
    if (probing >= MAX_CONCURRENT_PROBES)
      throw new SentinelError(`${probing} probes are already running; try again in a few seconds`, 'rate_limited');
    probing++;
    const started = Date.now();
    const shown = maskRtspUrl(withCredentials(parsed.url, username, password));
    try {
      const info = await probeStream(parsed.url, {
        username,
        password,
        timeoutMs: PROBE_BUDGET_MS,
        ffprobePath: ctx.config.ingest.ffprobePath,
        ffmpegPath: ctx.config.ingest.ffmpegPath,
      });
      const tookMs = Date.now() - started;
      log.info({ url: shown, ...info, tookMs }, 'probe succeeded');
      await ctx.audit.record(req, 'camera.probe', null, {
        url: shown,
        ok: true,
        codec: info.codec,
        width: info.width,
        height: info.height,
        fps: info.fps,
      });
      return { ...info, tookMs };
    } catch (err) {
      if (!(err instanceof ProbeError)) throw err;
      // ffmpeg's stderr may quote the URL it was given, credentials and all.
      const message = scrubSecret(err.message, password);
      log.info({ url: shown, kind: err.kind, reason: message }, 'probe failed');
      await ctx.audit.record(req, 'camera.probe', null, { url: shown, ok: false, kind: err.kind, reason: message });
      // 'unauthorized' is the camera's answer, not this session's: the field says which input to fix.
      throw new SentinelError(`probe of ${shown} failed: ${message}`, 'unavailable', err.kind === 'unauthorized' ? 'password' : 'url');
    } finally {
      probing--;
    }
  });

  /** A header with no rows is a mistake (the wrong file), not a successful import of nothing. */
  const noRows = { line: 2, column: null, message: 'the CSV has a header but no camera rows' };
  const report = (csv: string): CsvImportReport => {
    const { inputs, errors, rows } = checkCsv(csv, new Set(repo.list().map((c) => c.name)));
    if (rows === 0 && errors.length === 0) errors.push(noRows);
    return { ok: errors.length === 0, rows, errors, names: errors.length ? [] : inputs.map((i) => i.input.name) };
  };

  http.post(technicianRoutes.cameraImportCheck.path, async (req): Promise<CsvImportReport> =>
    report(parseInput(CsvImportRequest, req.body).csv),
  );

  http.post(technicianRoutes.cameraImport.path, async (req, reply) => {
    const { csv } = parseInput(CsvImportRequest, req.body);
    const r = await importCamerasCsv(repo, csv);
    if (r.rows === 0 && r.errors.length === 0) r.errors.push(noRows);
    if (r.errors.length) {
      const shown = r.errors.slice(0, 10).map((e) => `line ${e.line}${e.column ? `, ${e.column}` : ''}: ${e.message}`);
      const more = r.errors.length > shown.length ? `; and ${r.errors.length - shown.length} more` : '';
      await ctx.audit.record(req, 'camera.import_rejected', null, { rows: r.rows, errors: r.errors.length });
      throw new SentinelError(
        `nothing was imported: ${r.errors.length} problem${r.errors.length > 1 ? 's' : ''} in the CSV: ${shown.join('; ')}${more}`,
        'validation_failed',
        'csv',
      );
    }
    const cameras = r.imported.map((c) => {
      service.start(c);
      const out = service.toPublic(c);
      publish(out);
      return out;
    });
    log.info({ count: cameras.length }, 'cameras imported from CSV');
    await ctx.audit.record(req, 'camera.import', null, {
      rows: r.rows,
      cameras: cameras.map((c) => ({ id: c.id, name: c.name, url: c.url })),
    });
    return reply.status(201).send({ rows: r.rows, imported: cameras });
  });
}
