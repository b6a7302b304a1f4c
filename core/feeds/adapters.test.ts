import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vehicle } from '../../contract';
import { discoverAssetsDir } from '../config';
import { parseBusTracker, parseBusTrackerText } from './bus-tracker';
import { chicagoLocalToUtc } from './chicago-time';
import { encodeGtfsRt, parseGtfsRt } from './gtfs-rt';
import { parseTrainTracker, parseTrainTrackerText } from './train-tracker';
import { FeedFormatError } from './values';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const samples = assets ? join(assets, 'fixtures', 'cta-api', 'doc-samples') : null;
const haveSamples = samples !== null && existsSync(samples);
const sample = (name: string): string => readFileSync(join(samples as string, name), 'utf8');

describe('chicagoLocalToUtc', () => {
  it('converts both CTA layouts, in summer (CDT) and winter (CST)', () => {
    expect(chicagoLocalToUtc('20120620 13:02:38')).toBe('2012-06-20T18:02:38.000Z');
    expect(chicagoLocalToUtc('2015-04-30T20:23:53')).toBe('2015-05-01T01:23:53.000Z');
    expect(chicagoLocalToUtc('20160121 21:26')).toBe('2016-01-22T03:26:00.000Z');
  });
  it('takes the earlier instant in the repeated hour when DST ends', () => {
    expect(chicagoLocalToUtc('20241103 01:30:00')).toBe('2024-11-03T06:30:00.000Z');
    expect(chicagoLocalToUtc('20241103 02:30:00')).toBe('2024-11-03T08:30:00.000Z');
  });
  it('rejects what is not a time', () => {
    expect(chicagoLocalToUtc('yesterday')).toBeNull();
    expect(chicagoLocalToUtc('20121320 10:00')).toBeNull();
    expect(chicagoLocalToUtc('2012-06-20T13:02:38Z')).toBeNull();
  });
});

