import { spawn, type ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Camera, NodeCreated } from '../../contract';
import { startSimulator, type RunningSim } from '../../tools/rtsp-sim/sim';
import { assets, freePort, skipReason, vtest } from '../integration/ingest-helpers';
import { createAndLogin, type SignedIn } from '../support/auth';
import {
  REPO_ROOT,
  SENTINEL_BIN,
  hasChromium,
  launchChromium,
  openPage,
  screenshot,
  startServe,
  tempDir,
  type RunningServe,
} from './harness';
import { CamerasPage } from './pages/cameras';
import { ShellPage } from './pages/shell';
import { TechnicianPage } from './pages/technician';

const why = !hasChromium ? '/usr/bin/chromium is not installed' : skipReason;

/**
 * The technician's view of analytics nodes in Chromium: a real core with `analytics.nodes` on,
 * a real `sentinel analytics-node` ingesting the simulator's stream, and the camera registry
 * naming the node that runs the camera; the nodes pane shows its load and capacity, and an
 * administrator issues a token through the form.
 */
describe.skipIf(why !== null)(`analytics nodes in the technician view${why ? ` (skipped: ${why})` : ''}`, () => {
  let browser: Browser;
  let core: RunningServe;
  let sim: RunningSim;
  let tech: SignedIn;
  let node: ChildProcess | null = null;

  beforeAll(async () => {
    sim = await startSimulator({ port: await freePort(), streams: [{ name: 'platform', file: vtest }] });
    core = await startServe({ timeoutMs: 60_000, env: { SENTINEL_ANALYTICS_NODES: '1', SENTINEL_ASSETS: assets ?? '' } });
    tech = await createAndLogin(core.url, core.admin!, { username: 'nina-tech', password: 'technician-password-3', role: 'technician' });
    const cam = await core.api('/api/v1/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Lake platform',
        url: sim.url('platform'),
        mount: { kind: 'station', stationId: '41660' },
        analyticsEnabled: false,
        recordingEnabled: false,
      }),
    });
    expect(cam.status).toBe(201);
    Camera.parse(await cam.json());
    const res = await core.api('/api/v1/nodes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'node-east', capacity: 4 }),
    });
    const { token } = NodeCreated.parse(await res.json());
    const proc = spawn(
      process.execPath,
      [SENTINEL_BIN, 'analytics-node', '--core', core.url, '--data-dir', tempDir('sentinel-e2e-node-')],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, SENTINEL_ASSETS: assets ?? '', SENTINEL_NODE_TOKEN: token, SENTINEL_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    node = proc;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Sentinel analytics node connected')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`analytics-node exited with ${code}`)));
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (node && node.exitCode === null) {
      const gone = new Promise((r) => node!.once('exit', r));
      node.kill('SIGTERM');
      await gone;
    }
    await core?.stop();
    await sim?.close();
  });

  it('the camera registry names the node running each camera; the nodes pane shows its load and capacity', async () => {
    const { page } = await openPage(browser, core.url, undefined, { token: tech.token });
    const shell = new ShellPage(page);
    const tp = new TechnicianPage(page);
    await shell.waitConnected(15_000);
    // Straight to Cameras: passing through the video wall on the way (F2 twice) has left a viewer
    // socket open in CI, a defect not yet found, which would hold the session this test watches close.
    await shell.tab('Cameras').click();
    await expect.poll(() => tp.workspace.isVisible()).toBe(true);
    const row = tp.rows.filter({ hasText: 'Lake platform' });
    await expect.poll(() => row.getByTestId('camera-node').textContent(), { timeout: 30_000 }).toContain('node node-east');
    await expect.poll(() => row.getByTestId('health-badge').textContent(), { timeout: 30_000 }).toMatch(/^Live/);
    // The console opened on the operations layout, whose tile played the camera: hidden behind
    // this workspace it stops, and a few seconds on the core's own session on the camera closes.
    await expect
      .poll(() => row.getByTestId('viewer-session').textContent(), { timeout: 20_000 })
      .toBe("core's live session: none open (nobody watches)");
    await page.getByRole('button', { name: 'Analytics nodes' }).click();
    const nodeRow = page.getByTestId('node-row').filter({ hasText: 'node-east' });
    await expect.poll(() => nodeRow.textContent(), { timeout: 15_000 }).toMatch(/node-eastlive1 \/ 4/);
    // A technician sees the nodes but cannot issue tokens.
    expect(await page.getByRole('form', { name: 'Add an analytics node' }).count()).toBe(0);
    await screenshot(page, 'technician-nodes');
    await page.close();
  });

  it('an administrator issues a token in the form and sees it once', async () => {
    const { page } = await openPage(browser, core.url, undefined, { token: core.token });
    const shell = new ShellPage(page);
    const tp = new TechnicianPage(page);
    await shell.waitConnected(15_000);
    await shell.tab('Cameras').click();
    await expect.poll(() => tp.workspace.isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Analytics nodes' }).click();
    const form = page.getByRole('form', { name: 'Add an analytics node' });
    await form.getByLabel('Name').fill('node-west');
    await form.getByRole('button', { name: 'Issue token' }).click();
    await expect
      .poll(() => page.getByTestId('node-token').textContent(), { timeout: 10_000 })
      .toMatch(/Token for node-west, shown once: sn_node_\S{20,}/);
    await expect.poll(() => page.getByTestId('node-row').filter({ hasText: 'node-west' }).textContent()).toContain('never connected');
    await page.close();
  });

  it('an operator opens the node-held camera and its live video plays (the core pulls it for its viewers)', async () => {
    const op = await createAndLogin(core.url, core.admin!, { username: 'omar-op', password: 'operator-password-3', role: 'operator' });
    const { page } = await openPage(browser, core.url, undefined, { token: op.token });
    const cams = new CamerasPage(page);
    const tile = cams.liveTile('Lake platform');
    await expect.poll(() => tile.count(), { timeout: 45_000 }).toBe(1);
    await tile.click();
    const video = cams.liveVideo();
    // vtest.avi's own size: the picture is the camera's, decoded by the browser from the core's fMP4.
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => `${v.videoWidth}x${v.videoHeight}`), { timeout: 30_000 })
      .toBe('768x576');
    const t1 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 }).toBeGreaterThan(t1 + 0.5);
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames), { timeout: 10_000 })
      .toBeGreaterThan(10);
    await screenshot(page, 'node-camera-live');

    // While the operator watches, the technician sees the core's own session feeding that viewer.
    const { page: techPage } = await openPage(browser, core.url, undefined, { token: tech.token });
    const tp = new TechnicianPage(techPage);
    const techShell = new ShellPage(techPage);
    await techShell.waitConnected(15_000);
    await techShell.tab('Cameras').click();
    await expect.poll(() => tp.workspace.isVisible()).toBe(true);
    const session = tp.rows.filter({ hasText: 'Lake platform' }).getByTestId('viewer-session');
    await expect
      .poll(() => session.textContent(), { timeout: 15_000 })
      .toMatch(/^core's live session: live · 1 viewer · avc1\S* · [\d.]+ fps · [1-9]\d* kbit\/s$/);
    await tp.rows.filter({ hasText: 'Lake platform' }).click();
    await techPage.getByRole('tab', { name: 'Analytics' }).click();
    await expect
      .poll(() => techPage.getByTestId('camera-viewer-session').textContent(), { timeout: 15_000 })
      .toMatch(/^live · [1-9]\d* viewers? · avc1/);
    await screenshot(techPage, 'technician-node-viewer-session');
    // The operator leaves: the session lingers, then closes, and the technician sees both.
    await page.close();
    await expect
      .poll(() => session.textContent(), { timeout: 15_000 })
      .toMatch(/^core's live session: live · 0 viewers · closes in \d s · /);
    await expect.poll(() => session.textContent(), { timeout: 20_000 }).toBe("core's live session: none open (nobody watches)");
    await techPage.close();
  }, 120_000);
});
