import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/node/logger';
import { SentinelError } from '../../common/errors';
import { ModelManifest } from './manifest';
import { InferencePool } from './pool';
import { solidFrame, TINY_MODEL_PATH, tinyManifest } from './testing';
import type { FrameResult } from './types';

// The project-generated tiny detector (tools/gen-tiny-onnx.ts) in real worker threads with
// real onnxruntime sessions: it "detects" bright blue squares, so geometry is checkable.
const log = createLogger('silent');
const BLUE: [number, number, number] = [255, 0, 0];
const RED: [number, number, number] = [0, 0, 255];
const BLACK: [number, number, number] = [0, 0, 0];

function blueSquareFrame(cameraId = 'cam-1', ts = 0): { cameraId: string; width: number; height: number; data: ArrayBuffer; ts: number } {
  // 128x64 -> scale 0.25 into 32x16 (+ padding): the square at x 32-63, y 0-31 fills cell (1, 0)
  return { cameraId, width: 128, height: 64, data: solidFrame(128, 64, BLACK, { x: 32, y: 0, w: 32, h: 32, bgr: BLUE }), ts };
}

function ok(r: FrameResult): Extract<FrameResult, { status: 'ok' }> {
  if (r.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r;
}

describe('inference pool (tiny model, real workers)', () => {
  let pool: InferencePool;
  beforeAll(async () => {
    pool = await InferencePool.start({ manifest: tinyManifest(), modelPath: TINY_MODEL_PATH, workers: 2, intraOpThreads: 1, log });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('returns detections in source-frame pixels', async () => {
    const r = ok(await pool.submit(blueSquareFrame('cam-1', 42)));
    expect(r).toMatchObject({ cameraId: 'cam-1', ts: 42, model: 'tiny-detector' });
    // model box: centre (12, 4), 16x16 -> [4,-4,20,12] / 0.25, clipped to the frame
    expect(r.detections).toEqual([{ label: 'blue-square', classId: 0, score: 1, box: [16, 0, 80, 48] }]);
    expect(r.timings.totalMs).toBeGreaterThanOrEqual(r.timings.inferMs);
  });

  it("feeds channels in the manifest's colour order: a red square is not blue", async () => {
    const frame = {
      cameraId: 'cam-1',
      width: 128,
      height: 64,
      data: solidFrame(128, 64, BLACK, { x: 32, y: 0, w: 32, h: 32, bgr: RED }),
      ts: 1,
    };
    expect(ok(await pool.submit(frame)).detections).toEqual([]);
  });

  it('applies a per-call threshold', async () => {
    // a dimmer blue square: objectness 200/255 = 0.78
    const frame = (): { cameraId: string; width: number; height: number; data: ArrayBuffer; ts: number } => ({
      cameraId: 'cam-1',
      width: 128,
      height: 64,
      data: solidFrame(128, 64, BLACK, { x: 32, y: 0, w: 32, h: 32, bgr: [200, 0, 0] }),
      ts: 1,
    });
    const dflt = ok(await pool.submit(frame()));
    expect(dflt.detections).toHaveLength(1);
    expect(dflt.detections[0]?.score).toBeCloseTo(200 / 255, 3);
    expect(ok(await pool.submit(frame(), { scoreThreshold: 0.9 })).detections).toEqual([]);
  });

  it('transfers the frame buffer instead of copying it, and hands the same memory back for reuse', async () => {
    const f = blueSquareFrame();
    const original = new Uint8Array(f.data.slice(0));
    const p = pool.submit(f);
    expect(f.data.byteLength).toBe(0); // detached: now owned by the worker
    const r = ok(await p);
    expect(r.buffer?.byteLength).toBe(128 * 64 * 3);
    expect(new Uint8Array(r.buffer ?? new ArrayBuffer(0))).toEqual(original);
    // refill the returned buffer with another picture and submit it again
    const again = new Uint8Array(r.buffer ?? new ArrayBuffer(0));
    again.set(new Uint8Array(solidFrame(128, 64, BLACK)));
    expect(ok(await pool.submit({ cameraId: 'cam-1', width: 128, height: 64, data: again.buffer, ts: 2 })).detections).toEqual([]);
  });

  it('a zero-size frame or a short buffer is a clear failure, and the pool keeps serving', async () => {
    const zero = await pool.submit({ cameraId: 'cam-z', width: 0, height: 0, data: new ArrayBuffer(0), ts: 5 });
    expect(zero).toMatchObject({
      status: 'failed',
      cameraId: 'cam-z',
      ts: 5,
      code: 'bad_frame',
      message: 'camera cam-z: frame size 0x0 is not a positive whole number of pixels',
    });
    const short = await pool.submit({ cameraId: 'cam-z', width: 10, height: 10, data: new ArrayBuffer(299), ts: 6 });
    expect(short).toMatchObject({
      status: 'failed',
      code: 'bad_frame',
      message: 'camera cam-z: frame data is 299 bytes but 10x10 BGR24 needs 300',
    });
    expect(ok(await pool.submit(blueSquareFrame('cam-z'))).detections).toHaveLength(1);
    expect(pool.stats().cameras['cam-z']).toMatchObject({ submitted: 3, failed: 2, processed: 1 });
  });

  it('a worker killed mid-frame is replaced: that frame fails, later frames succeed', async () => {
    const before = pool.stats().workerRestarts;
    // the frame is dispatched synchronously on submit, so a worker is busy with it right now
    const big = { cameraId: 'cam-k', width: 1920, height: 1080, data: new ArrayBuffer(1920 * 1080 * 3), ts: 7 };
    const inflight = pool.submit(big);
    const busy = pool.busyWorkerIndex();
    expect(busy).toBeGreaterThanOrEqual(0);
    expect(await pool.killWorker(busy)).toBe(true);
    const r = await inflight;
    expect(r).toMatchObject({ status: 'failed', cameraId: 'cam-k', ts: 7, code: 'worker_crashed' });
    expect(pool.stats().workerRestarts).toBe(before + 1);
    // the replacement comes up and every later frame succeeds, on either worker
    const later = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.submit(blueSquareFrame(`cam-k${i}`))));
    for (const l of later) expect(ok(l).detections).toHaveLength(1);
    await expect.poll(() => pool.stats().workers).toBe(2);
  });
});

describe('scheduling (one worker)', () => {
  it("round robin: a quiet camera is served before a busy camera's backlog, superseded frames are counted", async () => {
    // pipelineDepth 1: the worker takes one frame at a time, so the order is the scheduler's alone
    const pool = await InferencePool.start({
      manifest: tinyManifest(),
      modelPath: TINY_MODEL_PATH,
      workers: 1,
      intraOpThreads: 1,
      perCameraQueue: 3,
      pipelineDepth: 1,
      log,
    });
    try {
      const done: string[] = [];
      const track = (p: Promise<FrameResult>): Promise<FrameResult> =>
        p.then((r) => {
          done.push(`${r.cameraId}:${r.ts}:${r.status}`);
          return r;
        });
      const all = [
        track(pool.submit(blueSquareFrame('busy', 0))), // dispatched at once
        ...[1, 2, 3, 4].map((ts) => track(pool.submit(blueSquareFrame('busy', ts)))), // 1 superseded (queue of 3)
        track(pool.submit(blueSquareFrame('quiet', 0))),
      ];
      await Promise.all(all);
      expect(done).toEqual(['busy:1:dropped', 'busy:0:ok', 'quiet:0:ok', 'busy:2:ok', 'busy:3:ok', 'busy:4:ok']);
      expect(pool.stats().cameras.busy).toMatchObject({ submitted: 5, processed: 4, droppedSuperseded: 1 });
    } finally {
      await pool.close();
    }
  });

  it('with the default queue of one, a flooding camera keeps only its newest frame and never starves a quiet one', async () => {
    const pool = await InferencePool.start({ manifest: tinyManifest(), modelPath: TINY_MODEL_PATH, workers: 1, intraOpThreads: 1, log });
    try {
      const busy: Array<Promise<FrameResult>> = [];
      let busyDone = 0;
      const waits: number[] = [];
      const quiet: FrameResult[] = [];
      // Each round the busy camera bursts 10 frames (far more than one worker serves), then
      // the quiet camera sends one and waits for it. How many busy frames finish meanwhile
      // measures how long the quiet camera waited: at most the frames already in the worker.
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 10; i++)
          busy.push(pool.submit(blueSquareFrame('busy', round * 10 + i)).then((r) => (r.status === 'ok' && busyDone++, r)));
        const before = busyDone;
        quiet.push(await pool.submit(blueSquareFrame('quiet', round)));
        waits.push(busyDone - before);
      }
      const b = await Promise.all(busy);
      expect(quiet.map((r) => r.status)).toEqual(Array(20).fill('ok'));
      expect(Math.max(...waits)).toBeLessThanOrEqual(2); // pipelineDepth: the frames the worker already held
      const dropped = b.filter((r) => r.status === 'dropped').length;
      expect(dropped).toBeGreaterThanOrEqual(20 * 7); // at most ~3 of each burst of 10 get a worker
      expect(b.at(-1)?.status).toBe('ok'); // the newest frame always survives
      const s = pool.stats();
      expect(s.cameras.busy).toMatchObject({ submitted: 200, droppedSuperseded: dropped, processed: 200 - dropped });
      expect(s.cameras.quiet).toMatchObject({ submitted: 20, processed: 20, droppedSuperseded: 0 });
    } finally {
      await pool.close();
    }
  });

  it('after close, frames are dropped as "closed"', async () => {
    const pool = await InferencePool.start({ manifest: tinyManifest(), modelPath: TINY_MODEL_PATH, workers: 1, intraOpThreads: 1, log });
    await pool.close();
    expect(await pool.submit(blueSquareFrame())).toMatchObject({ status: 'dropped', reason: 'closed' });
    expect(pool.state).toEqual({ state: 'closed' });
  });
});

