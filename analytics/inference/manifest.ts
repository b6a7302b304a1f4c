import { z } from 'zod';

/**
 * A model manifest (`models/<name>.json`): everything the pool needs to feed a model and read
 * its answer, so that no model's quirks live in code. Every object is strict: an unknown key
 * is an error naming the key, so a typo ("treshold") never silently falls back to a default.
 */

export const ModelTask = z.enum(['detect', 'classify-clip', 'embed']);
export type ModelTask = z.infer<typeof ModelTask>;

/** How a frame is fitted into the model's input. */
export const LetterboxRule = z.strictObject({
  /**
   * `top-left`: keep aspect ratio, paste at the top-left corner (YOLOX);
   * `center`: keep aspect ratio, centre with equal padding (NanoDet);
   * `stretch`: resize to the input size, aspect ratio not kept (re-identification crops).
   */
  mode: z.enum(['top-left', 'center', 'stretch']),
  /** Value of the padding pixels, in the 0-255 range before normalisation. */
  pad: z.number().min(0).max(255).default(0),
});
export type LetterboxRule = z.infer<typeof LetterboxRule>;

const Triple = z.tuple([z.number(), z.number(), z.number()]);

export const Normalisation = z.strictObject({
  /** Per channel, in the model's channel order: value = (pixel - mean) / std. */
  mean: Triple.default([0, 0, 0]),
  std: Triple.refine((s) => s.every((v) => v > 0), 'std must be positive').default([1, 1, 1]),
});

export const YoloxDecoder = z.strictObject({
  kind: z.literal('yolox'),
  output: z.string().min(1),
  strides: z.array(z.number().int().positive()).min(1).default([8, 16, 32]),
});
export const NanodetDecoder = z.strictObject({
  kind: z.literal('nanodet'),
  strides: z.array(z.number().int().positive()).min(1).default([8, 16, 32]),
  /** Output name templates; `{stride}` is replaced by each stride. */
  clsOutput: z.string().includes('{stride}').default('cls_pred_stride_{stride}'),
  regOutput: z.string().includes('{stride}').default('dis_pred_stride_{stride}'),
  /** Bins per side minus one (NanoDet's reg_max): 8 bins per side means 7. */
  regMax: z.number().int().positive().default(7),
  /** Offset of a point inside its grid cell, in cells (0.5 = cell centre). */
  centerOffset: z.number().min(0).max(1).default(0.5),
});
export const EmbeddingDecoder = z.strictObject({
  kind: z.literal('embedding'),
  output: z.string().min(1),
  /** L2-normalise so that a dot product is the cosine similarity. */
  normalize: z.boolean().default(true),
});
export const ClipScoresDecoder = z.strictObject({
  kind: z.literal('clip-scores'),
  output: z.string().min(1),
  activation: z.enum(['softmax', 'sigmoid', 'none']).default('softmax'),
});
export const Decoder = z.discriminatedUnion('kind', [YoloxDecoder, NanodetDecoder, EmbeddingDecoder, ClipScoresDecoder]);
export type Decoder = z.infer<typeof Decoder>;

