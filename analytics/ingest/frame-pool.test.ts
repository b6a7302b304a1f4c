import { describe, expect, it } from 'vitest';
import { FramePool, makeFrame, type IngestFrame } from './frame-pool';
import { FrameSlot } from './frame-slot';

const BYTES = 6;

/** A frame filled the way the supervisor fills one: every byte = seq. */
function fill(pool: FramePool, seq: number): IngestFrame {
  const data = pool.acquire();
  new Uint8Array(data).fill(seq);
  return makeFrame({ cameraId: 'c', width: 2, height: 1, data, ts: seq * 200, seq }, pool);
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('FramePool', () => {
  it('hands a buffer out again once its frame is released', () => {
    const pool = new FramePool(BYTES);
    const a = fill(pool, 1);
    const buf = a.data;
    a.release();
    const b = fill(pool, 2);
    expect(b.data).toBe(buf);
    expect(pool.stats()).toMatchObject({ allocated: 1, reused: 1, inUse: 1 });
  });

  it('never hands out a buffer while any holder still has a reference', () => {
    const pool = new FramePool(BYTES);
    const a = fill(pool, 1);
    const other = a.retain();
    a.release();
    // Releasing the same reference again must not take away the other holder's.
    a.release();
    const b = fill(pool, 2);
    expect(b.data).not.toBe(other.data);
    expect([...new Uint8Array(other.data)]).toEqual([1, 1, 1, 1, 1, 1]);
    other.release();
    expect(fill(pool, 3).data).toBe(a.data);
  });

  it('refuses to retain a released reference', () => {
    const pool = new FramePool(BYTES);
    const a = fill(pool, 1);
    a.release();
    expect(() => a.retain()).toThrow(/retained after it was released/);
  });

  it('keeps at most `keep` idle buffers and counts the ones it lets go', () => {
    const pool = new FramePool(BYTES, 2);
    const frames = [1, 2, 3, 4, 5].map((s) => fill(pool, s));
    for (const f of frames) f.release();
    expect(pool.stats()).toEqual({ allocated: 5, reused: 0, inUse: 0, free: 2, discarded: 3 });
  });

  it('allocates (and counts) fresh buffers for a consumer that never releases, and never overwrites what it holds', () => {
    const pool = new FramePool(BYTES);
    const hoarded: IngestFrame[] = [];
    for (let seq = 1; seq <= 50; seq++) hoarded.push(fill(pool, seq));
    // Then a well-behaved stretch: the pool warms up and stops allocating.
    for (let seq = 51; seq <= 100; seq++) fill(pool, seq).release();
    expect(pool.stats()).toMatchObject({ allocated: 51, reused: 49, inUse: 50 });
    for (const f of hoarded) expect(new Uint8Array(f.data).every((v) => v === f.seq)).toBe(true);
  });

  it('never reuses a buffer that came back detached (transferred against the rule) or of another size', () => {
    const pool = new FramePool(BYTES);
    const a = fill(pool, 1);
    structuredClone(a.data, { transfer: [a.data] });
    expect(a.data.byteLength).toBe(0);
    a.release();
    pool.give(new ArrayBuffer(BYTES + 3));
    const b = fill(pool, 2);
    expect(b.data.byteLength).toBe(BYTES);
    expect(pool.stats()).toMatchObject({ allocated: 2, reused: 0, discarded: 2 });
  });

  it('rejects a nonsensical buffer size with a clear error', () => {
    expect(() => new FramePool(0)).toThrow(/positive integer/);
  });
});

describe('FrameSlot with pooled frames', () => {
  it('gives each listener a reference of its own; the buffer returns only after every holder and the slot let go', async () => {
    const pool = new FramePool(BYTES);
    const slot = new FrameSlot();
    const a: IngestFrame[] = [];
    const b: IngestFrame[] = [];
    slot.subscribe((f) => a.push(f));
    slot.subscribe((f) => b.push(f));
    const first = fill(pool, 1);
    const buf = first.data;
    slot.put(first);
    await turn();
    expect(a[0]?.data).toBe(buf);
    expect(b[0]?.data).toBe(buf);
    a[0]!.release();
    b[0]!.release();
    // The slot still holds it as its newest frame (snapshots read latest()).
    expect(slot.latest()?.data).toBe(buf);
    const second = fill(pool, 2);
    expect(second.data).not.toBe(buf);
    slot.put(second);
    // Now nobody holds frame 1: its buffer is the next one handed out.
    expect(fill(pool, 3).data).toBe(buf);
  });

  it('returns the buffers of frames superseded before delivery', async () => {
    const pool = new FramePool(BYTES);
    const slot = new FrameSlot();
    const got: IngestFrame[] = [];
    slot.subscribe((f) => got.push(f));
    for (let seq = 1; seq <= 5; seq++) slot.put(fill(pool, seq));
    await turn();
    expect(got.map((f) => f.seq)).toEqual([5]);
    expect(slot.dropped).toBe(4);
    got[0]!.release();
    // A superseded frame's buffer is free as soon as the next one replaces it, so five frames
    // in one turn take two buffers; only frame 5 is still held (by the slot, as latest).
    expect(pool.stats()).toMatchObject({ allocated: 2, reused: 3, inUse: 1, free: 1 });
  });
});
