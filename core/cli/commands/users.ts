import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { Password, Role } from '../../../contract';
import { AuditTrail } from '../../audit';
import { UserStore } from '../../auth/store';
import { loadConfig } from '../../config';
import { initDataDir, requireSentinelDataDir } from '../../data-dir';
import { promptHidden } from '../prompt';
import { openData } from '../../db/open';
import { SentinelError } from '../../errors';
import { printJson } from '../util';

function checkPassword(pw: string, where: string): string {
  const r = Password.safeParse(pw);
  if (!r.success) throw new SentinelError(`password ${where}: ${r.error.issues[0]?.message ?? 'invalid'}`, 'validation_failed');
  return pw;
}

/**
 * The password, never from a flag (flags end up in shell history and `ps`): in a terminal a
 * prompt without echo, asked twice (a typo would lock the first administrator out); in a
 * script, stdin.
 */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const pw = checkPassword(await promptHidden('Password (not shown): '), 'typed');
    if ((await promptHidden('Same password again: ')) !== pw) throw new SentinelError('the two passwords differ; nothing was created');
    return pw;
  }
  let text: string;
  try {
    text = readFileSync(0, 'utf8');
  } catch {
    throw new SentinelError('could not read the password from stdin; pipe it in: echo "$PW" | sentinel users create-admin ...');
  }
  return checkPassword(text.replace(/\r?\n$/, ''), 'from stdin');
}

/** `sentinel users create-admin | create | list`: accounts from the command line (first run, recovery). */
export function registerUsers(program: Command): void {
  const users = program.command('users').description('user accounts (the console has the same under Administration)');
  // Only create-admin --init may start a data directory; everything else needs an existing
  // one, so a mistyped --data-dir is named instead of silently getting a fresh database.
  const open = async (dataDir: string | undefined, init = false) => {
    const config = loadConfig({ dataDir });
    if (init) initDataDir(config);
    else requireSentinelDataDir(config.dataDir, 'or create it with sentinel users create-admin --init');
    const sql = await openData(config, { create: init });
    return {
      sql,
      store: new UserStore(sql, { ttlMs: config.auth.sessionHours * 3_600_000, idleMs: config.auth.idleMinutes * 60_000 }),
      /** Closes the database too. */
      close: () => sql.close(),
    };
  };
  users
    .command('create-admin')
    .description('first run: create the administrator (password prompted, or on stdin in scripts); refused once any user exists')
    .requiredOption('--username <name>', 'administrator user name')
    .option('--data-dir <dir>', 'data directory')
    .option('--init', 'create the data directory and its database if they do not exist yet')
    .action(async (opts: { username: string; dataDir?: string; init?: boolean }) => {
      // The directory first: no point asking for a password that cannot be stored.
      const config = loadConfig({ dataDir: opts.dataDir });
      if (!opts.init) requireSentinelDataDir(config.dataDir, 'or pass --init to create it');
      const password = await readPassword();
      const { sql, store, close } = await open(opts.dataDir, opts.init);
      try {
        const user = await store.create({ username: opts.username, password, role: 'admin' }, { onlyIfNoUsers: true });
        await new AuditTrail(sql).append({
          actorId: user.id,
          actor: user.username,
          action: 'user.create',
          target: `user:${user.id}`,
          detail: { role: 'admin', via: 'sentinel users create-admin' },
        });
        printJson(user);
      } finally {
        await close();
      }
    });
  users
    .command('create')
    .description('create a user (password prompted, or on stdin in scripts)')
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
      const { sql, store, close } = await open(opts.dataDir);
      let password: string;
      try {
        password = await readPassword();
      } catch (err) {
        await close();
        throw err;
      }
      try {
        const user = await store.create({
          username: opts.username,
          password,
          role: role.data,
          scope: { districts: list(opts.districts), lines: list(opts.lines), routes: list(opts.routes) },
        });
        await new AuditTrail(sql).append({
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
        await close();
      }
    });
  users
    .command('reset-mfa')
    .description("break-glass: reset a user's second factor (lost phone and recovery codes); they enrol again at next sign-in")
    .requiredOption('--username <name>', 'whose second factor')
    .option('--data-dir <dir>', 'data directory')
    .action(async (opts: { username: string; dataDir?: string }) => {
      const { sql, store, close } = await open(opts.dataDir);
      try {
        const user = await store.byUsername(opts.username);
        if (!user) throw new SentinelError(`no user named "${opts.username}" in this data directory`, 'not_found', 'username');
        // The same reset the console's Administration offers, for the one administrator who
        // cannot sign in any more: it needs shell access to the data directory instead.
        await store.resetMfa(
          user.id,
          `Your two-step sign-in was reset from the server's command line (sentinel users reset-mfa) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Set it up again; if you did not ask for this, tell your supervisor.`,
        );
        await new AuditTrail(sql).append({
          actor: 'cli',
          action: 'user.mfa_reset',
          target: `user:${user.id}`,
          detail: { username: user.username, hadFactor: user.totpEnabled, via: 'sentinel users reset-mfa' },
        });
        printJson(await store.get(user.id));
      } finally {
        await close();
      }
    });
  users
    .command('list')
    .description('list users as JSON lines')
    .option('--data-dir <dir>', 'data directory')
    .action(async (opts: { dataDir?: string }) => {
      const { store, close } = await open(opts.dataDir);
      try {
        for (const u of await store.list()) printJson(u);
      } finally {
        await close();
      }
    });
}