export const ModelManifest = z
  .strictObject({
    /** Short name used on the command line and in camera settings (`--model yolox-nano`). */
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lower-case letters, digits, ".", "_" or "-"'),
    description: z.string().default(''),
    task: ModelTask,
    /** File name inside the models directory. */
    file: z.string().regex(/^[^/\\]+\.onnx$/, 'a file name ending in .onnx, without a directory'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'the full lower-case hex sha256 (64 characters)'),
    source: z.string().default(''),
    license: z.string().default(''),
    input: z.strictObject({
      name: z.string().min(1),
      /**
       * Fixed input shape, batch first (`[1,3,416,416]` for NCHW, `[1,256,128,3]` for NHWC).
       * A clip classifier may take T frames: `[1,3,T,H,W]` (NCTHW) or `[1,T,H,W,3]` (NTHWC).
       */
      shape: z.array(z.number().int().positive()).min(4).max(5),
      layout: z.enum(['NCHW', 'NHWC', 'NCTHW', 'NTHWC']),
      colorOrder: z.enum(['BGR', 'RGB']),
      normalize: Normalisation.prefault({}),
      letterbox: LetterboxRule,
    }),
    decoder: Decoder,
    /** Class labels, index = class id (detectors); empty for embedders. */
    labels: z.array(z.string().min(1)).default([]),
    defaults: z
      .strictObject({
        scoreThreshold: z.number().min(0).max(1).default(0.5),
        nmsIou: z.number().min(0).max(1).default(0.45),
        maxDetections: z.number().int().positive().default(100),
      })
      .prefault({}),
  })
  .superRefine((m, ctx) => {
    const clipLayout = m.input.layout === 'NCTHW' || m.input.layout === 'NTHWC';
    if (m.input.shape.length !== (clipLayout ? 5 : 4)) {
      ctx.addIssue({
        code: 'custom',
        path: ['input', 'shape'],
        message: `a ${m.input.layout} input has ${clipLayout ? 5 : 4} dimensions, the shape has ${m.input.shape.length}`,
      });
      return;
    }
    if (clipLayout && m.task !== 'classify-clip')
      ctx.addIssue({
        code: 'custom',
        path: ['input', 'layout'],
        message: `a ${m.input.layout} input (T frames) is for task classify-clip, not ${m.task}`,
      });
    const channels = m.input.layout === 'NCHW' || m.input.layout === 'NCTHW' ? m.input.shape[1] : m.input.shape.at(-1);
    if (channels !== 3)
      ctx.addIssue({
        code: 'custom',
        path: ['input', 'shape'],
        message: `a ${m.input.layout} input must have 3 channels, the shape says ${channels}`,
      });
    if (m.input.shape[0] !== 1) ctx.addIssue({ code: 'custom', path: ['input', 'shape'], message: 'batch size must be 1' });
    const taskDecoder: Record<ModelTask, Decoder['kind'][]> = {
      detect: ['yolox', 'nanodet'],
      embed: ['embedding'],
      'classify-clip': ['clip-scores'],
    };
    if (!taskDecoder[m.task].includes(m.decoder.kind)) {
      ctx.addIssue({
        code: 'custom',
        path: ['decoder', 'kind'],
        message: `decoder "${m.decoder.kind}" does not fit task "${m.task}" (use ${taskDecoder[m.task].join(' or ')})`,
      });
    }
    if (m.task === 'detect' && m.labels.length === 0)
      ctx.addIssue({ code: 'custom', path: ['labels'], message: 'a detector needs its class labels' });
  });
export type ModelManifest = z.infer<typeof ModelManifest>;
export type ModelManifestInput = z.input<typeof ModelManifest>;

/** Input height and width of one frame, whatever the layout. */
export function inputSize(m: ModelManifest): { width: number; height: number } {
  const s = m.input.shape;
  switch (m.input.layout) {
    case 'NCHW':
      return { height: s[2] ?? 0, width: s[3] ?? 0 };
    case 'NHWC':
      return { height: s[1] ?? 0, width: s[2] ?? 0 };
    case 'NCTHW':
      return { height: s[3] ?? 0, width: s[4] ?? 0 };
    case 'NTHWC':
      return { height: s[2] ?? 0, width: s[3] ?? 0 };
  }
}

/**
 * Frames per input: T for a clip classifier with a T-frame input, else 1. A T-frame input is
 * submitted to the pool as one BGR24 picture of the T frames stacked top to bottom (each the
 * same size), so a clip travels like a frame: one buffer, transferred, no new message type.
 */
export function clipFrames(m: ModelManifest): number {
  if (m.input.layout === 'NCTHW') return m.input.shape[2] ?? 1;
  if (m.input.layout === 'NTHWC') return m.input.shape[1] ?? 1;
  return 1;
}

/** One line naming the file and the key path of the first problem. */
export function formatManifestIssue(err: z.ZodError, source: string): string {
  const issue = err.issues[0];
  if (!issue) return `${source}: invalid model manifest`;
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `${source}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${source}: "${path || '(root)'}": ${issue.message}`;
}
