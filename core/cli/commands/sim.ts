import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { SentinelError } from '../../errors';
import { demoStreams, startSimulator } from '../../../tools/rtsp-sim/sim';
import { parsePort } from '../util';

async function control(port: number, name: string, verb: 'stop' | 'start'): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${port}/streams/${encodeURIComponent(name)}/${verb}`, { method: 'POST' });
  } catch {
    throw new SentinelError(`no camera simulator control on 127.0.0.1:${port} (start one with: sentinel sim cameras)`);
  }
  const body = (await res.json()) as { ok: boolean; error?: string };
  if (!body.ok) throw new SentinelError(`simulator: ${body.error ?? 'command failed'}`);
  process.stdout.write(`${name} ${verb === 'stop' ? 'stopped' : 'started'}\n`);
}

export function registerSim(program: Command): void {
  const sim = program.command('sim').description('simulators for tests and the demo');
  sim
    .command('cameras')
    .description('serve the footage in the assets as looped RTSP cameras at rtsp://127.0.0.1:<port>/<name> until interrupted')
    .option('--port <n>', 'RTSP port', parsePort, 8554)
    .option('--control-port <n>', 'HTTP control port (sentinel sim stop|start <name>)', parsePort, 8555)
    .option('--assets <dir>', 'assets directory (media/ holds the footage)')
    .action(async (opts: { port: number; controlPort: number; assets?: string }) => {
      const config = loadConfig({ assetsDir: opts.assets });
      if (!config.assetsDir) throw new SentinelError('no assets directory: set SENTINEL_ASSETS or pass --assets');
      const streams = demoStreams(config.assetsDir);
      if (streams.length === 0) throw new SentinelError(`no footage found in ${config.assetsDir}/media`);
      let running;
      try {
        running = await startSimulator({ port: opts.port, controlPort: opts.controlPort, streams, ffmpegPath: config.ingest.ffmpegPath });
      } catch (err) {
        throw new SentinelError(`camera simulator: ${(err as Error).message}`);
      }
      for (const s of running.streams) process.stdout.write(`${s.url}\n`);
      process.stdout.write(`control: sentinel sim stop|start <name> (port ${running.controlPort}); Ctrl-C to stop\n`);
      const stop = (): void => void running.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const code = await running.exited;
      throw new SentinelError(`camera simulator exited (code ${code})`);
    });
  for (const verb of ['stop', 'start'] as const) {
    sim
      .command(verb)
      .description(
        verb === 'stop'
          ? 'drop one simulated camera (its clients are disconnected; 404 until started)'
          : 'bring a dropped simulated camera back',
      )
      .argument('<name>', 'stream name, e.g. station-platform')
      .option('--control-port <n>', 'the simulator’s control port', parsePort, 8555)
      .action((name: string, opts: { controlPort: number }) => control(opts.controlPort, name, verb));
  }
}
