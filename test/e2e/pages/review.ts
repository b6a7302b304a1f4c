import type { Locator, Page } from 'playwright-core';

/** The reviewer's workspace: the incident list, the clip player with detection overlays, the verdict and the evidence export. */
export class ReviewPage {
  readonly video: Locator;
  readonly overlay: Locator;
  readonly player: Locator;
  readonly clock: Locator;
  readonly verdict: Locator;
  readonly exportState: Locator;

  constructor(readonly page: Page) {
    this.video = page.getByTestId('clip-video');
    this.overlay = page.getByTestId('overlay-canvas');
    this.player = page.getByTestId('clip-player');
    this.clock = page.getByTestId('clip-clock');
    this.verdict = page.getByTestId('verdict');
    this.exportState = page.getByTestId('export-state');
  }

  async open(): Promise<void> {
    await this.page.getByRole('tab', { name: 'Review' }).click();
  }

  /** The newest incident of a camera in the review list. */
  item(cameraName: string): Locator {
    return this.page.getByTestId('review-item').filter({ hasText: cameraName }).first();
  }

  async cutClip(): Promise<void> {
    await this.page.getByTestId('cut-clip').click();
  }

  async judge(verdict: 'True alarm' | 'False alarm', reason: string): Promise<void> {
    await this.page.getByRole('textbox', { name: 'Reason' }).fill(reason);
    await this.page.getByRole('button', { name: verdict }).click();
  }

  async exportEvidence(): Promise<void> {
    await this.page.getByTestId('export-evidence').click();
  }

  downloadButton(): Locator {
    return this.page.getByTestId('download-evidence');
  }
}
