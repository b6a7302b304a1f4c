import { describe, expect, it } from 'vitest';
import { makeFrame, type IngestFrame } from './frame-pool';
import { FrameSlot } from './frame-slot';

const frame = (seq: number): IngestFrame =>
  makeFrame({ cameraId: 'c', width: 2, height: 1, data: new Uint8Array([seq, 0, 0, 0, 0, 0]).buffer, ts: seq, seq });

describe('FrameSlot', () => {
  it('delivers only the newest frame when several arrive in one turn, counting the rest as dropped', async () => {
    const slot = new FrameSlot();
    const got: number[] = [];
    slot.subscribe((f) => got.push(f.seq));
    slot.put(frame(1));
    slot.put(frame(2));
    slot.put(frame(3));
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([3]);
    expect(slot.dropped).toBe(2);
    expect(slot.delivered).toBe(1);
    expect(slot.latest()?.seq).toBe(3);
  });

  it('gives every listener and waiter a reference of its own to the same read-only pixels', async () => {
    const slot = new FrameSlot();
    const a: IngestFrame[] = [];
    const b: IngestFrame[] = [];
    slot.subscribe((f) => a.push(f));
    slot.subscribe((f) => b.push(f));
    const next = slot.next();
    slot.put(frame(7));
    const n = await next;
    expect(a[0]).not.toBe(b[0]);
    expect(n).not.toBe(a[0]);
    expect(new Uint8Array(b[0]!.data)[0]).toBe(7);
    expect(n.data).toBe(a[0]!.data);
  });
});
