import type { Locator, Page } from 'playwright-core';
import type { WallLayout } from '../../../contract';

/** The video wall workspace (or its popped-out window), as a test drives it. */
export class WallPage {
  readonly wall: Locator;
  readonly tiles: Locator;
  readonly spotlight: Locator;
  readonly saved: Locator;

  constructor(readonly page: Page) {
    this.wall = page.getByTestId('video-wall');
    this.tiles = page.getByTestId('wall-tile');
    this.spotlight = page.getByTestId('wall-spotlight');
    this.saved = page.getByTestId('wall-saved');
  }

  /** Switches the console to the wall workspace. */
  async open(): Promise<void> {
    await this.page.getByRole('tab', { name: 'Video wall' }).click();
    await this.wall.waitFor();
  }

  layout(): Promise<string | null> {
    return this.wall.getAttribute('data-layout');
  }

  async chooseLayout(n: WallLayout): Promise<void> {
    await this.page.getByTestId(`wall-layout-${n}`).click();
  }

  async chooseGroup(value: string): Promise<void> {
    await this.page.getByTestId('wall-group').selectOption(value);
  }

  async setSpotlight(on: boolean): Promise<void> {
    await this.page.getByTestId('wall-spotlight-toggle').setChecked(on);
  }

  /** Camera ids of the tiles in order (empty string for an empty tile). */
  order(): Promise<string[]> {
    return this.tiles.evaluateAll((els) => els.map((e) => e.getAttribute('data-camera-id') ?? ''));
  }

  /** Drags tile `from` onto tile `to` (HTML5 drag and drop, as a mouse does). */
  async drag(from: number, to: number): Promise<void> {
    await this.tiles.nth(from).dragTo(this.tiles.nth(to));
  }
}

/** The camera panel's playback bar under the detail view's video. */
export class PlaybackPage {
  readonly bar: Locator;
  readonly video: Locator;

  constructor(readonly page: Page) {
    const detail = page.getByTestId('camera-detail');
    this.bar = detail.getByTestId('playback-bar');
    this.video = detail.getByTestId('live-video');
  }

  mode(): Promise<string | null> {
    return this.video.getAttribute('data-mode');
  }

  /** The recorded moment on screen (ms since epoch), or null before the first clock. */
  async shownAt(): Promise<number | null> {
    const v = await this.video.getAttribute('data-shown-at');
    return v ? Number(v) : null;
  }

  /** Moves the scrub bar's handle to `at` (ms since epoch); the player follows once it rests. */
  async scrubTo(at: number): Promise<void> {
    await this.bar.getByTestId('playback-scrub').fill(String(at));
  }

  async backToLive(): Promise<void> {
    await this.bar.getByTestId('playback-live').click();
  }
}
