// One inference worker: owns one onnxruntime session, and does everything per frame that
// costs CPU (preprocessing, inference, decoding, NMS) so the main thread only routes.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type * as ort from 'onnxruntime-node';
import { decodeDetections, decodeEmbedding, decodeScores, type Outputs } from './decode';
import { BadFrameError, preprocess } from './preprocess';
import { ControlState, type FromWorker, type InferRequest, type WorkerInit } from './protocol';
import { inputTensor, openSession } from './session';

const port = parentPort;
if (!port) throw new Error('analytics/inference/worker.ts must run as a worker thread');
const init = workerData as WorkerInit;
const m = init.manifest;
const post = (msg: FromWorker): void => port.postMessage(msg, msg.type === 'result' || msg.type === 'failed' ? [msg.data] : []);
type FromWorkerResult = Extract<FromWorker, { type: 'result' }>;

const control = new Int32Array(init.control);

/** Runs an onnxruntime call marked as native (see ControlState for why). */
async function native<T>(fn: () => Promise<T>): Promise<T> {
  if (Atomics.compareExchange(control, 0, ControlState.free, ControlState.native) !== ControlState.free) {
    // The pool is stopping this worker: wait here, outside native code, to be terminated.
    Atomics.wait(control, 0, ControlState.stopping);
  }
  try {
    return await fn();
  } finally {
    Atomics.compareExchange(control, 0, ControlState.native, ControlState.free);
  }
}

let session: ort.InferenceSession;
try {
  session = await native(() => openSession(m, init.modelPath, init.intraOpThreads));
} catch (err) {
  post({ type: 'init-error', message: (err as Error).message });
  // Nothing more to do: the pool terminates this worker when it reads the error.
  await new Promise(() => undefined);
  throw err;
}
const input = inputTensor(m);
const meta = session.inputMetadata.find((i) => i.name === m.input.name);
post({ type: 'ready', inputShape: meta?.isTensor ? [...meta.shape] : m.input.shape, outputs: [...session.outputNames] });

async function handle(req: InferRequest): Promise<FromWorker> {
  const t0 = performance.now();
  let transform;
  try {
    transform = preprocess(m, new Uint8Array(req.data), req.width, req.height, input.data);
  } catch (err) {
    if (err instanceof BadFrameError) return { type: 'failed', id: req.id, code: 'bad_frame', message: err.message, data: req.data };
    throw err;
  }
  const t1 = performance.now();
  const result = await native(() => session.run({ [m.input.name]: input.tensor }));
  const t2 = performance.now();
  const outputs: Outputs = {};
  for (const [name, t] of Object.entries(result)) {
    if (t.type === 'float32') outputs[name] = { data: t.data as Float32Array, dims: t.dims };
  }
  let detections: FromWorkerResult['detections'] = [];
  let embedding: number[] | undefined;
  let scores: FromWorkerResult['scores'];
  switch (m.task) {
    case 'detect':
      detections = decodeDetections(m, outputs, transform, req);
      break;
    case 'embed':
      embedding = decodeEmbedding(m, outputs);
      break;
    case 'classify-clip':
      scores = decodeScores(m, outputs);
      break;
    default: {
      const never: never = m.task;
      throw new Error(`unknown task ${String(never)}`);
    }
  }
  for (const t of Object.values(result)) t.dispose();
  const t3 = performance.now();
  return {
    type: 'result',
    id: req.id,
    detections,
    ...(embedding ? { embedding } : {}),
    ...(scores ? { scores } : {}),
    preprocessMs: t1 - t0,
    inferMs: t2 - t1,
    decodeMs: t3 - t2,
    data: req.data,
  };
}

// The pool may send the next frame while this one is in work (pipelining): frames are
// handled strictly one after another, in the order they came.
let chain: Promise<void> = Promise.resolve();
port.on('message', (req: InferRequest) => {
  chain = chain.then(() =>
    handle(req).then(post, (err: unknown) =>
      post({
        type: 'failed',
        id: req.id,
        code: 'inference_failed',
        message: err instanceof Error ? err.message : String(err),
        data: req.data,
      }),
    ),
  );
});
