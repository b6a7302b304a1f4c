import { InvalidArgumentError, type Command } from 'commander';
import { InferencePool, openRegistry, requireModel } from '../../../analytics/inference';
import { Embedder } from '../../../analytics/inference/reid';
import { runOffline } from '../../../analytics/pipeline/offline';
import { SourceError, VideoSource } from '../../../analytics/pipeline/source';
import { loadZonesFile } from '../../../analytics/zones';
import { loadConfig } from '../../config';
import { SentinelError } from '../../errors';
import { createLogger } from '../../logger';
import { printJson } from '../util';

interface AnalyzeOpts {
  video: string;
  zones: string;
  model?: string;
  fightModel?: string;
  fps: number;
  json?: boolean;
  seconds?: number;
  config?: string;
  assets?: string;
  modelsDir?: string;
  /** Commander's --no-gate: false when given. */
  gate: boolean;
  /** Commander's --reid / --no-reid. */
  reid?: boolean;
  keepAlive?: number;
  motionThreshold?: number;
}

function parseThreshold(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1 || n > 255)
    throw new InvalidArgumentError(`"${value}" is not a grey-level difference between 1 and 255`);
  return n;
}

function parseFps(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 30)
    throw new InvalidArgumentError(`"${value}" is not a frame rate between 0 and 30`);
  return n;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`"${value}" is not a positive number of seconds`);
  return n;
}

/**
 * `sentinel analyze`: the live analytics pipeline run offline over a file or an RTSP stream.
 * Checks cheap things first (zones file, video, model) so a mistake is reported before any
 * model loads, then prints JSON lines (frame / alert / clear / summary).
 */
export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('run detection, tracking, zones and the alert rules over a video file or RTSP stream; JSON lines on stdout')
    .requiredOption('--video <file|rtsp-url>', 'video file, or rtsp://[user:password@]host[:port]/path')
    .requiredOption('--zones <file>', 'ZONES.json: {"zones":[{"id","kind":"crowding|operator|watch","polygon":[[x,y],...],"capacity"?}]}')
    .option('--model <name>', 'person detector (default inference.defaultModel, yolox-nano)')
    .option(
      '--fight-model <name>',
      'clip classifier (task classify-clip) deciding fights in watch zones (ONNX, one crop per close pair) instead of the built-in trained clip classifier',
    )
    .option('--fps <n>', 'analysed frames per second', parseFps, 5)
    .option('--seconds <n>', 'stop after this many seconds (needed to end an RTSP run)', parseSeconds)
    .option('--no-gate', 'run the detector on every frame instead of only on frames with motion (plus a keep-alive)')
    .option('--reid', 're-identify people after an occlusion by appearance (the person-reid-0288 model; default analytics.reid.enabled)')
    .option('--no-reid', 'track by position only')
    .option('--keep-alive <s>', 'with no motion, detect at least this often (seconds, default 5)', parseSeconds)
    .option('--motion-threshold <n>', 'grey-level change that counts as motion (1-255, default 20)', parseThreshold)
    .option('--json', 'JSON lines (the only output format; kept for scripts that pass it)')
    .option('--config <file>', 'JSON config file')
    .option('--assets <dir>', 'assets directory (models are read from <dir>/models)')
    .option('--models-dir <dir>', 'directory holding the model weights')
    .action(async (opts: AnalyzeOpts) => {
      const config = loadConfig({ configFile: opts.config, assetsDir: opts.assets });
      const log = createLogger(process.env.SENTINEL_LOG_LEVEL ? config.log.level : 'warn').child({ name: 'analyze' });
      const zones = loadZonesFile(opts.zones);
      let source: VideoSource;
      try {
        source = await VideoSource.open(opts.video, {
          fps: opts.fps,
          maxWidth: config.ingest.maxWidth,
          maxHeight: config.ingest.maxHeight,
          ffmpegPath: config.ingest.ffmpegPath,
          ffprobePath: config.ingest.ffprobePath,
          ...(opts.seconds !== undefined ? { maxSeconds: opts.seconds } : {}),
        });
      } catch (err) {
        if (err instanceof SourceError) throw new SentinelError(err.message, 'bad_request', 'video');
        throw err;
      }
      const registry = openRegistry({
        modelsDir: opts.modelsDir ?? config.inference.modelsDir,
        assetsDir: config.assetsDir,
        manifestDir: config.inference.manifestDir,
      });
      const name = opts.model ?? config.inference.defaultModel;
      const { manifest, path } = requireModel(registry, name);
      if (manifest.task !== 'detect')
        throw new SentinelError(`model ${name} is a ${manifest.task} model, not a person detector`, 'bad_request', 'model');
      if (!manifest.labels.includes('person')) throw new SentinelError(`model ${name} has no "person" class`, 'bad_request', 'model');
      const fight = opts.fightModel ? requireModel(registry, opts.fightModel) : null;
      if (fight && fight.manifest.task !== 'classify-clip')
        throw new SentinelError(
          `model ${opts.fightModel} is a ${fight.manifest.task} model, not a clip classifier (task classify-clip)`,
          'bad_request',
          'fight-model',
        );
      const gate = {
        enabled: opts.gate,
        ...(opts.keepAlive !== undefined ? { keepAliveMs: opts.keepAlive * 1000 } : {}),
        ...(opts.motionThreshold !== undefined ? { threshold: opts.motionThreshold } : {}),
      };
      // Offline every frame waits for its detections, so one worker with all intra-op threads is the fastest shape.
      const pool = await InferencePool.start({
        manifest,
        modelPath: path,
        workers: 1,
        intraOpThreads: Math.max(config.inference.intraOpThreads, 2),
        maxFrameAgeMs: 60_000,
        log,
      });
      let fightPool: InferencePool | undefined;
      let embedder: Embedder | undefined;
      try {
        if (opts.reid ?? config.analytics.reid.enabled) embedder = await Embedder.open(registry, log);
        if (fight)
          fightPool = await InferencePool.start({
            manifest: fight.manifest,
            modelPath: fight.path,
            workers: 1,
            intraOpThreads: 1,
            maxFrameAgeMs: 60_000,
            log,
          });
        // 0.2: the tracker's second (low-score) stage needs the weak detections too.
        await runOffline({
          source,
          zones,
          pool,
          ...(fightPool ? { fightPool } : {}),
          model: name,
          fps: opts.fps,
          scoreThreshold: 0.2,
          gate,
          ...(embedder ? { embedder, pipeline: { tracker: { reid: config.analytics.reid } } } : {}),
          onLine: printJson,
        });
      } catch (err) {
        if (err instanceof SourceError) throw new SentinelError(err.message, 'bad_request', 'video');
        throw err;
      } finally {
        await pool.close();
        await fightPool?.close();
        await embedder?.close();
      }
    });
}
