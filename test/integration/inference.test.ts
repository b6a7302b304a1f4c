import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile, InferencePool, iou, openRegistry, requireModel, type FrameResult } from '../../analytics/inference';
import { discoverAssetsDir } from '../../core/config';
import { createLogger } from '../../core/logger';
import { runSentinel } from '../support/serve';

// Real models from the shared assets pack, real worker threads, real ffmpeg decoding.
const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
const registry = openRegistry({ assetsDir: assets });
const ready = (name: string): boolean => registry.status(name)?.state === 'ready';
const haveYolox = ready('yolox-nano');
/** Test-name suffix saying why a test is skipped: the model's own "unavailable" message. */
const unless = (...names: string[]): string => {
  const why = names.map((n) => registry.status(n)).find((st) => st?.state === 'unavailable');
  return why && why.state === 'unavailable' ? ` [skipped: ${why.message}]` : '';
};
const ASTRONAUT = assets ? join(assets, 'media', 'astronaut.png') : '';
const VTEST = assets ? join(assets, 'media', 'vtest.avi') : '';
const log = createLogger('silent');

function ok(r: FrameResult): Extract<FrameResult, { status: 'ok' }> {
  if (r.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r;
}

/** She fills the left two-thirds of the 512x512 image, top to bottom. */
function expectCoversAstronaut(box: readonly number[]): void {
  const [x1 = NaN, y1 = NaN, x2 = NaN, y2 = NaN] = box;
  expect(x1).toBeLessThan(60);
  expect(y1).toBeLessThan(90);
  expect(x2).toBeGreaterThan(320);
  expect(x2).toBeLessThan(440);
  expect(y2).toBeGreaterThan(460);
}

/** Frames of vtest.avi (768x576), one every 8 seconds, as BGR24 buffers decoded by ffmpeg. */
function vtestFrames(count: number): ArrayBuffer[] {
  const r = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', VTEST, '-vf', 'fps=1/8', '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'],
    { maxBuffer: 1 << 30 },
  );
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
  const size = 768 * 576 * 3;
  const out: ArrayBuffer[] = [];
  for (let i = 0; i + size <= r.stdout.length; i += size)
    out.push(r.stdout.buffer.slice(r.stdout.byteOffset + i, r.stdout.byteOffset + i + size));
  return out;
}

