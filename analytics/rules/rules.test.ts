import { describe, expect, it } from 'vitest';
import type { Zone } from '../../contract/zones';
import { AnalyticsPipeline, type PipelineDetection, type PipelineOptions } from '../pipeline/pipeline';
import type { RuleEvent } from './types';

// Frames of 400x300 at 5 fps; boxes in pixels. The pipeline runs the real tracker, zones and rules.
const W = 400;
const H = 300;
const person = (cx: number, feetY: number, h = 80, score = 0.9): PipelineDetection => ({
  label: 'person',
  score,
  box: [cx - h / 5, feetY - h, cx + h / 5, feetY],
});

function run(
  zones: Zone[],
  frames: Array<{ dets: PipelineDetection[]; speedKmh?: number | null; bgr?: Uint8Array }>,
  stepMs = 200,
  opts: PipelineOptions = {},
): Array<RuleEvent & { frame: number }> {
  const p = new AnalyticsPipeline(zones, opts);
  const out: Array<RuleEvent & { frame: number }> = [];
  frames.forEach((f, i) => {
    for (const e of p.process({ t: i * stepMs, width: W, height: H, bgr: f.bgr ?? null, detections: f.dets, speedKmh: f.speedKmh ?? null })
      .events)
      out.push({ ...e, frame: i });
  });
  return out;
}

const left: Zone = {
  id: 'left',
  kind: 'crowding',
  capacity: 5,
  polygon: [
    [0, 0],
    [0.5, 0],
    [0.5, 1],
    [0, 1],
  ],
  rules: { holdS: 2, cooldownS: 4 },
};
const crowd = (n: number): PipelineDetection[] => Array.from({ length: n }, (_, k) => person(20 + k * 30, 150 + (k % 3) * 50));

describe('crowding rule', () => {
  it('raises after the hold time at capacity, clears only below 80 % for the hold time, then cools down', () => {
    const frames = [
      ...Array.from({ length: 20 }, () => ({ dets: crowd(6) })), // 4 s at 6 >= 5
      ...Array.from({ length: 15 }, () => ({ dets: crowd(4) })), // 4 is not < 4 (80 % of 5): stays raised
      ...Array.from({ length: 15 }, () => ({ dets: crowd(2) })), // 3 s below: clears after 2 s
      ...Array.from({ length: 15 }, () => ({ dets: crowd(6) })), // back over at once: still cooling down
    ];
    const ev = run([left], frames);
    expect(ev.map((e) => [e.type, e.frame])).toEqual([
      ['raise', 11], // tracks confirmed at frame 1, then 2 s (10 frames) at capacity
      // Below 4 from frame 35, but the people who left coast for 600 ms (3 frames) in case
      // they were only hidden: below from frame 38, cleared 2 s (10 frames) later.
      ['clear', 48],
    ]);
    expect(ev[0]!.detail).toMatchObject({ people: 6, capacity: 5 });
  });

  it('does not raise for a crowd shorter than the hold time, or in a zone nobody enters', () => {
    const short = [...Array.from({ length: 8 }, () => ({ dets: crowd(6) })), ...Array.from({ length: 20 }, () => ({ dets: crowd(2) }))];
    expect(run([left], short)).toEqual([]);
    const empty: Zone = {
      id: 'right',
      kind: 'crowding',
      capacity: 1,
      polygon: [
        [0.6, 0],
        [1, 0],
        [1, 1],
        [0.6, 1],
      ],
      rules: { holdS: 0 },
    };
    expect(
      run(
        [empty],
        Array.from({ length: 30 }, () => ({ dets: crowd(6) })),
      ),
    ).toEqual([]);
  });
});

const cab: Zone = {
  id: 'cab',
  kind: 'operator',
  polygon: [
    [0.5, 0.5],
    [1, 0.5],
    [1, 1],
    [0.5, 1],
  ],
  exclude: [
    [
      [0.85, 0.5],
      [1, 0.5],
      [1, 1],
      [0.85, 1],
    ],
  ],
  rules: { cooldownS: 5 },
};

