import { z } from 'zod';
import type { Role } from './auth';

/**
 * Which models analytics runs, changed while everything runs (technicians and admins). A
 * change is refused with the reason (unknown model, wrong task, weights missing or not
 * matching the manifest's sha256, a session or a test inference that fails) and the running
 * model stays; an accepted one takes over without a restart and without losing a frame.
 */
const MODEL_ROLES: readonly Role[] = ['technician', 'admin'];

const ModelName = z.string().min(1).max(100);

/** The fight slot's name for the trained clip classifier shipped with the build (no ONNX file). */
export const BUILTIN_FIGHT_MODEL = 'builtin';

export const ModelInfo = z.strictObject({
  name: z.string(),
  task: z.string(),
  description: z.string().nullable(),
  /** Whether its weights are present and match the manifest (checked now). */
  state: z.enum(['ready', 'unavailable']),
  /** Why not, naming the file and the expected hash. */
  message: z.string().nullable(),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

/** What one analytics node runs for a slot, as it reported at its last heartbeat (docs/scale.md). */
export const NodeModelState = z.strictObject({
  nodeId: z.string(),
  nodeName: z.string(),
  /** The choice the node last received from the core. */
  model: z.string(),
  /** What serves on the node now (`builtin`: the trained clip classifier). */
  running: z.string(),
  /** Why the node does not run `model`, when it refused it (it keeps `running`); null while it follows or is still opening it. */
  problem: z.string().nullable(),
});
export type NodeModelState = z.infer<typeof NodeModelState>;

/**
 * What a node does about the fight slot, in words, after its name: "runs the built-in
 * classifier: tiny-fight refused: ...". `chosen` is the console's choice, which the node
 * may not have had yet (it gets it at its next heartbeat).
 */
export function nodeFightLine(n: Pick<NodeModelState, 'model' | 'running' | 'problem'>, chosen: string = n.model): string {
  const label = (m: string): string => (m === BUILTIN_FIGHT_MODEL ? 'the built-in classifier' : m);
  const runs = `runs ${label(n.running)}`;
  if (n.problem) return `${runs}: ${n.model} refused: ${n.problem}`;
  if (n.running === chosen) return runs;
  if (n.model !== chosen) return `${runs} (it gets ${label(chosen)} at its next heartbeat)`;
  return `${runs} while it opens ${label(n.model)}`;
}

export const ModelSlotState = z.strictObject({
  /** The model chosen for the slot (the console's choice, else the config's). */
  model: z.string(),
  /** Where the choice comes from. */
  source: z.enum(['config', 'console']),
  /** The model actually serving now (null: none is running, e.g. no camera is analysed yet or it is unavailable). */
  running: z.string().nullable(),
  /** Why the chosen model is not running, when it is not. */
  problem: z.string().nullable(),
  /** With analytics nodes on (fight slot): what each live node runs, so a node that does not follow shows. */
  nodes: z.array(NodeModelState).optional(),
});
export type ModelSlotState = z.infer<typeof ModelSlotState>;

export const AnalyticsModels = z.strictObject({
  detector: ModelSlotState,
  fight: ModelSlotState,
  /** Every model the core knows (models/*.json), detectors, clip classifiers and embedders. */
  models: z.array(ModelInfo),
});
export type AnalyticsModels = z.infer<typeof AnalyticsModels>;

export const ModelChoice = z.strictObject({ model: ModelName });
export type ModelChoice = z.infer<typeof ModelChoice>;

/** A camera's own detector; `model: null` goes back to the default. */
export const CameraModelChoice = z.strictObject({ model: ModelName.nullable() });
export type CameraModelChoice = z.infer<typeof CameraModelChoice>;

export const CameraModel = z.strictObject({
  cameraId: z.string(),
  /** The camera's own choice, or null for the default. */
  model: z.string().nullable(),
  /** What it uses: its own choice, else the default detector. */
  effective: z.string(),
  /** What its analysis runs on now (null when it is not analysed). */
  running: z.string().nullable(),
});
export type CameraModel = z.infer<typeof CameraModel>;

export const modelRoutes = {
  analyticsModels: { method: 'GET', path: '/api/v1/analytics/models', response: AnalyticsModels, roles: MODEL_ROLES },
  /** Replaces the default person detector for every camera without its own choice. */
  analyticsDetectorPut: {
    method: 'PUT',
    path: '/api/v1/analytics/models/detector',
    body: ModelChoice,
    response: AnalyticsModels,
    roles: MODEL_ROLES,
  },
  /** Replaces the fight classifier: `builtin` (the trained clip classifier) or a classify-clip model. */
  analyticsFightPut: {
    method: 'PUT',
    path: '/api/v1/analytics/models/fight',
    body: ModelChoice,
    response: AnalyticsModels,
    roles: MODEL_ROLES,
  },
  cameraModel: { method: 'GET', path: '/api/v1/cameras/:id/model', response: CameraModel, roles: MODEL_ROLES },
  cameraModelPut: { method: 'PUT', path: '/api/v1/cameras/:id/model', body: CameraModelChoice, response: CameraModel, roles: MODEL_ROLES },
} as const;
