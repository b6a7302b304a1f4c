import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { SentinelError } from './errors';
import { ROOT_DIR } from './version';

/**
 * The one config file (JSON). Every object is strict: an unknown key is an error that names
 * the key's full path, so a typo ("prot" for "port") never silently falls back to a default.
 * Later features add their own section here.
 */
export const ConfigSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8787),
    })
    .prefault({}),
  /** Where the database, recordings, clips and keys live. */
  dataDir: z.string().min(1).optional(),
  /** Models, footage and map data (the shared assets pack). */
  assetsDir: z.string().min(1).optional(),
  /** Demo mode: simulated cameras and a simulated CTA fleet (`sentinel serve --demo`). */
  demo: z.boolean().default(false),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
});
export type ConfigFile = z.input<typeof ConfigSchema>;

/**
 * Resolved configuration: the file's sections with every default applied (so a feature's
 * section added to ConfigSchema flows through untouched), plus absolute paths.
 */
export type Config = Omit<z.infer<typeof ConfigSchema>, 'dataDir' | 'assetsDir'> & {
  dataDir: string;
  assetsDir: string | null;
  /** Where the values came from, for `sentinel serve` to print and for support. */
  configFile: string | null;
};

export interface ConfigOverrides {
  configFile?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  dataDir?: string | undefined;
  assetsDir?: string | undefined;
  demo?: boolean | undefined;
}

/** The default data directory follows the XDG convention (a per-user, writable place). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'sentinel');
}

/**
 * When no assets directory is configured, a development checkout finds the shared assets
 * pack beside the repository (`../shared/assets`), as the tests and CI lay it out.
 */
export function discoverAssetsDir(): string | null {
  const candidate = resolve(ROOT_DIR, '..', 'shared', 'assets');
  return existsSync(candidate) ? candidate : null;
}

function formatIssue(issue: z.core.$ZodIssue, source: string): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `${source}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${source}: "${path || '(root)'}": ${issue.message}`;
}

/** Parses a config document; throws a SentinelError naming the file and the key's path. */
export function parseConfigFile(raw: unknown, source: string): z.infer<typeof ConfigSchema> {
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new SentinelError(first ? formatIssue(first, source) : `${source}: invalid config`, 'validation_failed', first?.path.join('.'));
  }
  return parsed.data;
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SentinelError(`config file ${file} cannot be read (${code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SentinelError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function envPort(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.SENTINEL_PORT;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new SentinelError(`environment variable SENTINEL_PORT="${raw}" is not a port number (0-65535)`, 'validation_failed', 'SENTINEL_PORT');
  }
  return n;
}

/**
 * Precedence, lowest first: built-in defaults, the config file, environment variables
 * (SENTINEL_HOST, SENTINEL_PORT, SENTINEL_DATA_DIR, SENTINEL_ASSETS, SENTINEL_LOG_LEVEL),
 * then command-line flags.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const configFile = overrides.configFile ?? (env.SENTINEL_CONFIG || undefined);
  const fileAbs = configFile ? resolve(configFile) : null;
  const file = fileAbs ? parseConfigFile(readConfigFile(fileAbs), fileAbs) : parseConfigFile({}, 'defaults');
  const fileDir = fileAbs ? resolve(fileAbs, '..') : process.cwd();

  const level = env.SENTINEL_LOG_LEVEL;
  const logLevel = level ? ConfigSchema.shape.log.unwrap().shape.level.safeParse(level) : null;
  if (logLevel && !logLevel.success) {
    throw new SentinelError(`environment variable SENTINEL_LOG_LEVEL="${level}" is not one of fatal, error, warn, info, debug, trace, silent`, 'validation_failed', 'SENTINEL_LOG_LEVEL');
  }

  // Paths in the config file are relative to the file; paths from env and flags to the cwd.
  const dataDir =
    overrides.dataDir ?? (env.SENTINEL_DATA_DIR || undefined) ?? (file.dataDir ? resolve(fileDir, file.dataDir) : defaultDataDir(env));
  const assetsDir =
    overrides.assetsDir ?? (env.SENTINEL_ASSETS || undefined) ?? (file.assetsDir ? resolve(fileDir, file.assetsDir) : discoverAssetsDir());

  return {
    ...file,
    demo: overrides.demo ?? (env.SENTINEL_DEMO === '1' || file.demo),
    server: {
      host: overrides.host ?? (env.SENTINEL_HOST || undefined) ?? file.server.host,
      port: overrides.port ?? envPort(env) ?? file.server.port,
    },
    dataDir: resolve(dataDir),
    assetsDir: assetsDir ? resolve(assetsDir) : null,
    log: { ...file.log, level: logLevel?.success ? logLevel.data : file.log.level },
    configFile: fileAbs,
  };
}
