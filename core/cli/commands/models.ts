import type { Command } from 'commander';
import { openRegistry } from '../../../analytics/inference';
import { loadConfig } from '../../config';
import { printJson } from '../util';

export function registerModels(program: Command): void {
  const models = program.command('models').description('ONNX models: manifests in models/*.json, weights in the models directory');
  models
    .command('list')
    .description("list each model and whether its weights are present and match the manifest's sha256")
    .option('--json', 'JSON on stdout: {"modelsDir","models":[...],"problems":[...]}')
    .option('--config <file>', 'JSON config file')
    .option('--assets <dir>', 'assets directory (models are read from <dir>/models)')
    .option('--models-dir <dir>', 'directory holding the model weights')
    .action((opts: { json?: boolean; config?: string; assets?: string; modelsDir?: string }) => {
      const config = loadConfig({ configFile: opts.config, assetsDir: opts.assets });
      const registry = openRegistry({
        modelsDir: opts.modelsDir ?? config.inference.modelsDir,
        assetsDir: config.assetsDir,
        manifestDir: config.inference.manifestDir,
      });
      const list = registry.list();
      // A script checking an installation (`sentinel models list && ...`) must see failure
      // when nothing could run: exit 1 unless at least one model's weights verified.
      const usable = list.some((s) => s.state === 'ready');
      if (!usable) process.exitCode = 1;
      if (opts.json) {
        printJson({ modelsDir: registry.modelsDir, models: list, problems: registry.problems });
        return;
      }
      process.stdout.write(`models directory: ${registry.modelsDir ?? '(none: set SENTINEL_ASSETS or inference.modelsDir)'}\n`);
      const width = Math.max(4, ...list.map((s) => s.name.length));
      for (const s of list) {
        const state = s.state === 'ready' ? 'verified' : s.reason.replace(/_/g, ' ');
        process.stdout.write(`${s.name.padEnd(width)}  ${s.task.padEnd(13)}  ${state.padEnd(14)}  ${s.file}\n`);
        if (s.state === 'unavailable') process.stdout.write(`${''.padEnd(width)}  ${s.message}\n`);
      }
      for (const p of registry.problems) process.stdout.write(`invalid manifest: ${p.message}\n`);
      if (!usable)
        process.stderr.write(
          `sentinel: no model is usable in ${registry.modelsDir ?? '(no models directory)'}; detection and analytics cannot run\n`,
        );
    });
}
