import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { SentinelError } from '../../common/errors';

export interface BgrImage {
  width: number;
  height: number;
  /** BGR24, a fresh ArrayBuffer of exactly width * height * 3 bytes (safe to transfer). */
  data: ArrayBuffer;
}

/**
 * Decodes a PNG or JPEG file into BGR24 (the pool's frame format). Alpha is flattened onto
 * black, greyscale is expanded to three channels. A file that is not an image is a
 * SentinelError naming the file.
 */
export async function decodeImageFile(file: string): Promise<BgrImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new SentinelError(`cannot read image ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'not_found', 'image');
  }
  return decodeImage(bytes, file);
}

export async function decodeImage(bytes: Uint8Array, source: string): Promise<BgrImage> {
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    const img = sharp(bytes, { failOn: 'error' });
    const meta = await img.metadata();
    if (meta.format !== 'png' && meta.format !== 'jpeg') {
      throw new SentinelError(
        `${source} is a ${meta.format ?? 'unknown'} image; sentinel detect reads PNG or JPEG`,
        'bad_request',
        'image',
      );
    }
    raw = await img.flatten({ background: '#000000' }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    if (err instanceof SentinelError) throw err;
    throw new SentinelError(`${source} is not a readable PNG or JPEG image (${(err as Error).message})`, 'bad_request', 'image');
  }
  const { width, height, channels } = raw.info;
  if (channels !== 3) throw new SentinelError(`${source}: decoded to ${channels} channels, expected 3`, 'bad_request', 'image');
  const out = new Uint8Array(width * height * 3);
  const src = raw.data;
  for (let i = 0; i < out.length; i += 3) {
    out[i] = src[i + 2] ?? 0;
    out[i + 1] = src[i + 1] ?? 0;
    out[i + 2] = src[i] ?? 0;
  }
  return { width, height, data: out.buffer };
}
