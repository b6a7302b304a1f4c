import { Command, CommanderError } from 'commander';
import { SentinelError } from '../errors';
import { VERSION } from '../version';
import { registerAnalyze } from './commands/analyze';
import { registerDetect } from './commands/detect';
import { registerEvidence } from './commands/evidence';
import { registerModels } from './commands/models';
import { registerFeed } from './commands/feed';
import { registerServe } from './commands/serve';
import { registerIngest } from './commands/ingest';
import { registerProbe } from './commands/probe';
import { registerSim } from './commands/sim';
import { registerUsers } from './commands/users';
import { registerAudit } from './commands/audit';
import { registerAssets } from './commands/assets';
import { registerReport } from './commands/report';
import { registerNodes } from './commands/nodes';
import { registerAnalyticsNode } from './commands/analytics-node';
import { registerDb } from './commands/db';

/**
 * The `sentinel` CLI. Each capability registers its subcommands in its own file under
 * commands/ and is listed here. A SentinelError prints as one line `sentinel: <message>`
 * and exits non-zero; anything else is a bug and prints its stack.
 */
export function buildProgram(): Command {
  const program = new Command('sentinel')
    .description('Sentinel: video analytics and incident console for the CTA control center')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run sentinel --help for the commands)')
    .exitOverride();
  registerServe(program);
  registerProbe(program);
  registerIngest(program);
  registerSim(program);
  registerFeed(program);
  registerDetect(program);
  registerModels(program);
  registerEvidence(program);
  registerUsers(program);
  registerAudit(program);
  registerAnalyze(program);
  registerAssets(program);
  registerReport(program);
  registerNodes(program);
  registerAnalyticsNode(program);
  registerDb(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof SentinelError) {
      process.stderr.write(`sentinel: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}
