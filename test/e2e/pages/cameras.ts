import type { Locator, Page } from 'playwright-core';

/** The camera wall (tiles under the map) and a camera's detail with its live video. */
export class CamerasPage {
  readonly tiles: Locator;
  readonly detail: Locator;
  readonly recordingSince: Locator;

  constructor(readonly page: Page) {
    this.tiles = page.getByTestId('camera-tile');
    this.detail = page.getByTestId('camera-detail');
    this.recordingSince = page.getByTestId('recording-since');
  }

  /** A tile by its camera's name, when it shows the camera live. */
  liveTile(cameraName: string): Locator {
    return this.page.getByRole('button', { name: new RegExp(`^${cameraName.replace(/[()/]/g, '\\$&')}: Live`) });
  }

  /** A tile by its camera's name, whatever its state. */
  tile(cameraName: string): Locator {
    return this.page.getByRole('button', { name: new RegExp(`^${cameraName.replace(/[()/]/g, '\\$&')}: `) });
  }

  /** The width of the picture a tile shows (live video, or the snapshot until it plays); 0 when none is decoded. */
  pictureWidth(tile: Locator): Promise<number> {
    return tile
      .locator('video, img')
      .first()
      .evaluate(
        (el) =>
          (el as unknown as { videoWidth?: number; naturalWidth?: number }).videoWidth ??
          (el as unknown as { naturalWidth: number }).naturalWidth,
      );
  }

  liveVideo(): Locator {
    return this.detail.getByTestId('live-video');
  }

  liveStats(): Locator {
    return this.detail.getByTestId('live-stats');
  }
}
