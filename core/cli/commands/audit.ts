import { requireSentinelDataDir } from '../../data-dir';
import { join } from 'node:path';
import type { Command } from 'commander';
import { AuditTrail } from '../../audit';
import { loadConfig } from '../../config';
import { openDatabase } from '../../db/database';
import { SentinelError } from '../../errors';
import { printJson } from '../util';

/** `sentinel audit verify`: recomputes the hash chain; exit 1 names the first broken record. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  audit
    .command('verify')
    .description('recompute the audit hash chain; exits 1 naming the first broken record')
    .option('--data-dir <dir>', 'data directory')
    .action((opts: { dataDir?: string }) => {
      const config = loadConfig({ dataDir: opts.dataDir });
      requireSentinelDataDir(config.dataDir);
      const db = openDatabase(join(config.dataDir, 'sentinel.db'));
      try {
        const trail = new AuditTrail(db);
        const r = trail.verify();
        trail.append({ actor: 'cli', action: 'audit.verify', detail: { ok: r.ok, firstBroken: r.firstBroken } });
        if (!r.ok) throw new SentinelError(`audit chain broken at record ${r.firstBroken}: ${r.reason}`);
        printJson(r);
      } finally {
        db.close();
      }
    });
}
