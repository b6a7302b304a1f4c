import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SESSION_COOKIE } from '../../contract';
import { afterAll, beforeAll } from 'vitest';
import { REPO_ROOT, startServe, type RunningServe } from './serve';

export const CHROMIUM = process.env.SENTINEL_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-results');

/**
 * Debian's Chromium driven by Playwright (its own browser download is impossible here).
 * No background networking (the machine is offline and Chromium's phone-home requests would
 * fail noisily); SwiftShader gives MapLibre WebGL without a GPU.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--ignore-gpu-blocklist',
    ],
  });
}

export interface ConsolePage {
  page: Page;
  /** Browser console errors and uncaught page errors seen so far: e2e tests fail on any. */
  errors: string[];
  /**
   * Declares errors this test causes on purpose (a wrong password's 401, a core killed
   * mid-test); the test checks those itself. Any other error fails the test after it ends
   * (test/e2e/setup.ts), whether or not the test looked.
   */
  expectErrors(pattern: RegExp): void;
}

/** Every page opened since the last check, with the errors it was told to expect. */
const opened: { errors: string[]; expected: RegExp[] }[] = [];

/**
 * The browser errors of every page opened since the last call that no test declared
 * expected; clears the list. Run after each e2e test by test/e2e/setup.ts.
 */
export function takeUnexpectedErrors(): string[] {
  const out = opened.flatMap((p) => p.errors.filter((e) => !p.expected.some((re) => re.test(e))));
  opened.length = 0;
  return out;
}

/**
 * Opens the console in a fresh browser context. With `token`, the context carries that
 * session's cookie (signed in, as after the sign-in screen); without, it starts signed out.
 */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1600, height: 900 },
  opts: { token?: string } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport });
  if (opts.token) await context.addCookies([{ name: SESSION_COOKIE, value: opts.token, url, httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  // Closing the page closes its context (each page has its own cookie jar).
  // The browser may already be closing (afterAll): a failed context close is expected then.
  page.once('close', () => void context.close().catch(() => undefined));
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  const expected: RegExp[] = [];
  opened.push({ errors, expected });
  await page.goto(url);
  return { page, errors, expectErrors: (re) => void expected.push(re) };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * For a describe block of console tests on the demo: starts `sentinel serve --demo` (signed in
 * as the test admin) and Chromium before all its tests, and stops both after. Read `core` and
 * `browser` inside the tests (they are set by then).
 */
export function demoConsole(args: string[] = []): { core: RunningServe; browser: Browser } {
  const env = {} as { core: RunningServe; browser: Browser };
  beforeAll(async () => {
    env.core = await startServe({ args: ['--demo', ...args] });
    env.browser = await launchChromium();
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.core?.stop();
  });
  return env;
}
