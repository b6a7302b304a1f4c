import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config';
import { SentinelError } from './errors';

/**
 * Creates the data directory if needed and proves it is writable by writing a probe file
 * (access() is not enough: root passes every permission check, and a read-only mount or a
 * full disk only shows on write).
 */
export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EACCES' || e.code === 'EPERM'
        ? 'permission denied'
        : e.code === 'ENOTDIR'
          ? 'a part of the path is a file, not a directory'
          : e.code === 'EROFS'
            ? 'the file system is read-only'
            : e.code === 'ENOSPC'
              ? 'the disk is full'
              : (e.code ?? e.message);
    throw new SentinelError(`data directory ${dir} is not writable: ${why}`);
  }
}

/**
 * Starts the data directory of a new installation (`users create-admin --init`). On SQLite the
 * database file opened next marks it as Sentinel's; on Postgres the database lives elsewhere,
 * so the folder of the installation's keys is made now (the core would make it at its first
 * start). Without it every later command (`users create`, `evidence key`, `audit verify`)
 * would refuse the directory as holding no Sentinel data until `sentinel serve` had run once.
 */
export function initDataDir(config: Pick<Config, 'dataDir' | 'database'>): void {
  prepareDataDir(config.dataDir);
  if (config.database.url) mkdirSync(join(config.dataDir, 'keys'), { recursive: true, mode: 0o700 });
}

/**
 * For commands that read an existing installation (audit verify, evidence key): a directory
 * with no Sentinel database is refused by name, never silently initialised (a typo would
 * otherwise verify an empty chain as "ok" or mint a new signing key). Only `serve` and
 * `users create-admin --init` create one.
 */
export function requireSentinelDataDir(dir: string, howToCreate = 'sentinel serve creates one'): void {
  // The database, or the installation's keys (a key-only directory is still an installation's).
  if (!existsSync(join(dir, 'sentinel.db')) && !existsSync(join(dir, 'keys'))) {
    throw new SentinelError(
      `${dir} holds no Sentinel data (no sentinel.db, no keys/); pass the data directory of a Sentinel that has run (${howToCreate})`,
    );
  }
}
