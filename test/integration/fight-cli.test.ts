import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import { discoverAssetsDir } from '../../core/config';
import { runSentinel } from '../support/serve';

/**
 * The trained fight classifier end to end, as a user runs it: `sentinel analyze` (real ffmpeg,
 * YOLOX-nano, tracker, the default fight rule) over one real fight clip and one real non-fight
 * clip of the shared set. Both were held out in the grouped cross-validation (eval/fight-cv.json
 * names the fold each was scored in): the fight clip scored 0.99 out-of-fold, the non-fight
 * clip 0.13, far from the alert threshold (0.93) on either side.
 */
const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
const clips = assets ? join(assets, 'media', 'fight-surv') : '';
const FIGHT = join(clips, 'fight', 'fi024.mp4');
const CALM = join(clips, 'noFight', 'nofi024.mp4');
const yolox = (() => {
  if (!assets) return false;
  const m = openRegistry({ assetsDir: assets }).get('yolox-nano');
  return Boolean(m && checkModel(m, join(assets, 'models')).state === 'ready');
})();
const have = yolox && existsSync(FIGHT) && existsSync(CALM);
const SKIP = have ? '' : ' [skipped: the assets pack (media/fight-surv and models/yolox_nano.onnx) is absent]';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-fight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
type Line = { type: string; [k: string]: unknown };

async function analyze(video: string): Promise<Line[]> {
  const zones = join(dir, 'watch.json');
  writeFileSync(zones, JSON.stringify({ zones: [{ id: 'scene', kind: 'watch' }] }));
  const r = await runSentinel(['analyze', '--video', video, '--zones', zones, '--json'], {
    env: { SENTINEL_ASSETS: assets ?? '' },
    timeoutMs: 120_000,
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

describe.skipIf(!have)(`sentinel analyze with the default (trained) fight rule${SKIP}`, () => {
  it('the clips are the held-out ones the comment names', () => {
    const cv = JSON.parse(readFileSync(new URL('../../eval/fight-cv.json', import.meta.url), 'utf8')) as {
      chosen: string;
      chosenSmoothing: { k: number; n: number };
      models: Array<{ type: string; smoothing: { k: number; n: number }; clips: Array<{ clip: string; score: number }> }>;
    };
    // The shipped model's out-of-fold scores (type and window smoothing as chosen by the CV).
    const shipped = cv.models.find(
      (m) => m.type === cv.chosen && m.smoothing.k === cv.chosenSmoothing.k && m.smoothing.n === cv.chosenSmoothing.n,
    )!;
    const scores = new Map(shipped.clips.map((c) => [c.clip, c.score]));
    expect(scores.get('fight/fi024.mp4')).toBeGreaterThan(0.9);
    expect(scores.get('noFight/nofi024.mp4')).toBeLessThan(0.5);
  });

  it('raises a fight alert on a real fight clip within its 2 seconds', async () => {
    const out = await analyze(FIGHT);
    const alerts = out.filter((l) => l.type === 'alert');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'fight', zone: 'scene' });
    expect(alerts[0]!.t as number).toBeLessThanOrEqual(2);
  }, 150_000);

  it('raises nothing on a real non-fight clip', async () => {
    const out = await analyze(CALM);
    expect(out.filter((l) => l.type === 'alert')).toEqual([]);
    expect(out.at(-1)).toMatchObject({ type: 'summary', complete: true, alerts: 0 });
  }, 150_000);
});
