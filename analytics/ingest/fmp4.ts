/**
 * Just enough of ISO BMFF (fragmented MP4) to restream a camera: cut ffmpeg's pipe into
 * top-level boxes, take ftyp+moov as the init segment, pair each moof with its mdat, tell
 * keyframe fragments apart, and read the codec string and picture size from the init.
 *
 * Hand-written rather than a kept library (mp4box.js, mux.js) because we need four fields
 * from boxes ffmpeg itself wrote, on a hot path, and those libraries parse whole files into
 * object trees; this is ~100 lines with no copies beyond the box itself.
 */

export interface InitInfo {
  /** RFC 6381 codec string for MediaSource.isTypeSupported / addSourceBuffer (avc1.PPCCLL). */
  codec: string;
  /** Sample entry four-cc: avc1, hvc1, hev1, ... */
  format: string;
  width: number;
  height: number;
  timescale: number;
}

/** Cuts a byte stream into whole top-level boxes. */
export class BoxReader {
  private buf: Buffer = Buffer.alloc(0);

  /** Feeds a chunk; returns the complete boxes it finished (type, whole box bytes). */
  push(chunk: Buffer): Array<{ type: string; data: Buffer }> {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Array<{ type: string; data: Buffer }> = [];
    let off = 0;
    while (this.buf.length - off >= 8) {
      let size = this.buf.readUInt32BE(off);
      const type = this.buf.toString('latin1', off + 4, off + 8);
      let header = 8;
      if (size === 1) {
        if (this.buf.length - off < 16) break;
        size = Number(this.buf.readBigUInt64BE(off + 8));
        header = 16;
      }
      if (size < header || size > 256 * 1024 * 1024) throw new Error(`bad MP4 box "${type}" of size ${size} at byte ${off}`);
      if (this.buf.length - off < size) break;
      out.push({ type, data: this.buf.subarray(off, off + size) });
      off += size;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(off));
    return out;
  }
}

/** Child boxes of a container box's payload [start, end). */
function* children(b: Buffer, start: number, end: number): Generator<{ type: string; start: number; end: number }> {
  let off = start;
  while (off + 8 <= end) {
    const size = b.readUInt32BE(off);
    const type = b.toString('latin1', off + 4, off + 8);
    if (size < 8 || off + size > end) return;
    yield { type, start: off + 8, end: off + size };
    off += size;
  }
}

function find(b: Buffer, start: number, end: number, path: string[]): { start: number; end: number } | null {
  let range = { start, end };
  for (const p of path) {
    let hit: { start: number; end: number } | null = null;
    for (const c of children(b, range.start, range.end)) {
      if (c.type === p) {
        hit = c;
        break;
      }
    }
    if (!hit) return null;
    range = hit;
  }
  return range;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0').toUpperCase();

/** Codec, size and timescale of the first video track of an init segment (ftyp+moov). */
export function parseInit(init: Buffer): InitInfo | null {
  let moov: { start: number; end: number } | null = null;
  for (const c of children(init, 0, init.length)) if (c.type === 'moov') moov = c;
  if (!moov) return null;
  const trak = find(init, moov.start, moov.end, ['trak']);
  if (!trak) return null;
  const mdhd = find(init, trak.start, trak.end, ['mdia', 'mdhd']);
  const stsd = find(init, trak.start, trak.end, ['mdia', 'minf', 'stbl', 'stsd']);
  if (!mdhd || !stsd) return null;
  const timescale = init.readUInt8(mdhd.start) === 1 ? init.readUInt32BE(mdhd.start + 20) : init.readUInt32BE(mdhd.start + 12);
  // stsd: version/flags (4), entry count (4), then the first sample entry box.
  const entryOff = stsd.start + 8;
  const format = init.toString('latin1', entryOff + 4, entryOff + 8);
  // Visual sample entry: 8 header, 6 reserved, 2 data ref, 16 pre-defined/reserved, then width, height.
  const width = init.readUInt16BE(entryOff + 32);
  const height = init.readUInt16BE(entryOff + 34);
  let codec = format;
  const entryEnd = entryOff + init.readUInt32BE(entryOff);
  // The codec configuration box follows the 78-byte visual sample entry header.
  for (const c of children(init, entryOff + 86, entryEnd)) {
    if (c.type === 'avcC') codec = `${format}.${hex2(init[c.start + 1]!)}${hex2(init[c.start + 2]!)}${hex2(init[c.start + 3]!)}`;
  }
  return { codec, format, width, height, timescale };
}

export interface FragmentInfo {
  /** The fragment starts with a sync sample (a new viewer or decoder can start here). */
  key: boolean;
  /** Base media decode time (in the track's timescale). */
  decodeTime: number;
  samples: number;
}

/** Reads a moof: keyframe?, decode time, sample count. */
export function parseMoof(moof: Buffer): FragmentInfo {
  const traf = find(moof, 8, moof.length, ['traf']);
  const info: FragmentInfo = { key: false, decodeTime: 0, samples: 0 };
  if (!traf) return info;
  let defaultFlags = 0;
  for (const c of children(moof, traf.start, traf.end)) {
    if (c.type === 'tfhd') {
      const flags = moof.readUInt32BE(c.start) & 0xffffff;
      let off = c.start + 8;
      if (flags & 0x1) off += 8;
      if (flags & 0x2) off += 4;
      if (flags & 0x8) off += 4;
      if (flags & 0x10) off += 4;
      if (flags & 0x20) defaultFlags = moof.readUInt32BE(off);
    } else if (c.type === 'tfdt') {
      info.decodeTime = moof.readUInt8(c.start) === 1 ? Number(moof.readBigUInt64BE(c.start + 4)) : moof.readUInt32BE(c.start + 4);
    } else if (c.type === 'trun') {
      const flags = moof.readUInt32BE(c.start) & 0xffffff;
      info.samples = moof.readUInt32BE(c.start + 4);
      let off = c.start + 8;
      if (flags & 0x1) off += 4;
      let first = defaultFlags;
      if (flags & 0x4) first = moof.readUInt32BE(off);
      else if (flags & 0x400) {
        // Per-sample flags: the first sample's follow its duration and size, if present.
        let s = off;
        if (flags & 0x100) s += 4;
        if (flags & 0x200) s += 4;
        first = moof.readUInt32BE(s);
      }
      // sample_is_non_sync_sample is bit 16 of the sample flags.
      info.key = (first & 0x10000) === 0;
    }
  }
  return info;
}
