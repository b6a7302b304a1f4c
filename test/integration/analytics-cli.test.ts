import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import { discoverAssetsDir } from '../../core/config';
import { startSimulator, simulatorAvailable } from '../../tools/rtsp-sim/sim';
import { runSentinel } from '../support/serve';
import { freePort } from './ingest-helpers';
import { WORKER_FLOOR_PATCH } from '../../core/analytics/demo-zones';

/**
 * `sentinel analyze` end to end: real ffmpeg decoding of the shared footage, YOLOX-nano
 * through onnxruntime-node, the tracker and the rules, as a user runs it.
 */
const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
const media = assets ? join(assets, 'media') : '';
const VTEST = join(media, 'vtest.avi');
const WORKER = join(media, 'worker-zone-detection.gif');
const ONE_BY_ONE = join(media, 'one-by-one-person-detection.mp4');
const yolox = (() => {
  if (!assets) return false;
  const m = openRegistry({ assetsDir: assets }).get('yolox-nano');
  return Boolean(m && checkModel(m, join(assets, 'models')).state === 'ready');
})();
const haveAll = yolox && existsSync(VTEST) && existsSync(WORKER) && existsSync(ONE_BY_ONE);
const SKIP = haveAll ? '' : ' [skipped: the assets pack (media/ and models/yolox_nano.onnx) is absent]';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-analyze-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Line = { type: string; [k: string]: unknown };
const lines = (stdout: string): Line[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

function zonesFile(name: string, doc: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return f;
}

const analyze = (args: string[], timeoutMs = 120_000) =>
  runSentinel(['analyze', ...args, '--json'], { env: { SENTINEL_ASSETS: assets ?? '' }, timeoutMs });

describe.skipIf(!haveAll)(`sentinel analyze on vtest.avi (outdoor pedestrians, 10 fps, 79.5 s)${SKIP}`, () => {
  let out: Line[] = [];
  beforeAll(async () => {
    const zones = zonesFile('vtest.json', {
      zones: [
        // The far walkway (upper 45 % of the picture): 5-7 people from about 8 s to 30 s, then 1-3.
        {
          id: 'walkway',
          kind: 'crowding',
          capacity: 5,
          polygon: [
            [0, 0],
            [1, 0],
            [1, 0.45],
            [0, 0.45],
          ],
        },
        // Fights looked for everywhere: people walking must not trip the default rule.
        { id: 'everywhere', kind: 'watch' },
      ],
    });
    const r = await analyze(['--video', VTEST, '--zones', zones]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    out = lines(r.stdout);
  }, 180_000);

  it('prints one frame line per analysed frame (5 fps) in the documented shape, then a summary', () => {
    const frames = out.filter((l) => l.type === 'frame');
    expect(frames.length).toBeGreaterThanOrEqual(395);
    expect(frames.length).toBeLessThanOrEqual(400);
    expect(frames[10]).toEqual({
      type: 'frame',
      t: 2,
      people: expect.any(Number),
      tracks: expect.any(Array),
      zones: { walkway: expect.any(Number), everywhere: expect.any(Number) },
    });
    // vtest has 2-10 people in view; the detector sees most of them.
    const people = frames.map((f) => f.people as number);
    expect(Math.max(...people)).toBeGreaterThanOrEqual(6);
    const summary = out.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', frames: frames.length, complete: true, model: 'yolox-nano', fps: 5 });
  });

  it('raises a crowding alert on the walkway (capacity 5) and later clears it', () => {
    const events = out.filter((l) => (l.type === 'alert' || l.type === 'clear') && l.zone === 'walkway');
    expect(events.map((e) => e.type)).toEqual(['alert', 'clear']);
    const [raised, cleared] = events as [Line, Line];
    expect(raised).toMatchObject({ kind: 'crowding', zone: 'walkway', score: 1 });
    expect(cleared.t as number).toBeGreaterThan((raised.t as number) + 10);
    // At the raise the walkway held at least its capacity for the 10 s before.
    const before = out.filter(
      (l) => l.type === 'frame' && (l.t as number) > (raised.t as number) - 10 && (l.t as number) <= (raised.t as number),
    );
    expect(before.every((f) => (f.zones as Record<string, number>).walkway! >= 4)).toBe(true);
  });

  it('the default fight rule stays quiet on people walking past each other', () => {
    // Pairs come close many times in these 80 s (people walk in twos, and cross).
    expect(out.filter((l) => l.type === 'alert' && l.kind === 'fight')).toEqual([]);
  });
});

describe.skipIf(!haveAll)(`sentinel analyze on worker-zone-detection.gif${SKIP}`, () => {
  it('raises exactly one barrier alert when the worker walks into a zone drawn on the floor', async () => {
    // The worker walks away from the camera and stops on the left of the hall; the zone is
    // the patch of floor around where they stop (feet from about 2.3 s to the end, 4.7 s).
    // A second zone on the right of the hall, where nobody goes, must raise nothing.
    const zones = zonesFile('worker.json', {
      zones: [
        {
          id: 'floor',
          kind: 'operator',
          polygon: WORKER_FLOOR_PATCH,
        },
        {
          id: 'right',
          kind: 'operator',
          polygon: [
            [0.68, 0.55],
            [0.95, 0.55],
            [0.95, 0.95],
            [0.68, 0.95],
          ],
          rules: { dwellMs: 0 },
        },
      ],
    });
    const r = await analyze(['--video', WORKER, '--zones', zones, '--fps', '10']);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    const frames = out.filter((l) => l.type === 'frame');
    const firstInside = frames.find((f) => (f.zones as Record<string, number>).floor! > 0)!;
    expect(firstInside).toBeDefined();
    const alerts = out.filter((l) => l.type === 'alert');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'barrier', zone: 'floor' });
    // Not before the 1.5 s dwell time has passed inside.
    expect(alerts[0]!.t as number).toBeGreaterThanOrEqual((firstInside.t as number) + 1.5 - 1e-9);
    expect(frames.every((f) => (f.zones as Record<string, number>).right === 0)).toBe(true);
  });
});

