import { describe, expect, it } from 'vitest';
import { GeoData } from '../geo/geodata';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOCATION_CASES } from './location.fixtures';
import { editDistance, indexStations, parseLocation } from './location';

const ASSETS = process.env.SENTINEL_ASSETS ?? join(process.cwd(), '..', 'shared', 'assets');
const haveGeo = existsSync(join(ASSETS, 'chicago/geo/cta_l_stations.geojson'));

describe('edit distance', () => {
  it('counts a transposition as one slip and stops early past the cut-off', () => {
    expect(editDistance('belmnot', 'belmont')).toBe(1);
    expect(editDistance('fullerten', 'fullerton')).toBe(1);
    expect(editDistance('abcdef', 'uvwxyz', 2)).toBe(3);
  });
});

describe.skipIf(!haveGeo)('location parsing on the committed table of rider texts', () => {
  if (!haveGeo) return;
  const index = indexStations(new GeoData(ASSETS).stations);
  it(`has at least 40 cases`, () => expect(LOCATION_CASES.length).toBeGreaterThanOrEqual(40));
  it.each(LOCATION_CASES)('$text', ({ text, expect: want }) => {
    const got = parseLocation(text, index);
    for (const [k, v] of Object.entries(want)) expect({ [k]: got[k as keyof typeof got] }).toEqual({ [k]: v });
  });
  it('lists the other stations of the same name for the operator', () => {
    const got = parseLocation('belmont', index);
    expect(got.alternatives.map((a) => a.id)).toEqual(['40060']);
  });
});