describe('operator-barrier rule', () => {
  it('raises one alert when a person stays in the zone past the dwell time, not one per frame', () => {
    const frames = [
      ...Array.from({ length: 8 }, (_, i) => ({ dets: [person(110 + i * 20, 250)] })),
      ...Array.from({ length: 30 }, () => ({ dets: [person(260, 250)] })),
    ];
    const ev = run([cab], frames);
    expect(ev.map((e) => e.type)).toEqual(['raise']);
    // Crosses x = 200 (the zone's edge) at frame 5 (t = 1 s); 1.5 s later is t = 2.5 s, frame 13.
    expect(ev[0]!.frame).toBe(13);
    expect(ev[0]!.trackIds).toEqual([1]);
  });

  it('ignores a walk-through shorter than the dwell time and the operator in the excluded seat', () => {
    const through = Array.from({ length: 20 }, (_, i) => ({ dets: [person(150 + i * 20, 250)] })); // inside for 6 frames (1.2 s)
    expect(run([cab], through)).toEqual([]);
    const seated = Array.from({ length: 40 }, () => ({ dets: [person(370, 250)] }));
    expect(run([cab], seated)).toEqual([]);
  });

  it('clears when the zone is empty, and the cooldown stops a repeat until it has passed', () => {
    const inside = (n: number) => Array.from({ length: n }, () => ({ dets: [person(260, 250)] }));
    const outside = (n: number) => Array.from({ length: n }, () => ({ dets: [person(60, 250)] }));
    // In 3 s, out 3 s (clears after 2 s), in again 3 s within the 5 s cooldown, out 6 s, in 3 s.
    const ev = run([cab], [...inside(15), ...outside(15), ...inside(15), ...outside(30), ...inside(15)]);
    expect(ev.map((e) => e.type)).toEqual(['raise', 'clear', 'raise']);
    expect(ev[2]!.frame).toBeGreaterThan(75);
  });

  it('with onlyWhileMoving, a breach on a stopped bus raises nothing; unknown speed still raises', () => {
    const z: Zone = { ...cab, rules: { onlyWhileMoving: true } };
    const stopped = Array.from({ length: 20 }, () => ({ dets: [person(260, 250)], speedKmh: 0 }));
    expect(run([z], stopped)).toEqual([]);
    const moving = Array.from({ length: 20 }, () => ({ dets: [person(260, 250)], speedKmh: 30 }));
    expect(run([z], moving).map((e) => e.type)).toEqual(['raise']);
    const unknown = Array.from({ length: 20 }, () => ({ dets: [person(260, 250)], speedKmh: null }));
    expect(run([z], unknown).map((e) => e.type)).toEqual(['raise']);
  });

  it('says in the alert whether the vehicle was moving: yes, no, or unknown when its feed gives no speed', () => {
    const at = (speedKmh: number | null) =>
      run(
        [cab],
        Array.from({ length: 20 }, () => ({ dets: [person(260, 250)], speedKmh })),
      )[0]!.detail;
    expect(at(30)).toMatchObject({ vehicleMoving: true, vehicleSpeedKmh: 30 });
    expect(at(0)).toMatchObject({ vehicleMoving: false, vehicleSpeedKmh: 0 });
    expect(at(null)).toMatchObject({ vehicleMoving: null, vehicleSpeedKmh: null });
  });
});

/** A frame of flat grey with seeded noise inside a box (people moving hard churn their pixels). */
function frameWithNoise(seed: number, noiseBox: [number, number, number, number] | null): Uint8Array {
  const buf = new Uint8Array(W * H * 3).fill(90);
  if (!noiseBox) return buf;
  let s = seed * 2654435761;
  for (let y = noiseBox[1]; y < noiseBox[3]; y++) {
    for (let x = noiseBox[0]; x < noiseBox[2]; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const v = s >>> 24;
      const o = (y * W + x) * 3;
      buf[o] = v;
      buf[o + 1] = v;
      buf[o + 2] = v;
    }
  }
  return buf;
}

const watch: Zone = { id: 'all', kind: 'watch' };

describe('fight rule (the older motion heuristic, fight: heuristic)', () => {
  it('fires on two people close together shoving back and forth with their pixels churning', () => {
    // The constructed scenario: two people 30 px apart (80 px tall) whose boxes jerk by 16 px
    // sideways and 8 px up/down, reversing every frame (shoving), while the pixels of their
    // union box change completely each frame.
    const frames = Array.from({ length: 20 }, (_, i) => {
      const j = i % 2 === 0 ? 8 : -8;
      return { dets: [person(185 + j, 220 + j / 2), person(215 - j, 220 - j / 2)], bgr: frameWithNoise(i + 1, [140, 120, 260, 250]) };
    });
    const ev = run([watch], frames, 200, { fight: 'heuristic' });
    expect(ev.filter((e) => e.type === 'raise').map((e) => e.kind)).toEqual(['fight']);
    const raise = ev.find((e) => e.type === 'raise')!;
    expect(raise.score).toBeGreaterThanOrEqual(0.5);
    expect(raise.trackIds.sort()).toEqual([1, 2]);
    expect(raise.detail.label).toBe('possible fight');
  });

  it('raises nothing for the same pair walking side by side, even with moving pixels', () => {
    const frames = Array.from({ length: 30 }, (_, i) => ({
      dets: [person(60 + i * 8, 220), person(100 + i * 8, 222)],
      bgr: frameWithNoise(i + 1, [40 + i * 8, 130, 130 + i * 8, 230]),
    }));
    expect(run([watch], frames, 200, { fight: 'heuristic' })).toEqual([]);
  });

  it('raises nothing for people jerking far apart from each other', () => {
    const frames = Array.from({ length: 20 }, (_, i) => {
      const j = i % 2 === 0 ? 20 : -20;
      return { dets: [person(60 + j, 220), person(340 - j, 220)], bgr: frameWithNoise(i + 1, [0, 100, 400, 250]) };
    });
    expect(run([watch], frames, 200, { fight: 'heuristic' })).toEqual([]);
  });
});
