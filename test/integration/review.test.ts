import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Camera } from '../../contract';
import { Clip, EvidenceExport, PrecisionReport, PrivacyMaskList, ReviewBundle, ReviewList, Verdict } from '../../contract';
import { discoverAssetsDir } from '../../core/config';
import { loadOrCreateSigningKey, verifyEvidencePackage } from '../../core/evidence';
import { createAndLogin, type SignedIn } from '../support/auth';
import { startServe, type RunningServe } from '../support/serve';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The reviewer's path on a real core: the demo cameras (real RTSP simulator, real
 * recorder), an alert sent through the admin's test-alert route on a demo camera, then
 * clip, verdict, notes and a signed evidence export checked with the verifier.
 */
describe.skipIf(!assets)('review and evidence export (skipped: needs the assets pack for the demo cameras)', () => {
  let core: RunningServe;
  let reviewer: SignedIn;
  let operator: SignedIn;
  let camera: Camera;

  beforeAll(async () => {
    // Short segments so a clip is available within seconds.
    const dir = mkdtempSync(join(tmpdir(), 'review-cfg-'));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ recording: { segmentSeconds: 2, preRollS: 2, postRollS: 1 }, ingest: { demoRtspPort: 18655 } }),
    );
    core = await startServe({ args: ['--demo', '--config', join(dir, 'config.json')] });
    reviewer = await createAndLogin(core.url, core.admin!, { username: 'rita', password: 'reviewer-password-1', role: 'reviewer' });
    operator = await createAndLogin(core.url, core.admin!, { username: 'otto', password: 'operator-password-1', role: 'operator' });
    const cams = (await (await core.api('/api/v1/cameras')).json()) as { cameras: Camera[] };
    camera = cams.cameras.find((c) => c.name.startsWith('Clark/Lake'))!;
    expect(camera).toBeDefined();
  });
  afterAll(async () => {
    await core?.stop();
  });

  it('cuts the incident clip, records a verdict and notes, and exports a package that verifies', async () => {
    // Let the recorder write a few segments, then raise an alert on the camera.
    await sleep(5000);
    const sent = await core.api('/api/v1/test-alert', {
      method: 'POST',
      body: JSON.stringify({ kind: 'crowding', cameraId: camera.id, cameraName: camera.name, district: '1', lines: ['Blue'] }),
    });
    expect(sent.status).toBe(201);
    const { id: alertId } = (await sent.json()) as { id: string };

    let list: ReviewList = { incidents: [] };
    for (let i = 0; i < 50 && list.incidents.length === 0; i++) {
      list = ReviewList.parse(await (await reviewer.api('/api/v1/review/incidents?verdict=none&kind=crowding')).json());
      if (list.incidents.length === 0) await sleep(100);
    }
    const inc = list.incidents.find((e) => e.incident.alertIds.includes(alertId))!.incident;
    expect(inc.cameraId).toBe(camera.id);
    expect(ReviewList.parse(await (await reviewer.api('/api/v1/review/incidents?district=2')).json()).incidents).toEqual([]);

    const clipRes = await reviewer.api(`/api/v1/review/incidents/${inc.id}/clip`, { method: 'POST' });
    expect(clipRes.status, await clipRes.clone().text()).toBe(201);
    const clip = Clip.parse(await clipRes.json());
    expect(clip.durationS).toBeGreaterThan(1);

    // Operators may look but not judge; a false alarm needs a reason.
    expect(
      (await operator.api(`/api/v1/review/incidents/${inc.id}/verdict`, { method: 'PUT', body: JSON.stringify({ verdict: 'true-alarm' }) }))
        .status,
    ).toBe(403);
    const noReason = await reviewer.api(`/api/v1/review/incidents/${inc.id}/verdict`, {
      method: 'PUT',
      body: JSON.stringify({ verdict: 'false-alarm' }),
    });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toMatch(/say why/);
    const v = Verdict.parse(
      await (
        await reviewer.api(`/api/v1/review/incidents/${inc.id}/verdict`, {
          method: 'PUT',
          body: JSON.stringify({ verdict: 'false-alarm', reason: 'a queue for the lift, not a crowd' }),
        })
      ).json(),
    );
    expect(v).toMatchObject({ verdict: 'false-alarm', by: 'rita' });
    expect(
      (
        await reviewer.api(`/api/v1/review/incidents/${inc.id}/notes`, {
          method: 'POST',
          body: JSON.stringify({ text: 'Checked both angles.' }),
        })
      ).status,
    ).toBe(201);
    const precision = PrecisionReport.parse(await (await reviewer.api('/api/v1/review/precision')).json());
    expect(precision.rules.find((r) => r.kind === 'crowding')).toMatchObject({ falseAlarms: 1, trueAlarms: 0, precision: 0 });

    const bundle = ReviewBundle.parse(await (await reviewer.api(`/api/v1/review/incidents/${inc.id}`)).json());
    expect(bundle.clips.map((c) => c.id)).toEqual([clip.id]);
    expect(bundle.alerts.map((a) => a.id)).toContain(alertId);
    expect(bundle.notes.map((n) => n.text)).toEqual(['Checked both angles.']);

    const started = await reviewer.api(`/api/v1/review/incidents/${inc.id}/evidence`, { method: 'POST' });
    expect(started.status).toBe(202);
    let job = EvidenceExport.parse(await started.json());
    for (let i = 0; i < 100 && job.state === 'building'; i++) {
      await sleep(100);
      job = EvidenceExport.parse(await (await reviewer.api(`/api/v1/evidence/${job.id}`)).json());
    }
    expect(job.error).toBeNull();
    expect(job.state).toBe('ready');
    expect(job.done).toBe(job.bytes);

    const dl = await reviewer.api(`/api/v1/evidence/${job.id}/package.zip`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('x-content-sha256')).toBe(job.sha256);
    const pkg = join(mkdtempSync(join(tmpdir(), 'pkg-')), 'evidence.zip');
    writeFileSync(pkg, Buffer.from(await dl.arrayBuffer()));
    const installation = loadOrCreateSigningKey(core.dataDir);
    const r = await verifyEvidencePackage(pkg, { trustedPublicKeyPem: installation.publicKeyPem });
    expect(r.problems).toEqual([]);
    const names = r.manifest!.files.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining([
        `clips/${clip.id}.mp4`,
        'incident.json',
        'alerts.json',
        'clips.json',
        'detections.json',
        'audit.json',
        'README.txt',
      ]),
    );
    // The clip inside is the clip that was cut (same SHA-256 as stored at cut time).
    expect(r.manifest!.files.find((f) => f.name === `clips/${clip.id}.mp4`)!.sha256).toBe(clip.sha256);

    // The public copy: asked for with the export, signed by the same key, naming the original.
    const withCopy = await reviewer.api(`/api/v1/review/incidents/${inc.id}/evidence`, {
      method: 'POST',
      body: JSON.stringify({ publicCopy: { subjects: [1], mode: 'people' } }),
    });
    expect(withCopy.status).toBe(202);
    let pubJob = EvidenceExport.parse(await withCopy.json());
    expect(pubJob.publicCopy).toMatchObject({ state: 'building', subjects: [1], mode: 'people' });
    for (let i = 0; i < 600 && (pubJob.state === 'building' || pubJob.publicCopy?.state === 'building'); i++) {
      await sleep(100);
      pubJob = EvidenceExport.parse(await (await reviewer.api(`/api/v1/evidence/${pubJob.id}`)).json());
    }
    expect(pubJob.publicCopy?.error ?? null).toBeNull();
    expect(pubJob.publicCopy?.state).toBe('ready');
    const pubDl = await reviewer.api(`/api/v1/evidence/${pubJob.id}/public.zip`);
    expect(pubDl.status).toBe(200);
    expect(pubDl.headers.get('x-content-sha256')).toBe(pubJob.publicCopy!.sha256);
    const pubPkg = join(mkdtempSync(join(tmpdir(), 'pkg-')), 'public.zip');
    writeFileSync(pubPkg, Buffer.from(await pubDl.arrayBuffer()));
    const pr = await verifyEvidencePackage(pubPkg, { trustedPublicKeyPem: installation.publicKeyPem });
    expect(pr.problems).toEqual([]);
    expect(pr.manifest!.derivedFrom).toEqual({ exportId: pubJob.id, sha256: pubJob.sha256, fingerprint: installation.fingerprint });
    const pubNames = pr.manifest!.files.map((f) => f.name);
    expect(pubNames).toEqual(
      expect.arrayContaining([`clips/${clip.id}.mp4`, 'incident.json', 'alerts.json', 'redaction.json', 'README.txt']),
    );
    // Staff notes and the audit excerpt stay in the original; the clip is a re-encoded copy, not the recording.
    expect(pubNames).not.toContain('audit.json');
    expect(pubNames).not.toContain('detections.json');
    expect(pr.manifest!.files.find((f) => f.name === `clips/${clip.id}.mp4`)!.sha256).not.toBe(clip.sha256);
    // An export without a copy has none to download, and liaisons/operators get neither.
    expect((await reviewer.api(`/api/v1/evidence/${job.id}/public.zip`)).status).toBe(404);
    expect((await operator.api(`/api/v1/evidence/${pubJob.id}/public.zip`)).status).toBe(403);
    const badCopy = await reviewer.api(`/api/v1/review/incidents/${inc.id}/evidence`, {
      method: 'POST',
      body: JSON.stringify({ publicCopy: { subjects: ['x'] } }),
    });
    expect(badCopy.status).toBe(400);
    expect(await badCopy.text()).toContain('publicCopy.subjects');

    // Operators cannot export; every export and download is in the audit trail.
    expect((await operator.api(`/api/v1/review/incidents/${inc.id}/evidence`, { method: 'POST' })).status).toBe(403);
    const auditRes = await core.api('/api/v1/audit?limit=200');
    expect(auditRes.status).toBe(200);
    const text = await auditRes.text();
    for (const action of ['evidence.export', 'evidence.download', 'review.verdict', 'review.note', 'clip.export'])
      expect(text).toContain(`"${action}"`);
  });

  it('pixelates a privacy mask in the live snapshot, and every viewer of the camera can read the masks', async () => {
    const snap = async (): Promise<Buffer> => {
      const res = await reviewer.api(`/api/v1/cameras/${camera.id}/snapshot.jpg`);
      expect(res.status).toBe(200);
      return Buffer.from(await res.arrayBuffer());
    };
    // Fine detail (mean difference of horizontal neighbours) in the left half of the picture.
    const detail = async (jpeg: Buffer): Promise<number> => {
      const { data, info } = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
      let sum = 0;
      let n = 0;
      for (let y = Math.floor(info.height * 0.05); y < info.height * 0.95; y++)
        for (let x = Math.floor(info.width * 0.05); x < info.width * 0.45; x++) {
          sum += Math.abs(data[y * info.width + x]! - data[y * info.width + x + 1]!);
          n++;
        }
      return sum / n;
    };
    const before = await detail(await snap());
    const mask = [
      [0, 0],
      [0.5, 0],
      [0.5, 1],
      [0, 1],
    ];
    const put = await core.api(`/api/v1/cameras/${camera.id}/zones`, {
      method: 'PUT',
      body: JSON.stringify({ zones: [{ id: 'homes', name: 'Windows of the homes opposite', kind: 'privacy', polygon: mask }] }),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const masks = PrivacyMaskList.parse(await (await reviewer.api(`/api/v1/cameras/${camera.id}/privacy-masks`)).json());
    expect(masks.masks).toEqual([mask]);
    const after = await detail(await snap());
    expect(before).toBeGreaterThan(1);
    expect(after).toBeLessThan(before * 0.35);
  });

  it('refuses bad input clearly', async () => {
    expect((await reviewer.api('/api/v1/review/incidents/nope')).status).toBe(404);
    const bad = await reviewer.api(`/api/v1/cameras/${camera.id}/detections?from=10&to=5`);
    expect(bad.status).toBe(400);
    const huge = await reviewer.api(`/api/v1/cameras/${camera.id}/detections?from=0&to=${10 * 3_600_000}`);
    expect(huge.status).toBe(400);
    expect((await reviewer.api('/api/v1/evidence/none')).status).toBe(404);
    expect((await fetch(new URL('/api/v1/review/incidents', core.url))).status).toBe(401);
  });
});
