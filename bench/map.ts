// `npm run bench -- map [--vehicles 2000] [--batches 30]`: how long the console's map takes
// to apply one batch of vehicle updates, with diffs keyed by id (GeoJSONSource.updateData,
// what the console does) against a full setData of the same fleet (the baseline), measured in
// the same Chromium page. Two cadences: every 10 s (Bus Tracker's real rhythm, the whole
// fleet per batch) and a 1 s stress mode, during which frame times show whether the map
// stays interactive (it is panned continuously while batches land).
import { hasChromium, launchChromium, startServe } from '../test/e2e/harness';

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

// Runs in the page. Plain JS in a string: the bench compiles under Node types, without the DOM.
const PAGE_BENCH = String.raw`async ({ vehicles, batches, intervalMs, mode, groups }) => {
  const h = window.sentinelMap;
  const map = h.map;
  const rand = (() => { let s = 42; return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296); })();
  const lines = ['Red', 'Blue', 'Brn', 'G', 'Org', 'P', 'Pink', 'Y'];
  const fleet = Array.from({ length: vehicles }, (_, i) => {
    const train = i % 20 === 0;
    return { id: (train ? 'train:' : 'bus:') + i, mode: train ? 'train' : 'bus', route: train ? lines[i % 8] : String(1 + (i % 150)),
      lat: 41.66 + rand() * 0.34, lon: -87.85 + rand() * 0.3, heading: Math.floor(rand() * 360), destination: 'Bench', timestamp: new Date().toISOString(),
      delayed: false, feed: 'bench', stale: false, district: '1', communityArea: 'Loop' };
  });
  // Moves one report group (every vehicle when groups = 1) and returns the moved vehicles.
  const move = (b = 0) => { const ts = new Date().toISOString(); const out = []; fleet.forEach((v, i) => { if (i % groups !== b % groups) return; v.lat += (rand() - 0.5) * 0.001; v.lon += (rand() - 0.5) * 0.001; v.heading = Math.floor(rand() * 360); v.timestamp = ts; out.push({ ...v }); }); return out; };
  const toFC = (list) => ({ type: 'FeatureCollection', features: list.map((v) => ({ type: 'Feature', id: v.id, geometry: { type: 'Point', coordinates: [v.lon, v.lat] }, properties: { id: v.id, mode: v.mode, route: v.route, heading: v.heading, stale: v.stale, delayed: v.delayed, label: v.route } })) });
  const idle = () => new Promise((r) => { if (map.loaded() && !map.isMoving()) { map.once('idle', r); map.triggerRepaint(); } else map.once('idle', r); });
  move(); // groups > 1 moves only a slice; the first snapshot is the whole fleet
  await h.layer.reset(fleet.map((v) => ({ ...v })));
  await idle();
  const frames = [];
  let last = performance.now();
  let panning = true;
  const onFrame = (t) => { frames.push(t - last); last = t; if (panning) requestAnimationFrame(onFrame); };
  const sync = [], worker = [], rendered = [];
  if (intervalMs <= 1000) { requestAnimationFrame(onFrame); }
  for (let b = 0; b < batches; b++) {
    const batch = move(b);
    const t0 = performance.now();
    let p;
    if (mode === 'diff') p = h.layer.apply({ upsert: batch, remove: [] });
    else if (mode === 'none') p = Promise.resolve(); // panning only: the frame-time floor
    else {
      // Without diffs the whole fleet is sent again, whatever moved.
      const all = fleet.map((v) => ({ ...v }));
      const buses = all.filter((v) => v.mode === 'bus'), trains = all.filter((v) => v.mode === 'train');
      p = Promise.all([map.getSource('buses').setData(toFC(buses)), map.getSource('trains').setData(toFC(trains))]);
    }
    const t1 = performance.now();
    await p;
    const t2 = performance.now();
    await idle();
    const t3 = performance.now();
    sync.push(t1 - t0); worker.push(t2 - t0); rendered.push(t3 - t0);
    if (intervalMs <= 1000) map.panBy([b % 2 ? 40 : -40, 0], { duration: 300 });
    const wait = intervalMs - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  panning = false;
  return { sync, worker, rendered, frames: frames.slice(1) };
}`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2 : NaN;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const f1 = (n: number): string => n.toFixed(1);

export async function run(args: string[]): Promise<void> {
  if (!hasChromium) {
    console.log('map: skipped, /usr/bin/chromium is not installed');
    return;
  }
  const vehicles = arg(args, 'vehicles', 2000);
  const batches = arg(args, 'batches', 20);
  // The real cadence is 10 s; the measurement does not need the idle time between batches,
  // so the "10 s" runs wait only until the map is idle (`--interval` restores real waits).
  const slowMs = arg(args, 'interval', 1500);
  const core = await startServe();
  const browser = await launchChromium();
  try {
    // The in-page script is a string (evaluated); the console's CSP forbids eval, so the bench
    // page bypasses it. CSP has no bearing on rendering cost.
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1600, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.goto(core.url);
    await page.waitForFunction('window.sentinelMap !== undefined', undefined, { timeout: 60_000 });
    const runMode = async (mode: 'diff' | 'setData' | 'none', intervalMs: number, groups: number) =>
      (await page.evaluate(`(${PAGE_BENCH})(${JSON.stringify({ vehicles, batches, intervalMs, mode, groups })})`)) as {
        sync: number[];
        worker: number[];
        rendered: number[];
        frames: number[];
      };
    const rows: string[] = [];
    const results: Record<string, Awaited<ReturnType<typeof runMode>>> = {};
    const floor = await runMode('none', 1000, 1);
    rows.push(
      `| 1 s, no updates | panning only (frame floor) | — | — | — | ${f1(median(floor.frames))} / ${f1(pct(floor.frames, 95))} / ${f1(Math.max(...floor.frames))} |`,
    );
    const scenarios = [
      ['10 s cadence, whole fleet per batch', slowMs, 1],
      ['1 s stress, whole fleet per batch', 1000, 1],
      ['1 s, one tenth of the fleet per batch (report groups)', 1000, 10],
    ] as const;
    for (const [label, intervalMs, groups] of scenarios) {
      for (const mode of ['setData', 'diff'] as const) {
        const r = await runMode(mode, intervalMs, groups);
        results[`${label}/${mode}`] = r;
        rows.push(
          `| ${label} | ${mode === 'diff' ? 'updateData diff (console)' : mode === 'setData' ? 'setData full (baseline)' : 'none'} | ${f1(median(r.sync))} | ${f1(median(r.worker))} | ${f1(median(r.rendered))} | ${r.frames.length ? `${f1(median(r.frames))} / ${f1(pct(r.frames, 95))} / ${f1(Math.max(...r.frames))}` : '—'} |`,
        );
      }
    }
    console.log(
      `map: fleet of ${vehicles} vehicles, ${batches} batches per run, Chromium (SwiftShader, no GPU), 1600x900; "until rendered" waits for MapLibre's idle event, which includes its 300 ms symbol fade`,
    );
    console.log(
      '| cadence | apply | main thread ms (median) | until worker done ms | until rendered ms | frame ms median / p95 / max (while panning) |',
    );
    console.log('|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
    for (const [label] of scenarios) {
      const d = results[`${label}/diff`]!;
      const s = results[`${label}/setData`]!;
      console.log(
        `${label}: diff/setData ratio, until rendered: ${(median(d.rendered) / median(s.rendered)).toFixed(2)}; main thread: ${(median(d.sync) / median(s.sync)).toFixed(2)}`,
      );
    }
    if (errors.length) console.log(`browser errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
    await core.stop();
  }
}
