import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { Password, Role } from '../../../contract';
import { AuditTrail } from '../../audit';
import { UserStore } from '../../auth/store';
import { loadConfig } from '../../config';
import { prepareDataDir } from '../../data-dir';
import { openDatabase } from '../../db/database';
import { SentinelError } from '../../errors';
import { printJson } from '../util';

/** Reads a password from stdin (never a flag: flags end up in shell history and `ps`). */
function readPassword(): string {
  let text: string;
  try {
    text = readFileSync(0, 'utf8');
  } catch {
    throw new SentinelError('could not read the password from stdin; pipe it in: echo "$PW" | sentinel users create-admin ...');
  }
  const pw = text.replace(/\r?\n$/, '');
  const r = Password.safeParse(pw);
  if (!r.success) throw new SentinelError(`password from stdin: ${r.error.issues[0]?.message ?? 'invalid'}`, 'validation_failed');
  return pw;
}

/** `sentinel users create-admin | create | list`: accounts from the command line (first run, recovery). */
export function registerUsers(program: Command): void {
  const users = program.command('users').description('user accounts (the console has the same under Administration)');
  const open = (dataDir?: string) => {
    const config = loadConfig({ dataDir });
    prepareDataDir(config.dataDir);
    const db = openDatabase(join(config.dataDir, 'sentinel.db'));
    return { db, store: new UserStore(db, { ttlMs: config.auth.sessionHours * 3_600_000, idleMs: config.auth.idleMinutes * 60_000 }) };
  };
  users
    .command('create-admin')
    .description('first run: create the administrator (password on stdin); refused once any user exists')
    .requiredOption('--username <name>', 'administrator user name')
    .option('--data-dir <dir>', 'data directory')
    .action(async (opts: { username: string; dataDir?: string }) => {
      const password = readPassword();
      const { db, store } = open(opts.dataDir);
      try {
        const user = await store.create({ username: opts.username, password, role: 'admin' }, { onlyIfNoUsers: true });
        new AuditTrail(db).append({
          actorId: user.id,
          actor: user.username,
          action: 'user.create',
          target: `user:${user.id}`,
          detail: { role: 'admin', via: 'sentinel users create-admin' },
        });
        printJson(user);
      } finally {
        db.close();
      }
    });
  users
    .command('create')
    .description('create a user (password on stdin)')
    .requiredOption('--username <name>', 'user name')
    .requiredOption('--role <role>', `one of ${Role.options.join(', ')}`)
    .option('--districts <list>', 'liaison scope: CPD districts, comma-separated')
    .option('--lines <list>', "liaison scope: 'L' lines, comma-separated")
    .option('--routes <list>', 'liaison scope: bus routes, comma-separated')
    .option('--data-dir <dir>', 'data directory')
    .action(async (opts: { username: string; role: string; districts?: string; lines?: string; routes?: string; dataDir?: string }) => {
      const role = Role.safeParse(opts.role);
      if (!role.success) throw new SentinelError(`--role "${opts.role}" is not one of ${Role.options.join(', ')}`, 'validation_failed');
      const list = (s?: string) =>
        s
          ? s
              .split(',')
              .map((x) => x.trim())
              .filter(Boolean)
          : [];
      const password = readPassword();
      const { db, store } = open(opts.dataDir);
      try {
        const user = await store.create({
          username: opts.username,
          password,
          role: role.data,
          scope: { districts: list(opts.districts), lines: list(opts.lines), routes: list(opts.routes) },
        });
        new AuditTrail(db).append({
          actor: 'cli',
          action: 'user.create',
          target: `user:${user.id}`,
          detail: { username: user.username, role: user.role, scope: user.scope, via: 'sentinel users create' },
        });
        printJson(user);
      } catch (err) {
        if (err instanceof z.ZodError) throw new SentinelError(`scope: ${err.issues[0]?.message ?? 'invalid'}`, 'validation_failed');
        throw err;
      } finally {
        db.close();
      }
    });
  users
    .command('list')
    .description('list users as JSON lines')
    .option('--data-dir <dir>', 'data directory')
    .action((opts: { dataDir?: string }) => {
      const { db, store } = open(opts.dataDir);
      try {
        for (const u of store.list()) printJson(u);
      } finally {
        db.close();
      }
    });
}