describe('Bus Tracker getvehicles', () => {
  it.skipIf(!haveSamples)('reads the documentation sample (skipped: assets fixtures/cta-api absent)', () => {
    const r = parseBusTrackerText(sample('getvehicles_rt3.doc-sample.json'));
    expect(r.errors).toEqual([]);
    expect(r.vehicles).toHaveLength(2);
    expect(r.vehicles[0]).toEqual({
      id: 'bus:6438',
      mode: 'bus',
      route: '3',
      lat: 41.72489577073317,
      lon: -87.61421203613281,
      heading: 177,
      destination: 'Michigan/Chicago',
      timestamp: '2012-06-20T18:02:38.000Z',
      delayed: false,
      tripId: '105797',
    });
    for (const v of r.vehicles) expect(Vehicle.safeParse(v).success).toBe(true);
  });

  it('reads a single vehicle given as an object, numbers as numbers, and dly', () => {
    const r = parseBusTracker({
      'bustime-response': {
        vehicle: { vid: 1369, tmstmp: '20160121 21:26', lat: 41.8657, lon: -87.7553, hdg: '450', rt: '12', des: '15th/Indiana', dly: true },
      },
    });
    expect(r.errors).toEqual([]);
    expect(r.vehicles).toMatchObject([{ id: 'bus:1369', route: '12', heading: 90, delayed: true, timestamp: '2016-01-22T03:26:00.000Z' }]);
  });

  it('reads spd (mph) as km/h, leaves a missing spd unknown, and names a bad one while keeping the bus', () => {
    const bus = (vid: string, spd?: unknown) => ({
      vid,
      tmstmp: '20160121 21:26',
      lat: 41.8657,
      lon: -87.7553,
      rt: '12',
      ...(spd === undefined ? {} : { spd }),
    });
    const r = parseBusTracker({ 'bustime-response': { vehicle: [bus('1', '25'), bus('2', 0), bus('3'), bus('4', 'fast'), bus('5', -3)] } });
    expect(r.vehicles.map((x) => x.speedKmh)).toEqual([40.2, 0, undefined, undefined, undefined]);
    expect(r.errors).toEqual([
      { code: 'invalid_speed', message: 'vehicle[3] (bus 4): "spd" is not a number ("fast"); speed left unknown', route: '12' },
      { code: 'invalid_speed', message: 'vehicle[4] (bus 5): "spd" is out of range (-3); speed left unknown', route: '12' },
    ]);
    for (const x of r.vehicles) expect(Vehicle.safeParse(x).success).toBe(true);
  });

  it('reports an error envelope inside HTTP 200, and a partial error beside data', () => {
    const only = parseBusTracker({ 'bustime-response': { error: [{ msg: 'Invalid API access key supplied' }] } });
    expect(only.vehicles).toEqual([]);
    expect(only.errors).toEqual([{ code: 'api_error', message: 'Bus Tracker: Invalid API access key supplied' }]);

    const partial = parseBusTracker({
      'bustime-response': {
        vehicle: [{ vid: '1', rt: '9', lat: '41.9', lon: '-87.6', tmstmp: '20240101 12:00:00', hdg: '0', des: 'X' }],
        error: { rt: '999', msg: 'No data found for parameter' },
      },
    });
    expect(partial.vehicles.map((v) => v.id)).toEqual(['bus:1']);
    expect(partial.errors).toEqual([{ code: 'api_error', message: 'Bus Tracker: No data found for parameter', route: '999' }]);
  });

  it('skips a bad vehicle with an error naming it and the field, and keeps the others', () => {
    const r = parseBusTracker({
      'bustime-response': {
        vehicle: [
          { vid: '10', rt: '22', lat: 'north', lon: '-87.6', tmstmp: '20240101 12:00:00' },
          { vid: '11', rt: '22', lat: '41.9', lon: '-87.6' },
          { rt: '22', lat: '41.9', lon: '-87.6', tmstmp: '20240101 12:00:00' },
          { vid: '12', rt: '22', lat: '41.9', lon: '-87.6', tmstmp: '20240101 12:00:00' },
        ],
      },
    });
    expect(r.vehicles.map((v) => v.id)).toEqual(['bus:12']);
    expect(r.errors.map((e) => e.message)).toEqual([
      'vehicle[0] (bus 10): "lat" is not valid ("north")',
      'vehicle[1] (bus 11): "tmstmp" is missing',
      'vehicle[2]: "vid" is missing',
    ]);
    expect(r.errors.every((e) => e.route === '22' && e.code === 'invalid_vehicle')).toBe(true);
  });

  it('refuses a payload of another format with a clear message', () => {
    expect(() => parseBusTracker({ ctatt: {} })).toThrow(FeedFormatError);
    expect(() => parseBusTracker({ ctatt: {} })).toThrow(/expected a top-level "bustime-response" object/);
    expect(() => parseBusTrackerText('<bustime-response/>')).toThrow(/XML or HTML/);
    expect(() => parseBusTrackerText('{"bustime')).toThrow(/not a Bus Tracker getvehicles JSON response/);
  });
});

