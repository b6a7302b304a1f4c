import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { z } from 'zod';
import { SentinelError } from './errors';
import { ROOT_DIR } from './version';

/** The committed list of the assets pack's public originals: path, size, sha256, where to get it. */
export const ASSETS_MANIFEST = join(ROOT_DIR, 'tools', 'assets-manifest.json');

const ManifestFile = z.strictObject({
  path: z
    .string()
    .min(1)
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a relative path inside the assets directory'),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  url: z.url().nullable(),
  source: z.string(),
});
const Manifest = z.strictObject({ about: z.string(), files: z.array(ManifestFile) });
export type ManifestFile = z.infer<typeof ManifestFile>;

export function readAssetsManifest(file = ASSETS_MANIFEST): ManifestFile[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SentinelError(`assets manifest ${file} cannot be read: ${(err as Error).message}`);
  }
  const m = Manifest.safeParse(raw);
  if (!m.success) throw new SentinelError(`assets manifest ${file}: "${m.error.issues[0]?.path.join('.')}": ${m.error.issues[0]?.message}`);
  return m.data.files;
}

function sha256Of(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', rej)
      .on('end', () => res(h.digest('hex')));
  });
}

export interface FetchOutcome {
  path: string;
  result: 'present' | 'fetched' | 'failed';
  /** Why it could not be fetched: one line naming the file, the source and the cause. */
  error?: string;
}

export interface FetchOptions {
  dir: string;
  files?: ManifestFile[];
  /** Downloads at the same time. */
  concurrency?: number;
  timeoutMs?: number;
  onOutcome?: (o: FetchOutcome) => void;
}

const why = (err: unknown): string => {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.message ?? e.message;
};

/**
 * Downloads the manifest's files that are missing (or differ) into `dir`, verifying each
 * sha256. A download goes to the system temp directory first; only a verified file is moved
 * into the assets directory (copied next to its place, then renamed), so a failure leaves
 * the assets directory exactly as it was: no partial files, no new folders. A host that
 * cannot be reached (no network) is not asked again for the next files: they fail with the
 * same cause at once.
 */
export async function fetchAssets(opts: FetchOptions): Promise<FetchOutcome[]> {
  const dir = resolve(opts.dir);
  const files = opts.files ?? readAssetsManifest();
  const unreachable = new Map<string, string>();
  const outcomes: FetchOutcome[] = [];
  const staging = join(tmpdir(), `sentinel-assets-${randomBytes(6).toString('hex')}`);
  const record = (o: FetchOutcome): void => {
    outcomes.push(o);
    opts.onOutcome?.(o);
  };

  const one = async (f: ManifestFile): Promise<void> => {
    const dest = join(dir, ...f.path.split('/'));
    if (!dest.startsWith(dir + sep)) return record({ path: f.path, result: 'failed', error: `${f.path}: not inside the assets directory` });
    if (existsSync(dest) && statSync(dest).size === f.bytes && (await sha256Of(dest)) === f.sha256)
      return record({ path: f.path, result: 'present' });
    if (!f.url)
      return record({ path: f.path, result: 'failed', error: `${f.path}: no public download address is known (source: ${f.source})` });
    const host = new URL(f.url).host;
    const down = unreachable.get(host);
    if (down) return record({ path: f.path, result: 'failed', error: `${f.path}: cannot fetch ${f.url}: ${down}` });
    const tmp = join(staging, `${randomBytes(8).toString('hex')}.part`);
    try {
      let res: Response;
      try {
        res = await fetch(f.url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000), redirect: 'follow' });
      } catch (err) {
        const cause = why(err);
        unreachable.set(host, cause);
        throw new Error(`cannot fetch ${f.url}: ${cause}`);
      }
      if (!res.ok || !res.body) throw new Error(`cannot fetch ${f.url}: HTTP ${res.status}`);
      mkdirSync(staging, { recursive: true });
      const h = createHash('sha256');
      const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      body.on('data', (d: Buffer) => h.update(d));
      await pipeline(body, createWriteStream(tmp));
      const got = h.digest('hex');
      if (got !== f.sha256) throw new Error(`${f.url} has sha256 ${got.slice(0, 12)}…, expected ${f.sha256.slice(0, 12)}…: not kept`);
      mkdirSync(dirname(dest), { recursive: true });
      // A rename within one file system is atomic: the file appears complete or not at all.
      const near = `${dest}.part-${randomBytes(4).toString('hex')}`;
      try {
        await pipeline(createReadStream(tmp), createWriteStream(near));
        renameSync(near, dest);
      } catch (err) {
        rmSync(near, { force: true });
        throw err;
      }
      record({ path: f.path, result: 'fetched' });
    } catch (err) {
      const msg = (err as Error).message;
      record({ path: f.path, result: 'failed', error: `${f.path}: ${msg}` });
    } finally {
      rmSync(tmp, { force: true });
    }
  };

  const queue = [...files];
  const workers = Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, queue.length)) }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) await one(f);
  });
  try {
    await Promise.all(workers);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return outcomes;
}
