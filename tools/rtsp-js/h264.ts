/**
 * H.264 Annex-B parsing and RTP packetisation (RFC 6184), just what the demo RTSP server
 * needs: access units from an x264 elementary stream, the SPS/PPS for the SDP, and packets
 * of at most `mtu` bytes (single NAL unit packets, FU-A fragments above that).
 */

export interface AccessUnit {
  /** NAL units without start codes (AUDs dropped). */
  nals: Buffer[];
  /** Contains an IDR slice: a client may start here. */
  key: boolean;
}

/** Splits an Annex-B byte stream at its 3- or 4-byte start codes. */
export function splitNals(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  let i = 0;
  const n = data.length;
  while (i + 2 < n) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) {
        // A 4-byte start code's leading zero belongs to the code, not to the previous NAL.
        let end = i;
        while (end > start && data[end - 1] === 0) end--;
        if (end > start) out.push(data.subarray(start, end));
      }
      i += 3;
      start = i;
      continue;
    }
    i++;
  }
  if (start >= 0 && start < n) out.push(data.subarray(start));
  return out;
}

export const nalType = (nal: Buffer): number => (nal[0] ?? 0) & 0x1f;

/**
 * Groups NAL units into access units. x264 writes one slice per picture (no sliced
 * threads), so each picture is the non-VCL units before it (SPS, PPS, SEI) plus its slice.
 */
export function accessUnits(data: Buffer): { units: AccessUnit[]; sps: Buffer | null; pps: Buffer | null } {
  const units: AccessUnit[] = [];
  let pending: Buffer[] = [];
  let sps: Buffer | null = null;
  let pps: Buffer | null = null;
  for (const nal of splitNals(data)) {
    const t = nalType(nal);
    if (t === 9) continue; // access unit delimiter: RTP marks picture ends with the marker bit
    if (t === 7) sps ??= nal;
    if (t === 8) pps ??= nal;
    pending.push(nal);
    if (t === 1 || t === 5) {
      units.push({ nals: pending, key: t === 5 });
      pending = [];
    }
  }
  return { units, sps, pps };
}

/** RTP payloads (without the 12-byte header) of one access unit, each with its marker bit. */
export function packetize(au: AccessUnit, mtu = 1400): { payload: Buffer; marker: boolean }[] {
  const out: { payload: Buffer; marker: boolean }[] = [];
  au.nals.forEach((nal, idx) => {
    const lastNal = idx === au.nals.length - 1;
    if (nal.length <= mtu) {
      out.push({ payload: nal, marker: lastNal });
      return;
    }
    // FU-A: indicator keeps F and NRI with type 28; the header carries S/E and the NAL type.
    const indicator = (nal[0]! & 0xe0) | 28;
    const type = nal[0]! & 0x1f;
    const body = nal.subarray(1);
    const chunk = mtu - 2;
    for (let off = 0; off < body.length; off += chunk) {
      const first = off === 0;
      const last = off + chunk >= body.length;
      const header = (first ? 0x80 : 0) | (last ? 0x40 : 0) | type;
      out.push({ payload: Buffer.concat([Buffer.from([indicator, header]), body.subarray(off, off + chunk)]), marker: lastNal && last });
    }
  });
  return out;
}

/** The SDP fmtp parameters: profile-level-id from the SPS, sprop-parameter-sets in base64. */
export function fmtp(sps: Buffer, pps: Buffer): string {
  const pli = sps.subarray(1, 4).toString('hex');
  return `packetization-mode=1;profile-level-id=${pli};sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`;
}
