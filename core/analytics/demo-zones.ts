import type { Zone } from '../../contract/zones';

/**
 * Zones for the demo cameras (`sentinel serve --demo`), keyed by simulator stream name, drawn
 * on the looped shared footage so that the demo raises real alerts from real detections:
 * measured with `sentinel analyze` on each file (docs/analytics.md).
 */
/**
 * The patch of floor in worker-zone-detection.gif that the worker walks into (normalised
 * corners); the demo, the benchmarks and the tests that need a real operator-zone alert use it.
 */
export const WORKER_FLOOR_PATCH: Array<[number, number]> = [
  [0.15, 0.7],
  [0.45, 0.7],
  [0.45, 0.9],
  [0.15, 0.9],
];

export const DEMO_ZONES: Record<string, Zone[]> = {
  // vtest.avi: the far walkway holds 5-7 people from about 8 s to 30 s of each loop.
  'station-platform': [
    {
      id: 'walkway',
      name: 'Far walkway',
      kind: 'crowding',
      capacity: 5,
      polygon: [
        [0, 0],
        [1, 0],
        [1, 0.45],
        [0, 0.45],
      ],
    },
    { id: 'platform', name: 'Whole platform', kind: 'watch' },
  ],
  // worker-zone-detection.gif: the worker walks into this patch of floor and stops there.
  'bus-operator-cab': [
    {
      id: 'operator',
      name: 'Operator area',
      kind: 'operator',
      polygon: WORKER_FLOOR_PATCH,
    },
  ],
  // classroom.gif: four people seated; a railcar section holding 4 is "full".
  'railcar-interior': [{ id: 'car', name: 'Car section', kind: 'crowding', capacity: 4, rules: { holdS: 5 } }],
  // one-by-one-person-detection.mp4: a person at a time walks in; a one-person vestibule.
  'station-entrance': [{ id: 'vestibule', name: 'Vestibule', kind: 'crowding', capacity: 1, rules: { holdS: 5 } }],
};
