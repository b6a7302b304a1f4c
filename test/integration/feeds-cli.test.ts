import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FeedParseResult } from '../../contract';
import { discoverAssetsDir } from '../../core/config';
import { encodeGtfsRt } from '../../core/feeds/gtfs-rt';
import { runSentinel } from '../support/serve';

const assets = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const samples = assets ? join(assets, 'fixtures', 'cta-api', 'doc-samples') : '';
const haveSamples = assets !== null && existsSync(samples);
const dir = mkdtempSync(join(tmpdir(), 'sentinel-feed-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sentinel feed parse', () => {
  it.skipIf(!haveSamples)('normalises the Train Tracker documentation sample (skipped: assets fixtures absent)', async () => {
    const r = await runSentinel(['feed', 'parse', '--format', 'train-tracker', join(samples, 'ttpositions_red.cta-doc.json'), '--json']);
    expect(r.code).toBe(0);
    const out = FeedParseResult.parse(JSON.parse(r.stdout));
    expect(out.vehicles.map((v) => [v.id, v.route, v.timestamp])).toEqual([['train:827', 'Red', '2015-05-01T01:29:24.000Z']]);
  });

  it('prints partial errors beside the vehicles and exits 0', async () => {
    const file = join(dir, 'partial.json');
    writeFileSync(
      file,
      JSON.stringify({
        'bustime-response': {
          vehicle: { vid: '5', rt: '9', lat: '41.9', lon: '-87.7', tmstmp: '20240101 08:00' },
          error: [{ rt: '999', msg: 'No data found for parameter' }],
        },
      }),
    );
    const r = await runSentinel(['feed', 'parse', '--format', 'bus-tracker', file, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      vehicles: [
        {
          id: 'bus:5',
          mode: 'bus',
          route: '9',
          lat: 41.9,
          lon: -87.7,
          heading: null,
          destination: '',
          timestamp: '2024-01-01T14:00:00.000Z',
          delayed: false,
        },
      ],
      errors: [{ code: 'api_error', message: 'Bus Tracker: No data found for parameter', route: '999' }],
    });
  });

  it('reads a GTFS-realtime protobuf file', async () => {
    const file = join(dir, 'vp.pb');
    writeFileSync(
      file,
      encodeGtfsRt([
        {
          id: 'bus:1',
          mode: 'bus',
          route: '22',
          lat: 41.9,
          lon: -87.6,
          heading: 90,
          destination: '',
          timestamp: '2024-01-01T00:00:00.000Z',
          delayed: false,
        },
      ]),
    );
    const r = await runSentinel(['feed', 'parse', '--format', 'gtfs-rt', file]);
    expect(r.code).toBe(0);
    expect(FeedParseResult.parse(JSON.parse(r.stdout)).vehicles[0]?.id).toBe('bus:1');
  });

  it('exits 1 with one clear line for a payload of another format, or a missing file', async () => {
    const file = join(dir, 'train.json');
    writeFileSync(file, JSON.stringify({ ctatt: { errCd: '0' } }));
    const wrong = await runSentinel(['feed', 'parse', '--format', 'bus-tracker', file]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr.trim()).toBe(
      `sentinel: ${file}: not a Bus Tracker getvehicles response: expected a top-level "bustime-response" object`,
    );
    const pb = await runSentinel(['feed', 'parse', '--format', 'gtfs-rt', file]);
    expect(pb.code).toBe(1);
    expect(pb.stderr).toMatch(/^sentinel: .*train\.json: not a GTFS-realtime feed/);
    const missing = await runSentinel(['feed', 'parse', '--format', 'train-tracker', join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.json: ENOENT/);
  });
});