const simWhy = simulatorAvailable();
describe.skipIf(!haveAll || simWhy !== null)(
  `sentinel analyze on a live RTSP stream${SKIP || (simWhy ? ` [skipped: ${simWhy}]` : '')}`,
  () => {
    it('reads the stream for --seconds, with time since start, and raises the barrier alert', async () => {
      const port = await freePort();
      const sim = await startSimulator({ host: '127.0.0.1', port, streams: [{ name: 'cab', file: WORKER }] });
      try {
        const zones = zonesFile('rtsp.json', {
          zones: [
            {
              id: 'floor',
              kind: 'operator',
              polygon: WORKER_FLOOR_PATCH,
            },
          ],
        });
        const r = await analyze(['--video', sim.url('cab'), '--zones', zones, '--seconds', '12']);
        expect(r.code, r.stderr).toBe(0);
        const out = lines(r.stdout);
        const frames = out.filter((l) => l.type === 'frame');
        // 12 s at 5 fps, minus the connection's start.
        expect(frames.length).toBeGreaterThan(40);
        expect(out.at(-1)).toMatchObject({ type: 'summary', input: 'rtsp', complete: true });
        // The 4.7 s clip loops: the worker stands in the zone in every loop; one alert, then it clears when the loop restarts.
        expect(out.filter((l) => l.type === 'alert' && l.kind === 'barrier').length).toBeGreaterThanOrEqual(1);
      } finally {
        await sim.close();
      }
    }, 60_000);

    it('names an RTSP camera that does not answer, without its password', async () => {
      const port = await freePort();
      const r = await analyze([
        '--video',
        `rtsp://op:s3cret@127.0.0.1:${port}/cab`,
        '--zones',
        zonesFile('g.json', { zones: [{ id: 'a', kind: 'watch' }] }),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^sentinel: rtsp:\/\/op:\*\*\*@127\.0\.0\.1:\d+\/cab: .*refused/);
      expect(r.stderr).not.toContain('s3cret');
    });
  },
);

describe('sentinel analyze: bad input is one clear line and exit code 1', () => {
  const good = () => zonesFile('good.json', { zones: [{ id: 'a', kind: 'watch' }] });

  it('names a zone that lies outside the frame', async () => {
    const f = zonesFile('outside.json', {
      zones: [
        {
          id: 'door',
          kind: 'operator',
          polygon: [
            [0.1, 0.1],
            [1.4, 0.1],
            [0.5, 0.6],
          ],
        },
      ],
    });
    const r = await analyze(['--video', VTEST, '--zones', f]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `sentinel: ${f}: zones[0] ("door").polygon: polygon point 2 (1.4, 0.1) is outside the frame; coordinates are normalised to 0..1`,
    );
  });

  it('names empty and degenerate polygons, a capacity of 0, an empty zone list and broken JSON', async () => {
    const cases: Array<[unknown, string]> = [
      [{ zones: [{ id: 'e', kind: 'watch', polygon: [] }] }, 'zones[0] ("e").polygon: polygon needs at least 3 points, has 0'],
      [
        {
          zones: [
            {
              id: 'd',
              kind: 'watch',
              polygon: [
                [0.1, 0.1],
                [0.2, 0.2],
                [0.3, 0.3],
              ],
            },
          ],
        },
        'zones[0] ("d").polygon: polygon is degenerate',
      ],
      [{ zones: [{ id: 'c', kind: 'crowding', capacity: 0 }] }, 'zones[0] ("c").capacity: capacity must be a whole number above 0, got 0'],
      [{ zones: [] }, 'no zones; give at least one zone in "zones"'],
      ['{"zones": [', 'is not valid JSON'],
    ];
    for (const [doc, msg] of cases) {
      const f = zonesFile('bad.json', doc);
      const r = await analyze(['--video', VTEST, '--zones', f]);
      expect(r.code, msg).toBe(1);
      expect(r.stderr).toContain(msg);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }
  });

  it('says when the video file is missing or the model is unknown', async () => {
    const r1 = await analyze(['--video', join(dir, 'nope.avi'), '--zones', good()]);
    expect(r1.code).toBe(1);
    expect(r1.stderr.trim()).toBe(`sentinel: video file ${join(dir, 'nope.avi')} does not exist`);
    const r2 = await analyze(['--video', VTEST, '--zones', good(), '--model', 'yolo-huge']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^sentinel: unknown model "yolo-huge"; available: .*yolox-nano/);
  });

  it.skipIf(!haveAll)(`refuses a fight model that is not a clip classifier${SKIP}`, async () => {
    const r = await analyze(['--video', VTEST, '--zones', good(), '--fight-model', 'yolox-nano']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('sentinel: model yolox-nano is a detect model, not a clip classifier (task classify-clip)');
  });

  it.skipIf(!haveAll)(`says when a model's weights are missing${SKIP}`, async () => {
    const r = await analyze(['--video', VTEST, '--zones', good(), '--models-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('yolox_nano.onnx');
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it.skipIf(!haveAll)(`reports a video that ends early, after the frames it could read and their summary${SKIP}`, async () => {
    // The MP4's header declares 139.4 s; cut the file so its data stops a few seconds in.
    const cut = join(dir, 'cut.mp4');
    writeFileSync(cut, readFileSync(ONE_BY_ONE).subarray(0, 150_000));
    const r = await analyze(['--video', cut, '--zones', good()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sentinel: .*cut\.mp4: video ended early at \d+\.\d s of the 139\.4 s it declares/);
    const out = lines(r.stdout);
    const summary = out.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', complete: false });
    expect(summary.frames as number).toBeGreaterThan(0);
    expect(out.filter((l) => l.type === 'frame')).toHaveLength(summary.frames as number);
  });
});
