import type { Command } from 'commander';
import { IngestSupervisor } from '../../../analytics/ingest/supervisor';
import { loadConfig } from '../../config';
import { createLogger } from '../../logger';
import { parsePositiveNumber, printJson } from '../util';
import { cliRtspUrl } from './probe';

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('read analysis frames from an RTSP stream for N seconds, reporting once a second (reconnects as the core does)')
    .argument('<rtsp-url>', 'rtsp://[user:password@]host[:port]/path')
    .requiredOption('--seconds <n>', 'how long to read', parsePositiveNumber)
    .option('--fps <f>', 'analysis frame rate (default: config ingest.fps, 5)', parsePositiveNumber)
    .option('--json', 'one JSON line per second {"t","state","frames","fps"}, then {"frames","reconnects","dropped"}')
    .action(async (raw: string, opts: { seconds: number; fps?: number; json?: boolean }) => {
      const { url, username, password } = cliRtspUrl(raw);
      const config = loadConfig();
      // Logs go to stderr; warnings only unless SENTINEL_LOG_LEVEL asks for more.
      const log = createLogger(process.env.SENTINEL_LOG_LEVEL ? config.log.level : 'warn').child({ name: 'ingest' });
      const sup = new IngestSupervisor({
        cameraId: 'cli',
        url,
        username,
        password,
        fps: opts.fps ?? config.ingest.fps,
        maxWidth: config.ingest.maxWidth,
        maxHeight: config.ingest.maxHeight,
        stallTimeoutMs: config.ingest.stallTimeoutS * 1000,
        backoffMaxMs: config.ingest.backoffMaxS * 1000,
        ffmpegPath: config.ingest.ffmpegPath,
        log,
      });
      let stopping = false;
      const finish = async (): Promise<void> => {
        if (stopping) return;
        stopping = true;
        clearInterval(timer);
        await sup.stop();
        const h = sup.health();
        const summary = { frames: h.frames, reconnects: h.reconnects, dropped: h.dropped };
        if (opts.json) printJson(summary);
        else process.stdout.write(`${summary.frames} frames, ${summary.reconnects} reconnects, ${summary.dropped} dropped\n`);
      };
      const t0 = Date.now();
      let lastFrames = 0;
      sup.start();
      let lines = 0;
      const report = (): void => {
        lines++;
        const h = sup.health();
        const line = { t: Math.round((Date.now() - t0) / 1000), state: h.state, frames: h.frames, fps: h.frames - lastFrames };
        lastFrames = h.frames;
        if (opts.json) printJson(line);
        else
          process.stdout.write(
            `${line.t}s ${line.state} ${line.frames} frames ${line.fps} fps${h.lastError && h.state !== 'live' ? ` (${h.lastError})` : ''}\n`,
          );
      };
      const timer = setInterval(report, 1000);
      const onSignal = (): void => void finish().then(() => process.exit(130));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      await new Promise((r) => setTimeout(r, opts.seconds * 1000));
      // One line per second, the last one included even when the timer lost the race.
      if (lines < Math.floor(opts.seconds)) report();
      await finish();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
}
