import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SentinelError } from '../../common/errors';
import { ROOT_DIR } from '../../common/node/paths';
import { formatManifestIssue, ModelManifest } from './manifest';
import type { ModelStatus } from './types';

/** Where the shipped manifests live (`models/*.json` in the repository / install root). */
export const MANIFEST_DIR = join(ROOT_DIR, 'models');

export interface ManifestProblem {
  file: string;
  message: string;
}

export interface LoadedManifests {
  manifests: ModelManifest[];
  /** Manifests that failed validation: each is reported, none stops the others. */
  problems: ManifestProblem[];
}

/** Validates one manifest document; throws a SentinelError naming the file and the key. */
export function parseManifest(raw: unknown, source: string): ModelManifest {
  const r = ModelManifest.safeParse(raw);
  if (!r.success) throw new SentinelError(formatManifestIssue(r.error, source), 'validation_failed', r.error.issues[0]?.path.join('.'));
  return r.data;
}

export function readManifestFile(file: string): ModelManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SentinelError(`model manifest ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SentinelError(`model manifest ${file} is not valid JSON: ${(err as Error).message}`, 'validation_failed');
  }
  return parseManifest(raw, file);
}

/** Reads every `*.json` in `dir`. A bad manifest is a problem entry, never a crash. */
export function loadManifests(dir: string = MANIFEST_DIR): LoadedManifests {
  const manifests: ModelManifest[] = [];
  const problems: ManifestProblem[] = [];
  if (!existsSync(dir)) return { manifests, problems: [{ file: dir, message: `model manifest directory ${dir} does not exist` }] };
  const seen = new Map<string, string>();
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const file = join(dir, name);
    try {
      const m = readManifestFile(file);
      const other = seen.get(m.name);
      if (other) {
        problems.push({ file, message: `${file}: model name "${m.name}" is already used by ${other}` });
        continue;
      }
      seen.set(m.name, file);
      manifests.push(m);
    } catch (err) {
      problems.push({ file, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return { manifests, problems };
}

/**
 * Where weights are looked up: the configured models directory, else `<assets>/models`.
 * Null when neither is known (no assets pack on this machine).
 */
export function resolveModelsDir(opts: { modelsDir?: string | undefined; assetsDir: string | null }): string | null {
  if (opts.modelsDir) return resolve(opts.modelsDir);
  return opts.assetsDir ? join(opts.assetsDir, 'models') : null;
}

// Hashing 4 MB takes ~10 ms; cache by path, size and mtime so status checks stay cheap.
const hashCache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

/** `fresh` hashes the bytes again whatever the cache says (a model about to replace a running one). */
export function sha256File(path: string, fresh = false): string {
  const st = statSync(path);
  const hit = hashCache.get(path);
  if (!fresh && hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
  const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
  hashCache.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  return sha256;
}

/**
 * Checks a model's weights: present in the models directory and matching the manifest's
 * sha256. Never throws: an unusable model is a `state: 'unavailable'` status with a message
 * naming the file and the expected hash.
 */
export function checkModel(m: ModelManifest, modelsDir: string | null, opts: { fresh?: boolean } = {}): ModelStatus {
  const base = { name: m.name, task: m.task, file: m.file };
  if (!modelsDir) {
    return {
      ...base,
      state: 'unavailable',
      reason: 'no_models_dir',
      message: `model ${m.name} unavailable: no models directory (set SENTINEL_ASSETS or inference.modelsDir); expected ${m.file} with sha256 ${m.sha256}`,
    };
  }
  const path = join(modelsDir, m.file);
  if (!existsSync(path)) {
    return {
      ...base,
      state: 'unavailable',
      reason: 'missing_file',
      message: `model ${m.name} unavailable: ${path} is missing (expected sha256 ${m.sha256})`,
    };
  }
  let actual: string;
  try {
    actual = sha256File(path, opts.fresh);
  } catch (err) {
    return {
      ...base,
      state: 'unavailable',
      reason: 'unreadable',
      message: `model ${m.name} unavailable: ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    };
  }
  if (actual !== m.sha256) {
    return {
      ...base,
      state: 'unavailable',
      reason: 'hash_mismatch',
      message: `model ${m.name} unavailable: ${path} has sha256 ${actual}, expected ${m.sha256}`,
    };
  }
  return { ...base, state: 'ready', path, sha256: actual };
}

export interface ModelRegistry {
  modelsDir: string | null;
  manifests: ModelManifest[];
  problems: ManifestProblem[];
  get(name: string): ModelManifest | undefined;
  status(name: string): ModelStatus | undefined;
  list(): ModelStatus[];
}

/** The manifests plus where their weights are, checked on demand. */
export function openRegistry(opts: {
  modelsDir?: string | undefined;
  assetsDir: string | null;
  manifestDir?: string | undefined;
}): ModelRegistry {
  const { manifests, problems } = loadManifests(opts.manifestDir ? resolve(opts.manifestDir) : MANIFEST_DIR);
  const modelsDir = resolveModelsDir(opts);
  const byName = new Map(manifests.map((m) => [m.name, m]));
  return {
    modelsDir,
    manifests,
    problems,
    get: (name) => byName.get(name),
    status: (name) => {
      const m = byName.get(name);
      return m ? checkModel(m, modelsDir) : undefined;
    },
    list: () => manifests.map((m) => checkModel(m, modelsDir)),
  };
}

/** The manifest and verified weights of a model, or a SentinelError naming what is wrong. */
export function requireModel(registry: ModelRegistry, name: string): { manifest: ModelManifest; path: string } {
  const manifest = registry.get(name);
  if (!manifest) {
    const names = registry.manifests.map((m) => m.name).join(', ') || '(none)';
    throw new SentinelError(`unknown model "${name}"; available: ${names}`, 'not_found', 'model');
  }
  const st = checkModel(manifest, registry.modelsDir);
  if (st.state === 'unavailable') throw new SentinelError(st.message, 'unavailable', 'model');
  return { manifest, path: st.path };
}