describe('models that cannot load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-badmodel-'));

  it('a truncated .onnx file is a clear error naming the file; no worker is left behind', async () => {
    const bytes = readFileSync(TINY_MODEL_PATH);
    const path = join(dir, 'truncated.onnx');
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await InferencePool.start({ manifest: tinyManifest(), modelPath: path, workers: 2, intraOpThreads: 1, log }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SentinelError);
    expect((err as Error).message).toMatch(new RegExp(`model file ${path} is not a loadable ONNX model \\(corrupt or truncated\\?\\)`));
  });

  it('a file of garbage is the same clear error', async () => {
    const path = join(dir, 'garbage.onnx');
    writeFileSync(path, 'this is not a model');
    await expect(InferencePool.start({ manifest: tinyManifest(), modelPath: path, workers: 1, intraOpThreads: 1, log })).rejects.toThrow(
      /is not a loadable ONNX model/,
    );
  });

  it('a model whose input shape does not match its manifest is refused, naming both shapes', async () => {
    const m = tinyManifest();
    const wrong = ModelManifest.parse({ ...m, input: { ...m.input, shape: [1, 3, 64, 64] } });
    await expect(InferencePool.start({ manifest: wrong, modelPath: TINY_MODEL_PATH, workers: 1, intraOpThreads: 1, log })).rejects.toThrow(
      `model file ${TINY_MODEL_PATH}: input "images" has shape [1,3,32,32] but manifest tiny-detector says [1,3,64,64]`,
    );
  });

  it('a manifest naming an input or output the model lacks is refused', async () => {
    const m = tinyManifest();
    await expect(
      InferencePool.start({
        manifest: ModelManifest.parse({ ...m, input: { ...m.input, name: 'input.1' } }),
        modelPath: TINY_MODEL_PATH,
        workers: 1,
        intraOpThreads: 1,
        log,
      }),
    ).rejects.toThrow(/has no input "input.1".*its inputs are images/);
    await expect(
      InferencePool.start({
        manifest: ModelManifest.parse({ ...m, decoder: { kind: 'yolox', output: 'dets' } }),
        modelPath: TINY_MODEL_PATH,
        workers: 1,
        intraOpThreads: 1,
        log,
      }),
    ).rejects.toThrow(/lacks output "dets"/);
  });

  it('rejects nonsense worker settings', async () => {
    await expect(
      InferencePool.start({ manifest: tinyManifest(), modelPath: TINY_MODEL_PATH, workers: 0, intraOpThreads: 1, log }),
    ).rejects.toThrow('inference workers must be a whole number >= 1, got 0');
  });
});