describe.skipIf(!haveYolox)(`YOLOX-nano in the pool${unless('yolox-nano')}`, () => {
  let pool: InferencePool;
  beforeAll(async () => {
    const { manifest, path } = requireModel(registry, 'yolox-nano');
    pool = await InferencePool.start({ manifest, modelPath: path, workers: 2, intraOpThreads: 1, log });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it("finds the astronaut: one person, score >= 0.5, box covering her in the image's pixels", async () => {
    const img = await decodeImageFile(ASTRONAUT);
    const r = ok(await pool.submit({ cameraId: 'still', ...img, ts: 1 }));
    const people = r.detections.filter((d) => d.label === 'person' && d.score >= 0.5);
    expect(people).toHaveLength(1);
    expectCoversAstronaut(people[0]?.box ?? []);
  });

  it('counts a plausible number of people on sampled frames of vtest.avi (2-10 per frame per the footage notes)', async () => {
    const frames = vtestFrames(10);
    expect(frames).toHaveLength(10);
    const results = await Promise.all(
      frames.map((data, i) => pool.submit({ cameraId: `vtest-${i}`, width: 768, height: 576, data, ts: i })),
    );
    const counts = results.map((r) => ok(r).detections.filter((d) => d.label === 'person').length);
    for (const c of counts) {
      expect(c).toBeGreaterThanOrEqual(1);
      expect(c).toBeLessThanOrEqual(14);
    }
    const mean = counts.reduce((a, c) => a + c, 0) / counts.length;
    expect(mean).toBeGreaterThanOrEqual(2);
    expect(mean).toBeLessThanOrEqual(10);
    // every box lies inside the 768x576 frame
    for (const r of results)
      for (const d of ok(r).detections) expect(d.box[2] <= 768 && d.box[3] <= 576 && d.box[0] >= 0 && d.box[1] >= 0).toBe(true);
  });

  it('a worker killed mid-inference is replaced; its frame fails, later frames succeed', async () => {
    const frames = vtestFrames(3);
    const before = pool.stats().workerRestarts;
    const inflight = pool.submit({ cameraId: 'kill', width: 768, height: 576, data: frames[0] ?? new ArrayBuffer(0), ts: 1 });
    const busy = pool.busyWorkerIndex();
    expect(busy).toBeGreaterThanOrEqual(0);
    // let it get into preprocessing / onnxruntime before pulling the plug
    await new Promise((r) => setTimeout(r, 15));
    await pool.killWorker(busy);
    expect(await inflight).toMatchObject({ status: 'failed', cameraId: 'kill', code: 'worker_crashed' });
    expect(pool.stats().workerRestarts).toBe(before + 1);
    const later = await Promise.all(
      [1, 2].map((i) => pool.submit({ cameraId: `after-${i}`, width: 768, height: 576, data: frames[i] ?? new ArrayBuffer(0), ts: i })),
    );
    for (const r of later) expect(ok(r).detections.length).toBeGreaterThan(0);
    await expect.poll(() => pool.stats().workers, { timeout: 10_000 }).toBe(2);
  });

  it('a corrupt frame fails alone; the next frame from the same camera is served', async () => {
    const bad = await pool.submit({ cameraId: 'cam-x', width: 768, height: 576, data: new ArrayBuffer(1000), ts: 1 });
    expect(bad).toMatchObject({ status: 'failed', code: 'bad_frame' });
    const [good] = vtestFrames(1);
    expect(
      ok(await pool.submit({ cameraId: 'cam-x', width: 768, height: 576, data: good ?? new ArrayBuffer(0), ts: 2 })).detections.length,
    ).toBeGreaterThan(0);
  });
});

describe.skipIf(!haveYolox)(`backpressure with a real model${unless('yolox-nano')}`, () => {
  it('a frame that waited longer than maxFrameAgeMs is dropped as stale and counted', async () => {
    const { manifest, path } = requireModel(registry, 'yolox-nano');
    // pipelineDepth 1: the second frame waits in the pool (not in the worker's port) and ages there
    const pool = await InferencePool.start({
      manifest,
      modelPath: path,
      workers: 1,
      intraOpThreads: 1,
      maxFrameAgeMs: 1,
      pipelineDepth: 1,
      log,
    });
    try {
      const [a, b] = vtestFrames(2);
      const first = pool.submit({ cameraId: 'a', width: 768, height: 576, data: a ?? new ArrayBuffer(0), ts: 1 }); // dispatched at once
      const second = pool.submit({ cameraId: 'b', width: 768, height: 576, data: b ?? new ArrayBuffer(0), ts: 2 }); // waits a whole inference
      expect((await first).status).toBe('ok');
      expect(await second).toMatchObject({ status: 'dropped', cameraId: 'b', ts: 2, reason: 'stale' });
      expect(pool.stats().cameras.b).toMatchObject({ droppedStale: 1, processed: 0 });
    } finally {
      await pool.close();
    }
  });
});

describe('the other shipped detectors', () => {
  it.skipIf(!ready('nanodet-m') || !haveYolox)(
    `NanoDet-m finds the astronaut where YOLOX does${unless('nanodet-m', 'yolox-nano')}`,
    async () => {
      const boxes: number[][] = [];
      for (const name of ['yolox-nano', 'nanodet-m']) {
        const { manifest, path } = requireModel(registry, name);
        const pool = await InferencePool.start({ manifest, modelPath: path, workers: 1, intraOpThreads: 1, log });
        try {
          const img = await decodeImageFile(ASTRONAUT);
          const people = ok(await pool.submit({ cameraId: 'still', ...img, ts: 1 })).detections.filter((d) => d.label === 'person');
          expect(people).toHaveLength(1);
          boxes.push([...(people[0]?.box ?? [])]);
        } finally {
          await pool.close();
        }
      }
      expect(iou(boxes[0] ?? [], boxes[1] ?? [])).toBeGreaterThan(0.7);
    },
  );

  it.skipIf(!ready('light-person'))(`the light person detector finds the astronaut${unless('light-person')}`, async () => {
    const { manifest, path } = requireModel(registry, 'light-person');
    const pool = await InferencePool.start({ manifest, modelPath: path, workers: 1, intraOpThreads: 1, log });
    try {
      const img = await decodeImageFile(ASTRONAUT);
      const people = ok(await pool.submit({ cameraId: 'still', ...img, ts: 1 })).detections;
      expect(people).toHaveLength(1);
      expectCoversAstronaut(people[0]?.box ?? []);
    } finally {
      await pool.close();
    }
  });

  it.skipIf(!ready('person-reid-0288'))(
    `the re-identification model embeds the same person closer than another${unless('person-reid-0288')}`,
    async () => {
      const { manifest, path } = requireModel(registry, 'person-reid-0288');
      const pool = await InferencePool.start({ manifest, modelPath: path, workers: 1, intraOpThreads: 1, log });
      try {
        const img = await decodeImageFile(ASTRONAUT);
        const crop = (x0: number, y0: number, w: number, h: number): ArrayBuffer => {
          const src = new Uint8Array(img.data);
          const out = new Uint8Array(w * h * 3);
          for (let y = 0; y < h; y++)
            out.set(src.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + w) * 3), y * w * 3);
          return out.buffer;
        };
        const embed = async (data: ArrayBuffer, w: number, h: number): Promise<number[]> =>
          ok(await pool.submit({ cameraId: 'reid', width: w, height: h, data, ts: 0 })).embedding ?? [];
        const a = await embed(crop(12, 20, 356, 486), 356, 486);
        const b = await embed(crop(20, 30, 340, 470), 340, 470); // the same person, cropped a little tighter
        const c = await embed(crop(380, 0, 132, 300), 132, 300); // background, no person
        expect(a).toHaveLength(256);
        const dot = (u: number[], v: number[]): number => u.reduce((s, x, i) => s + x * (v[i] ?? 0), 0);
        expect(dot(a, a)).toBeCloseTo(1, 4);
        expect(dot(a, b)).toBeGreaterThan(dot(a, c));
      } finally {
        await pool.close();
      }
    },
  );
});

