import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { clipFrames, inputSize, type ModelManifest } from './manifest';

/**
 * Opens an onnxruntime session for a manifest and checks that the model is the one the
 * manifest describes (input name and shape, declared outputs present). Throws an Error whose
 * message names the file and what is wrong; a corrupt or truncated file is reported as such
 * rather than as onnxruntime's protobuf jargon alone.
 */
export async function openSession(m: ModelManifest, modelPath: string, intraOpThreads: number): Promise<ort.InferenceSession> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(modelPath);
  } catch (err) {
    throw new Error(`model file ${modelPath} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Warnings (e.g. NanoDet's "initializer appears in graph inputs") are noise on stderr.
      logSeverityLevel: 3,
    });
  } catch (err) {
    throw new Error(
      `model file ${modelPath} is not a loadable ONNX model (corrupt or truncated?): ${(err as Error).message.split('\n')[0] ?? ''}`,
    );
  }
  try {
    checkSession(m, session, modelPath);
  } catch (err) {
    await session.release();
    throw err;
  }
  return session;
}

function checkSession(m: ModelManifest, session: ort.InferenceSession, modelPath: string): void {
  if (!session.inputNames.includes(m.input.name)) {
    throw new Error(
      `model file ${modelPath} has no input "${m.input.name}" (manifest ${m.name}); its inputs are ${session.inputNames.join(', ')}`,
    );
  }
  const meta = session.inputMetadata.find((i) => i.name === m.input.name);
  if (meta?.isTensor) {
    if (meta.type !== 'float32')
      throw new Error(`model file ${modelPath}: input "${m.input.name}" is ${meta.type}, the pool feeds float32`);
    const shape = meta.shape;
    const mismatch =
      shape.length !== m.input.shape.length || shape.some((d, i) => typeof d === 'number' && d > 0 && d !== m.input.shape[i]);
    if (mismatch) {
      throw new Error(
        `model file ${modelPath}: input "${m.input.name}" has shape [${shape.join(',')}] but manifest ${m.name} says [${m.input.shape.join(',')}]`,
      );
    }
  }
  const needed = requiredOutputs(m);
  const missing = needed.filter((n) => !session.outputNames.includes(n));
  if (missing.length > 0) {
    throw new Error(
      `model file ${modelPath} lacks output${missing.length > 1 ? 's' : ''} ${missing.map((n) => `"${n}"`).join(', ')} named in manifest ${m.name}; its outputs are ${session.outputNames.join(', ')}`,
    );
  }
}

export function requiredOutputs(m: ModelManifest): string[] {
  const d = m.decoder;
  switch (d.kind) {
    case 'yolox':
    case 'embedding':
    case 'clip-scores':
      return [d.output];
    case 'nanodet':
      return d.strides.flatMap((s) => [d.clsOutput.replace('{stride}', String(s)), d.regOutput.replace('{stride}', String(s))]);
    default: {
      const never: never = d;
      throw new Error(`unknown decoder ${JSON.stringify(never)}`);
    }
  }
}

/** A reusable input tensor over one Float32Array (no allocation per frame). */
export function inputTensor(m: ModelManifest): { data: Float32Array; tensor: ort.Tensor } {
  const { width, height } = inputSize(m);
  const data = new Float32Array(width * height * 3 * clipFrames(m));
  return { data, tensor: new ort.Tensor('float32', data, m.input.shape) };
}
