import type { Locator, Page } from 'playwright-core';

/**
 * One model slot's form (the default detector, the fight classifier, or a camera's own
 * detector): its choice, what runs now, Apply, and the outcome.
 */
export class ModelSlot {
  readonly root: Locator;
  readonly select: Locator;
  readonly running: Locator;
  readonly error: Locator;
  readonly done: Locator;
  readonly applyButton: Locator;

  constructor(
    readonly page: Page,
    testId: string,
  ) {
    this.root = page.getByTestId(testId);
    this.select = this.root.locator('select');
    this.running = page.getByTestId(`${testId}-running`);
    this.error = page.getByTestId(`${testId}-error`);
    this.done = page.getByTestId(`${testId}-done`);
    this.applyButton = this.root.getByRole('button', { name: /Apply|Loading and testing/ });
  }

  /** The options as the technician sees them: label and whether it can be picked. */
  async options(): Promise<Array<{ value: string; label: string; disabled: boolean }>> {
    return this.select
      .locator('option')
      .evaluateAll((os) =>
        os.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent ?? '', disabled: (o as HTMLOptionElement).disabled })),
      );
  }

  /** Picks a model and applies it (the core loads and tests it before it takes over). */
  async choose(model: string): Promise<void> {
    await this.select.selectOption(model);
    await this.applyButton.click();
  }
}

/** The technician's Models pane (box-wide slots, the models on this core) and a camera's Analytics tab. */
export class ModelsPage {
  readonly pane: Locator;
  readonly detector: ModelSlot;
  readonly fight: ModelSlot;
  readonly list: Locator;
  readonly cameraSlot: ModelSlot;
  readonly cameraAnalysis: Locator;

  constructor(readonly page: Page) {
    this.pane = page.getByTestId('models-pane');
    this.detector = new ModelSlot(page, 'detector-slot');
    this.fight = new ModelSlot(page, 'fight-slot');
    this.list = page.getByRole('list', { name: 'Models' });
    this.cameraSlot = new ModelSlot(page, 'camera-model-slot');
    this.cameraAnalysis = page.getByTestId('camera-model-analysis');
  }

  /** From anywhere in the console: the Cameras workspace, then its Models pane. */
  async open(): Promise<void> {
    await this.page.getByRole('tab', { name: 'Cameras' }).click();
    await this.page.getByTestId('technician-workspace').waitFor();
    await this.page.getByRole('button', { name: 'Models', exact: true }).click();
    await this.pane.waitFor();
  }

  /** A model's line in "Models on this core". */
  entry(name: string): Locator {
    return this.list.getByRole('listitem').filter({ hasText: name });
  }

  /** A camera's Analytics tab, where its own detector is chosen. */
  async openCamera(cameraName: string): Promise<void> {
    await this.page.getByRole('tab', { name: 'Cameras' }).click();
    await this.page.getByTestId('tech-camera-row').filter({ hasText: cameraName }).click();
    await this.page.getByRole('tab', { name: 'Analytics' }).click();
    await this.cameraSlot.root.waitFor();
  }
}
