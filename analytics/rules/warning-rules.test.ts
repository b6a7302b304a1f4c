import { describe, expect, it } from 'vitest';
import type { Zone } from '../../contract/zones';
import { AnalyticsPipeline, type PipelineDetection } from '../pipeline/pipeline';
import type { RuleEvent } from './types';

// Synthetic tracks: frames of 400x300 at 5 fps through the real pipeline (tracker, zones, rules).
const W = 400;
const H = 300;
const STEP = 200;
type Box = [number, number, number, number];
const det = (box: Box, label = 'person', score = 0.9): PipelineDetection => ({ label, score, box });
/** A standing person: feet at (cx, feetY), h tall, 0.4 h wide. */
const standing = (cx: number, feetY: number, h = 80): PipelineDetection => det([cx - h / 5, feetY - h, cx + h / 5, feetY]);
/** A person lying on the floor: w wide, 0.35 w tall, resting on feetY. */
const lying = (cx: number, feetY: number, w = 80): PipelineDetection => det([cx - w / 2, feetY - w * 0.35, cx + w / 2, feetY]);
const bag = (cx: number, bottom: number, label = 'backpack'): PipelineDetection => det([cx - 8, bottom - 18, cx + 8, bottom], label, 0.6);

function run(zones: Zone[], frames: PipelineDetection[][]): Array<RuleEvent & { frame: number }> {
  const p = new AnalyticsPipeline(zones, { fight: 'off' });
  const out: Array<RuleEvent & { frame: number }> = [];
  frames.forEach((dets, i) => {
    for (const e of p.process({ t: i * STEP, width: W, height: H, bgr: null, detections: dets }).events) out.push({ ...e, frame: i });
  });
  return out;
}
const repeat = (n: number, f: (i: number) => PipelineDetection[]): PipelineDetection[][] => Array.from({ length: n }, (_, i) => f(i));
const types = (ev: RuleEvent[]): string[] => ev.map((e) => `${e.type}:${e.kind}`);
const right: Zone['polygon'] = [
  [0.5, 0],
  [1, 0],
  [1, 1],
  [0.5, 1],
];

describe('track intrusion', () => {
  const bed: Zone = { id: 'bed', kind: 'trackbed', polygon: right };

  it('raises as soon as a person is confirmed in the track bed, once for the zone, and clears 2 s after they leave', () => {
    const frames = [
      ...repeat(5, (i) => [standing(100 + i * 20, 250)]), // walking on the platform (left half)
      ...repeat(10, () => [standing(260, 250), standing(330, 250)]), // two people down on the tracks
      ...repeat(15, () => [standing(60, 250), standing(120, 250)]), // back on the platform
    ];
    const ev = run([bed], frames);
    expect(types(ev)).toEqual(['raise:intrusion', 'clear:intrusion']);
    // Both are new tracks down there (80 px from where the first was: no overlap), confirmed at frame 6.
    expect(ev[0]!.frame).toBe(6);
    expect(ev[0]!.score).toBe(1);
    expect(ev[1]!.trackIds.length).toBe(2);
    // Nobody inside from frame 15; people who vanish coast 600 ms, then 2 s to clear.
    expect(ev[1]!.frame).toBeGreaterThanOrEqual(25);
    expect(ev[1]!.frame).toBeLessThanOrEqual(28);
  });

  it('raises nothing for people who stay on the platform, and again only after the cooldown', () => {
    expect(
      run(
        [bed],
        repeat(50, (i) => [standing(40 + (i % 20) * 8, 250)]),
      ),
    ).toEqual([]);
    const z: Zone = { ...bed, rules: { cooldownS: 4 } };
    const inside = (n: number) => repeat(n, () => [standing(300, 250)]);
    const out = (n: number) => repeat(n, () => [standing(60, 250)]);
    const ev = run([z], [...inside(5), ...out(15), ...inside(5), ...out(30), ...inside(5)]);
    // in, out (clear), in again within the 4 s cooldown: nothing; out, in after it: raised again.
    expect(types(ev)).toEqual(['raise:intrusion', 'clear:intrusion', 'raise:intrusion']);
    expect(ev.filter((e) => e.type === 'raise').map((e) => e.frame)).toEqual([1, 56]);
  });
});