describe('sentinel detect / models list', () => {
  it.skipIf(!haveYolox)(`detect --json prints the astronaut in the source image's pixels${unless('yolox-nano')}`, async () => {
    const r = await runSentinel(['detect', '--image', ASTRONAUT, '--json'], { env: { SENTINEL_ASSETS: assets ?? '' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { model: string; ms: number; detections: Array<{ label: string; score: number; box: number[] }> };
    expect(out.model).toBe('yolox-nano');
    expect(out.ms).toBeGreaterThan(0);
    const people = out.detections.filter((d) => d.label === 'person' && d.score >= 0.5);
    expect(people).toHaveLength(1);
    expectCoversAstronaut(people[0]?.box ?? []);
    expect(Object.keys(out.detections[0] ?? {}).sort()).toEqual(['box', 'label', 'score']);
  });

  it.skipIf(!haveYolox)(`detect reads JPEG too, and --threshold filters${unless('yolox-nano')}`, async () => {
    const { default: sharp } = await import('sharp');
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-detect-'));
    const jpg = join(dir, 'astronaut.jpg');
    await sharp(ASTRONAUT).jpeg({ quality: 90 }).toFile(jpg);
    const r = await runSentinel(['detect', '--image', jpg, '--json', '--threshold', '0.3'], { env: { SENTINEL_ASSETS: assets ?? '' } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { detections: Array<{ label: string; score: number }> };
    expect(out.detections.some((d) => d.label === 'person' && d.score >= 0.5)).toBe(true);
    expect(out.detections.every((d) => d.score >= 0.3)).toBe(true);
    const strict = JSON.parse(
      (await runSentinel(['detect', '--image', jpg, '--json', '--threshold', '0.99'], { env: { SENTINEL_ASSETS: assets ?? '' } })).stdout,
    ) as { detections: unknown[] };
    expect(strict.detections).toEqual([]);
  });

  it('detect on a file that is not an image is one clear line and exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-detect-'));
    const file = join(dir, 'notes.png');
    writeFileSync(file, 'not a picture');
    const r = await runSentinel(['detect', '--image', file, '--json'], { env: { SENTINEL_ASSETS: assets ?? '' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(new RegExp(`^sentinel: ${file} is not a readable PNG or JPEG image`));
  });

  it.skipIf(!haveYolox)(
    `a models directory with a damaged copy: models list says so, detect names the file and the expected hash${unless('yolox-nano')}`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sentinel-models-'));
      const original = readFileSync(join(assets ?? '', 'models', 'yolox_nano.onnx'));
      writeFileSync(join(dir, 'yolox_nano.onnx'), original.subarray(0, original.length >> 1)); // truncated
      const expected = registry.get('yolox-nano')?.sha256 ?? '';
      const list = await runSentinel(['models', 'list', '--json', '--models-dir', dir]);
      expect(list.code).toBe(1); // no model in that directory is usable
      const parsed = JSON.parse(list.stdout) as { modelsDir: string; models: Array<{ name: string; state: string; reason?: string }> };
      expect(parsed.modelsDir).toBe(dir);
      expect(parsed.models.find((m) => m.name === 'yolox-nano')).toMatchObject({ state: 'unavailable', reason: 'hash_mismatch' });
      expect(parsed.models.find((m) => m.name === 'nanodet-m')).toMatchObject({ state: 'unavailable', reason: 'missing_file' });
      const r = await runSentinel(['detect', '--image', ASTRONAUT, '--models-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`sentinel: model yolox-nano unavailable: ${join(dir, 'yolox_nano.onnx')} has sha256`);
      expect(r.stderr).toContain(`expected ${expected}`);
    },
  );

  it.skipIf(!assets || !existsSync(join(assets, 'models')))(
    `models list shows every shipped model and whether its file is verified${assets && existsSync(join(assets, 'models')) ? '' : ' [skipped: no assets models directory; set SENTINEL_ASSETS]'}`,
    async () => {
      const r = await runSentinel(['models', 'list'], { env: { SENTINEL_ASSETS: assets ?? '' } });
      expect(r.code).toBe(0);
      for (const s of registry.list()) {
        const line = r.stdout.split('\n').find((l) => l.startsWith(`${s.name} `));
        expect(line).toBeDefined();
        expect(line).toContain(s.state === 'ready' ? 'verified' : s.reason.replace(/_/g, ' '));
      }
    },
  );
});
