// ONNX inference on worker threads: model registry, detection pool, decoders.
// The life of a frame in the pool is described in docs/inference.md.
export type {
  Frame,
  FrameResult,
  FrameTimings,
  Detection,
  DropReason,
  FrameFailureCode,
  ModelStatus,
  ModelUnavailableReason,
  PoolStats,
  CameraStats,
} from './types';
export { ModelManifest, ModelTask, inputSize, clipFrames, formatManifestIssue, type ModelManifestInput } from './manifest';
export {
  MANIFEST_DIR,
  checkModel,
  loadManifests,
  openRegistry,
  parseManifest,
  readManifestFile,
  requireModel,
  resolveModelsDir,
  sha256File,
  type ManifestProblem,
  type ModelRegistry,
} from './registry';
export { InferencePool, type DetectOptions, type PoolOptions, type PoolState } from './pool';
export { InferenceScheduler, type SchedulerStats } from './scheduler';
export { preprocess, checkFrameGeometry, BadFrameError, type FrameTransform } from './preprocess';
export { decodeDetections, decodeEmbedding, decodeNanodet, decodeYolox, toSource, type Outputs, type OutputTensor } from './decode';
export { nms, iou, type Candidate } from './nms';
export { decodeImage, decodeImageFile, type BgrImage } from './image';
export { openSession } from './session';
export { openModel, openVerifiedModel, type InferenceSettings, type OpenedModel } from './open';
export { FightWorker, type FightAnswer, type FightFrame } from './fight-worker';