describe('loitering', () => {
  const edge: Zone = { id: 'edge', kind: 'loitering', polygon: right, rules: { loiterS: 10 } };

  it('raises when one person stays longer than loiterS, and clears 5 s after they leave', () => {
    const frames = [...repeat(70, (i) => [standing(300 + (i % 5) * 4, 250)]), ...repeat(40, () => [standing(60, 250)])];
    const ev = run([edge], frames);
    expect(types(ev)).toEqual(['raise:loitering', 'clear:loitering']);
    expect(ev[0]!.frame).toBe(51); // confirmed at frame 1, 10 s = 50 frames
    expect(ev[0]!.trackIds).toEqual([1]);
    expect(ev[1]!.detail.dwellS).toBeGreaterThanOrEqual(13);
    expect(ev[1]!.frame).toBeGreaterThanOrEqual(70 + 25);
  });

  it('does not add up people passing through one after another', () => {
    // A new person every 6 s, each inside for 5 s: the zone is never empty for long, nobody stays 10 s.
    const frames = repeat(150, (i) => {
      const k = i % 30;
      return k < 25 ? [standing(210 + k * 7, 250, 80 + (Math.floor(i / 30) % 2) * 10)] : [];
    });
    expect(run([edge], frames)).toEqual([]);
  });
});

describe('unattended object', () => {
  const hall: Zone = { id: 'hall', kind: 'unattended', rules: { unattendedS: 5 } };

  it('raises when a bag stays put with nobody within reach, names who left it, and clears when it is gone', () => {
    const frames = [
      ...repeat(10, (i) => [standing(100 + i * 4, 250), bag(118 + i * 4, 250)]), // carried
      ...repeat(5, () => [standing(140, 250), bag(170, 250)]), // put down beside them
      ...repeat(20, (i) => [standing(140 - i * 6, 250), bag(170, 250)]), // they walk away; bag stays
      ...repeat(30, () => [standing(20, 250), bag(170, 250)]),
      ...repeat(30, () => [standing(20, 250)]), // bag taken away
    ];
    const ev = run([hall], frames);
    expect(types(ev)).toEqual(['raise:unattended-object', 'clear:unattended-object']);
    expect(ev[0]!.trackIds).toEqual([1]);
    expect(ev[0]!.detail.object).toBe('backpack');
    // Out of reach (1.5 x 80 px) once the person's box is 120 px from the bag's centre: frame 33; 5 s later.
    expect(ev[0]!.frame).toBe(33 + 25);
    expect(ev[1]!.frame).toBe(64 + 25); // last seen at frame 64, gone 5 s later
    expect(ev[1]!.detail.endedBy).toBe('gone');
  });

  it('raises nothing for a bag its owner stands beside, a bag being carried, or an object that is not a bag', () => {
    expect(
      run(
        [hall],
        repeat(80, () => [standing(140, 250), bag(170, 250, 'suitcase')]),
      ),
    ).toEqual([]);
    expect(
      run(
        [hall],
        repeat(80, (i) => [standing(20 + i * 4, 250), bag(40 + i * 4, 250)]),
      ),
    ).toEqual([]);
    expect(
      run(
        [hall],
        repeat(80, () => [standing(20, 250), bag(300, 250, 'bottle')]),
      ),
    ).toEqual([]);
  });

  it('clears when someone comes back and stays beside the bag', () => {
    const frames = [
      ...repeat(50, () => [standing(20, 250), bag(300, 250, 'handbag')]),
      ...repeat(30, () => [standing(20, 250), standing(290, 250), bag(300, 250, 'handbag')]),
    ];
    const ev = run([hall], frames);
    expect(types(ev)).toEqual(['raise:unattended-object', 'clear:unattended-object']);
    expect(ev[1]!.detail.endedBy).toBe('collected');
  });
});

describe('person down', () => {
  const floor: Zone = { id: 'floor', kind: 'person-down', rules: { downS: 3 } };

  it('raises when a standing person falls and stays still, and clears when they get up', () => {
    const fall = [standing(200, 250), det([170, 190, 230, 250]), det([160, 215, 240, 250])]; // upright, crouching, down
    const frames = [
      ...repeat(10, () => [standing(200, 250)]),
      ...fall.map((d) => [d]),
      ...repeat(25, () => [lying(200, 250)]),
      ...repeat(10, () => [standing(200, 250)]),
    ];
    const ev = run([floor], frames);
    expect(types(ev)).toEqual(['raise:person-down', 'clear:person-down']);
    // Lying from frame 12 (the first box wider than tall); 3 s = 15 frames still.
    expect(ev[0]!.frame).toBeGreaterThanOrEqual(12 + 15);
    expect(ev[0]!.frame).toBeLessThanOrEqual(12 + 16);
    expect(ev[1]!.frame).toBe(38);
  });

  it('follows a fall that changes the box so much that the tracker starts a new track', () => {
    const frames = [...repeat(10, () => [standing(200, 250, 100)]), ...repeat(30, () => [lying(225, 250, 110)])];
    const ev = run([floor], frames);
    expect(types(ev)).toEqual(['raise:person-down']);
  });

  it('raises nothing for someone lying from the start, a person who sits down, or one who lies and rolls about', () => {
    expect(
      run(
        [floor],
        repeat(40, () => [lying(200, 250)]),
      ),
    ).toEqual([]);
    const sits = [...repeat(10, () => [standing(200, 250)]), ...repeat(30, () => [det([175, 200, 225, 250])])];
    expect(run([floor], sits)).toEqual([]);
    const rolls = [...repeat(10, () => [standing(200, 250)]), ...repeat(30, (i) => [lying(200 + (i % 2 ? 40 : -40), 250)])];
    expect(run([floor], rolls)).toEqual([]);
  });
});

