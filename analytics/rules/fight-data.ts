import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { toGrey } from '../pipeline/pipeline';
import { VideoSource } from '../pipeline/source';
import { downsample, FEATURE_H, FEATURE_W } from './fight-features';

/**
 * The shared fight clips (media/fight-surv: fight/fiNNN.mp4, noFight/nofiNNN.mp4, clips.csv
 * naming each clip's source video) decoded exactly as `sentinel analyze` decodes a file (same
 * VideoSource: fps, fit into 416x416, BGR24 -> grey) and downsampled to the feature size.
 * Decoded frames are cached under the OS temp dir (never in the repo), keyed by file size,
 * mtime and fps, so re-training and the eval do not decode again.
 */

export const ClipRow = z.object({
  clip: z.string().regex(/^[\w.-]+\.mp4$/),
  label: z.enum(['fight', 'noFight']),
  source: z.string().min(1),
});
export type ClipRow = z.infer<typeof ClipRow>;

export interface Clip extends ClipRow {
  file: string;
  /** Small grey frames (FEATURE_W x FEATURE_H) at `fps`, in time order. */
  frames: Uint8Array[];
}

export function readClipList(dir: string): Array<ClipRow & { file: string }> {
  const csvPath = join(dir, 'clips.csv');
  const rows = parse(readFileSync(csvPath, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as unknown[];
  return rows.map((r, i) => {
    const p = ClipRow.safeParse(r);
    if (!p.success) throw new Error(`${csvPath}: row ${i + 2}: ${p.error.issues[0]!.path.join('.')}: ${p.error.issues[0]!.message}`);
    return { ...p.data, file: join(dir, p.data.label, p.data.clip) };
  });
}

const cacheDir = (): string => join(tmpdir(), 'sentinel-fight-cache');

/** Decodes a video to small grey frames at `fps` (cached). `maxSeconds` limits long videos. */
export async function smallFrames(file: string, fps: number, maxSeconds?: number): Promise<Uint8Array[]> {
  const st = statSync(file);
  const key = createHash('sha256')
    .update(`${file}|${st.size}|${fps}|${maxSeconds ?? ''}|${FEATURE_W}x${FEATURE_H}|v1`)
    .digest('hex')
    .slice(0, 24);
  const dir = cacheDir();
  const path = join(dir, `${key}.bin`);
  const n = FEATURE_W * FEATURE_H;
  if (existsSync(path)) {
    const buf = readFileSync(path);
    const out: Uint8Array[] = [];
    for (let o = 0; o + n <= buf.length; o += n) out.push(new Uint8Array(buf.subarray(o, o + n)));
    return out;
  }
  const src = await VideoSource.open(file, { fps, ...(maxSeconds !== undefined ? { maxSeconds } : {}) });
  const out: Uint8Array[] = [];
  for await (const f of src.frames()) out.push(downsample(toGrey(new Uint8Array(f.data), f.width, f.height), f.width, f.height));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, Buffer.concat(out.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength))));
  return out;
}

/** Every listed clip with its small frames, two decodes at a time (the machine has two cores). */
export async function loadClips(dir: string, fps: number, onProgress?: (done: number, total: number) => void): Promise<Clip[]> {
  const list = readClipList(dir);
  const out: Clip[] = new Array(list.length);
  let next = 0;
  let done = 0;
  const work = async (): Promise<void> => {
    while (next < list.length) {
      const i = next++;
      const row = list[i]!;
      out[i] = { ...row, frames: await smallFrames(row.file, fps) };
      onProgress?.(++done, list.length);
    }
  };
  await Promise.all([work(), work()]);
  return out;
}
