import { InvalidArgumentError, type Command } from 'commander';
import { performance } from 'node:perf_hooks';
import { decodeImageFile, InferencePool, openRegistry, requireModel } from '../../../analytics/inference';
import { loadConfig } from '../../config';
import { SentinelError } from '../../errors';
import { createLogger } from '../../logger';
import { printJson } from '../util';

function parseThreshold(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError(`"${value}" is not a score threshold between 0 and 1`);
  return n;
}

interface DetectOpts {
  image: string;
  model?: string;
  threshold?: number;
  json?: boolean;
  config?: string;
  assets?: string;
  modelsDir?: string;
}

export function registerDetect(program: Command): void {
  program
    .command('detect')
    .description("run a detector on one PNG or JPEG image and print the detections in the image's pixels")
    .requiredOption('--image <file>', 'PNG or JPEG image')
    .option('--model <name>', 'model name (see `sentinel models list`; default inference.defaultModel, yolox-nano)')
    .option('--threshold <score>', "minimum score, 0-1 (default: the model's)", parseThreshold)
    .option('--json', 'one JSON document on stdout: {"model","ms","detections":[{"label","score","box":[x1,y1,x2,y2]}]}')
    .option('--config <file>', 'JSON config file')
    .option('--assets <dir>', 'assets directory (models are read from <dir>/models)')
    .option('--models-dir <dir>', 'directory holding the model weights')
    .action(async (opts: DetectOpts) => {
      const config = loadConfig({ configFile: opts.config, assetsDir: opts.assets });
      const log = createLogger(config.log.level).child({ name: 'detect' });
      // The image first: a bad file is reported even on a machine without the models.
      const image = await decodeImageFile(opts.image);
      const registry = openRegistry({
        modelsDir: opts.modelsDir ?? config.inference.modelsDir,
        assetsDir: config.assetsDir,
        manifestDir: config.inference.manifestDir,
      });
      const name = opts.model ?? config.inference.defaultModel;
      const { manifest, path } = requireModel(registry, name);
      if (manifest.task !== 'detect')
        throw new SentinelError(`model ${name} is a ${manifest.task} model, not a detector`, 'bad_request', 'model');
      // One image: one worker is enough; it still runs the same code path as live cameras.
      const pool = await InferencePool.start({
        manifest,
        modelPath: path,
        workers: 1,
        intraOpThreads: config.inference.intraOpThreads,
        log,
      });
      try {
        const t0 = performance.now();
        const r = await pool.submit(
          { cameraId: 'cli', width: image.width, height: image.height, data: image.data, ts: Date.now() },
          opts.threshold === undefined ? {} : { scoreThreshold: opts.threshold },
        );
        const ms = Math.round((performance.now() - t0) * 10) / 10;
        switch (r.status) {
          case 'ok': {
            const detections = r.detections.map((d) => ({ label: d.label, score: d.score, box: d.box }));
            if (opts.json) {
              printJson({ model: name, ms, detections });
            } else {
              process.stdout.write(
                `${opts.image}: ${image.width}x${image.height}, model ${name}, ${ms} ms, ${detections.length} detection${detections.length === 1 ? '' : 's'}\n`,
              );
              for (const d of detections) process.stdout.write(`  ${d.label.padEnd(14)} ${d.score.toFixed(3)}  [${d.box.join(', ')}]\n`);
            }
            return;
          }
          case 'failed':
            throw new SentinelError(`${opts.image}: ${r.message}`, r.code === 'bad_frame' ? 'bad_request' : 'internal');
          case 'dropped':
            throw new SentinelError(`${opts.image}: frame dropped (${r.reason})`, 'internal');
          default: {
            const never: never = r;
            throw new Error(`unexpected result ${JSON.stringify(never)}`);
          }
        }
      } finally {
        await pool.close();
      }
    });
}