describe('Train Tracker ttpositions', () => {
  it.skipIf(!haveSamples)('reads the documentation sample (skipped: assets fixtures/cta-api absent)', () => {
    const r = parseTrainTrackerText(sample('ttpositions_red.cta-doc.json'));
    expect(r.errors).toEqual([]);
    expect(r.vehicles).toEqual([
      {
        id: 'train:827',
        mode: 'train',
        route: 'Red',
        lat: 41.90383,
        lon: -87.63685,
        heading: 269,
        destination: 'Howard',
        timestamp: '2015-05-01T01:29:24.000Z',
        delayed: false,
        nextStop: 'North/Clybourn',
      },
    ]);
  });

  it('handles a single train as an object, a line with no train key, and a single route object', () => {
    const r = parseTrainTracker({
      ctatt: {
        tmst: '2024-07-01T08:00:00',
        errCd: '0',
        route: [
          {
            '@name': 'blue',
            train: {
              rn: '101',
              lat: '41.88',
              lon: '-87.63',
              heading: '90',
              destNm: "O'Hare",
              prdt: '2024-07-01T07:59:30',
              isDly: '1',
              nextStaNm: 'Clark/Lake',
            },
          },
          { '@name': 'y' },
        ],
      },
    });
    expect(r.errors).toEqual([]);
    expect(r.vehicles).toMatchObject([
      { id: 'train:101', route: 'Blue', delayed: true, timestamp: '2024-07-01T12:59:30.000Z', nextStop: 'Clark/Lake' },
    ]);

    const single = parseTrainTracker({
      ctatt: { errCd: '0', route: { '@name': 'org', train: [{ rn: '7', lat: 41.8, lon: -87.7, prdt: '2024-01-15T10:00:00' }] } },
    });
    expect(single.vehicles).toMatchObject([{ id: 'train:7', route: 'Org', heading: null, timestamp: '2024-01-15T16:00:00.000Z' }]);
  });

  it('reports errCd inside HTTP 200', () => {
    const r = parseTrainTracker({ ctatt: { tmst: '2024-07-01T08:00:00', errCd: '101', errNm: 'Invalid API key.' } });
    expect(r.vehicles).toEqual([]);
    expect(r.errors).toEqual([{ code: 'tt_101', message: 'Train Tracker error 101: Invalid API key.' }]);
  });

  it('reports a bad train with its route and keeps the rest', () => {
    const r = parseTrainTracker({
      ctatt: {
        errCd: '0',
        route: [
          {
            '@name': 'red',
            train: [
              { rn: '1', lat: '', lon: '-87.6', prdt: '2024-01-15T10:00:00' },
              { rn: '2', lat: '41.9', lon: '-87.6', prdt: '2024-01-15T10:00:00' },
            ],
          },
        ],
      },
    });
    expect(r.vehicles.map((v) => v.id)).toEqual(['train:2']);
    expect(r.errors).toEqual([{ code: 'invalid_vehicle', message: 'route red train[0] (run 1): "lat" is not valid ("")', route: 'Red' }]);
  });

  it('refuses a Bus Tracker payload', () => {
    expect(() => parseTrainTracker({ 'bustime-response': {} })).toThrow(
      /not a Train Tracker ttpositions response: expected a top-level "ctatt" object/,
    );
  });
});

describe('GTFS-realtime VehiclePositions', () => {
  const v: Vehicle = {
    id: 'bus:4321',
    mode: 'bus',
    route: '22',
    lat: 41.9,
    lon: -87.63,
    heading: 180,
    destination: 'Harrison',
    timestamp: '2024-03-01T15:00:00.000Z',
    delayed: false,
    tripId: 'T9',
  };

  it('round-trips a protobuf feed through the official bindings', () => {
    const r = parseGtfsRt(encodeGtfsRt([v]));
    expect(r.errors).toEqual([]);
    expect(r.vehicles).toHaveLength(1);
    const got = r.vehicles[0]!;
    expect(got).toMatchObject({ id: 'bus:4321', route: '22', heading: 180, destination: 'Harrison', timestamp: v.timestamp, tripId: 'T9' });
    // float32 on the wire
    expect(got.lat).toBeCloseTo(41.9, 5);
  });

  it('reads position.speed (m/s) as km/h; a bus at a stop is 0, a feed without speed leaves it unknown', () => {
    const r = parseGtfsRt(
      encodeGtfsRt([
        { ...v, speedKmh: 36 },
        { ...v, id: 'bus:2', speedKmh: 0 },
        { ...v, id: 'bus:3' },
      ]),
    );
    expect(r.errors).toEqual([]);
    expect(r.vehicles[0]!.speedKmh).toBeCloseTo(36, 1);
    expect(r.vehicles[1]!.speedKmh).toBe(0);
    expect(r.vehicles[2]!.speedKmh).toBeUndefined();
    const bad = parseGtfsRt(encodeGtfsRt([{ ...v, speedKmh: 900 }]));
    expect(bad.vehicles[0]!.speedKmh).toBeUndefined();
    expect(bad.errors[0]!.message).toMatch(/entity\[0\] \(bus:4321\): position.speed is out of range/);
  });

  it('assigns modes from route types and reports entities without a position', () => {
    const bytes = encodeGtfsRt([{ ...v, id: 'bus:1', route: 'Red' }]);
    const r = parseGtfsRt(bytes, { routeModes: new Map([['Red', 'train']]) });
    expect(r.vehicles[0]?.id).toBe('train:1');
    expect(r.vehicles[0]?.mode).toBe('train');
  });

  it('refuses bytes that are not a FeedMessage', () => {
    expect(() => parseGtfsRt(new TextEncoder().encode('{"ctatt":{"errCd":"0"}}'))).toThrow(/not a GTFS-realtime feed/);
    expect(() => parseGtfsRt(new Uint8Array())).toThrow(/missing required 'header'/);
  });
});
