import { describe, expect, it } from 'vitest';
import { accessUnits, fmtp, packetize, splitNals } from './h264';

const sc4 = Buffer.from([0, 0, 0, 1]);
const sc3 = Buffer.from([0, 0, 1]);
const sps = Buffer.from([0x67, 0x4d, 0x40, 0x1e, 0xaa]);
const pps = Buffer.from([0x68, 0xee, 0x3c, 0x80]);
const idr = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(3000, 7)]);
const p1 = Buffer.from([0x41, 1, 2, 3]);

describe('H.264 Annex-B for RTP', () => {
  it('splits at 3- and 4-byte start codes and groups pictures with their parameter sets', () => {
    const stream = Buffer.concat([sc4, Buffer.from([0x09, 0xf0]), sc4, sps, sc4, pps, sc3, idr, sc4, p1]);
    expect(splitNals(stream).map((n) => n[0])).toEqual([0x09, 0x67, 0x68, 0x65, 0x41]);
    const { units, sps: s, pps: p } = accessUnits(stream);
    expect(s).toEqual(sps);
    expect(p).toEqual(pps);
    expect(units.map((u) => [u.key, u.nals.length])).toEqual([
      [true, 3],
      [false, 1],
    ]);
  });

  it('fragments large NAL units as FU-A, marking only the last packet of a picture', () => {
    const pk = packetize({ nals: [sps, pps, idr], key: true }, 1400);
    expect(pk.map((p) => p.marker)).toEqual([false, false, false, false, true]);
    const fus = pk.slice(2);
    expect(fus.every((p) => (p.payload[0]! & 0x1f) === 28 && p.payload.length <= 1400)).toBe(true);
    expect(fus.map((p) => p.payload[1]! & 0xc0)).toEqual([0x80, 0, 0x40]);
    // Reassembled, the fragments give back the NAL unit.
    const body = Buffer.concat(fus.map((p) => p.payload.subarray(2)));
    expect(Buffer.concat([Buffer.from([(fus[0]!.payload[0]! & 0xe0) | (fus[0]!.payload[1]! & 0x1f)]), body])).toEqual(idr);
    expect(fmtp(sps, pps)).toBe(
      `packetization-mode=1;profile-level-id=4d401e;sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`,
    );
  });
});
