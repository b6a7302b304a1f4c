import type { Command } from 'commander';
import { parseRtspUrl } from '../../../contract/cameras';
import { ProbeError, probeStream } from '../../../analytics/ingest/probe';
import { loadConfig } from '../../config';
import { SentinelError } from '../../errors';
import { printJson } from '../util';

/** Validates a URL given on the command line; the message names what is wrong. */
export function cliRtspUrl(raw: string): { url: string; username?: string; password?: string } {
  const r = parseRtspUrl(raw);
  if ('error' in r) throw new SentinelError(`invalid RTSP URL: ${r.error}`, 'validation_failed', 'url');
  return r;
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('connect to an RTSP stream and print its codec, size and frame rate (exit 1 with the reason when it cannot)')
    .argument('<rtsp-url>', 'rtsp://[user:password@]host[:port]/path (percent-encode @ : % in credentials)')
    .option('--json', 'print {"codec","width","height","fps"}')
    .action(async (raw: string, opts: { json?: boolean }) => {
      const { url, username, password } = cliRtspUrl(raw);
      const config = loadConfig();
      try {
        const info = await probeStream(url, {
          username,
          password,
          timeoutMs: 9000,
          ffprobePath: config.ingest.ffprobePath,
          ffmpegPath: config.ingest.ffmpegPath,
        });
        if (opts.json) printJson(info);
        else process.stdout.write(`${info.codec} ${info.width}x${info.height} ${info.fps} fps\n`);
      } catch (err) {
        if (err instanceof ProbeError) throw new SentinelError(err.message, 'unavailable');
        throw err;
      }
    });
}