describe('crowd surge', () => {
  const stair: Zone = { id: 'stair', kind: 'surge', rules: { surgeRise: 6, surgeWindowS: 10 } };
  // People in a grid that never overlap: up to 24 at 50 px spacing.
  const people = (n: number): PipelineDetection[] =>
    Array.from({ length: n }, (_, k) => standing(25 + (k % 8) * 50, 100 + Math.floor(k / 8) * 90, 60));

  it('raises when occupancy rises by surgeRise within the window, and clears once it levels off', () => {
    // 2 people for 5 s, then one more every 0.8 s up to 14, then level for 30 s.
    const frames = [
      ...repeat(25, () => people(2)),
      ...repeat(60, (i) => people(Math.min(14, 2 + Math.floor(i / 4)))),
      ...repeat(150, () => people(14)),
    ];
    const ev = run([stair], frames);
    expect(types(ev)).toEqual(['raise:crowd-surge', 'clear:crowd-surge']);
    expect(ev[0]!.detail.threshold).toBe(6);
    expect(ev[1]!.detail.rise as number).toBeGreaterThanOrEqual(10);
  });

  it('raises nothing for a slow fill, a full zone from the start, or a one-frame burst of detections', () => {
    expect(
      run(
        [stair],
        repeat(200, (i) => people(Math.min(20, Math.floor(i / 25)))),
      ),
    ).toEqual([]); // one person every 5 s
    expect(
      run(
        [stair],
        repeat(100, () => people(20)),
      ),
    ).toEqual([]);
    expect(
      run(
        [stair],
        repeat(100, (i) => people(i % 10 === 5 ? 16 : 3)),
      ),
    ).toEqual([]);
  });
});

describe('zone kinds', () => {
  it('each new kind runs its rule and no other', () => {
    const kinds = ['trackbed', 'loitering', 'unattended', 'person-down', 'surge'] as const;
    for (const kind of kinds) {
      const p = new AnalyticsPipeline([{ id: 'z', kind }], { fight: 'off' });
      expect((p as unknown as { rules: Array<{ kind: string }> }).rules.map((r) => r.kind)).toEqual([
        {
          trackbed: 'intrusion',
          loitering: 'loitering',
          unattended: 'unattended-object',
          'person-down': 'person-down',
          surge: 'crowd-surge',
        }[kind],
      ]);
    }
  });
});

describe('documented defaults', () => {
  it('the zone editor shows the defaults the rules apply', async () => {
    const { ZONE_RULE_OPTIONS } = await import('../../contract/zones');
    const { CROWDING_DEFAULTS } = await import('./crowding');
    const { BARRIER_DEFAULTS } = await import('./barrier');
    const { INTRUSION_DEFAULTS } = await import('./intrusion');
    const { LOITERING_DEFAULTS } = await import('./loitering');
    const { UNATTENDED_DEFAULTS } = await import('./unattended');
    const { PERSON_DOWN_DEFAULTS } = await import('./person-down');
    const { SURGE_DEFAULTS } = await import('./surge');
    const { FIGHT_DEFAULTS } = await import('./fight');
    const rules: Record<string, Record<string, number | boolean>> = {
      crowding: CROWDING_DEFAULTS,
      operator: { ...BARRIER_DEFAULTS, onlyWhileMoving: false },
      watch: FIGHT_DEFAULTS,
      trackbed: INTRUSION_DEFAULTS,
      loitering: LOITERING_DEFAULTS,
      unattended: UNATTENDED_DEFAULTS,
      'person-down': PERSON_DOWN_DEFAULTS,
      surge: SURGE_DEFAULTS,
    };
    for (const [kind, options] of Object.entries(ZONE_RULE_OPTIONS))
      for (const o of options) expect({ kind, key: o.key, value: rules[kind]![o.key] }).toEqual({ kind, key: o.key, value: o.default });
  });
});
