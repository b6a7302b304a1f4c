import type { Locator, Page } from 'playwright-core';

/** The technician's Cameras workspace: the camera list and filters, the camera form with its probe, the zone editor, CSV import. */
export class TechnicianPage {
  readonly workspace: Locator;
  readonly form: Locator;
  readonly urlError: Locator;
  readonly probe: Locator;
  readonly pickedStation: Locator;
  readonly rows: Locator;
  readonly editor: Locator;
  readonly zones: Locator;
  readonly zoneProblem: Locator;
  readonly zonesSaved: Locator;
  readonly csvPanel: Locator;
  readonly importReport: Locator;
  readonly importDone: Locator;

  constructor(readonly page: Page) {
    this.workspace = page.getByTestId('technician-workspace');
    this.form = page.getByTestId('camera-form');
    this.urlError = page.getByTestId('url-error');
    this.probe = page.getByTestId('probe-status');
    this.pickedStation = page.getByTestId('picked-station');
    this.rows = page.getByTestId('tech-camera-row');
    this.editor = page.getByTestId('zone-editor');
    this.zones = page.getByTestId('zone-item');
    this.zoneProblem = page.getByTestId('zone-problem');
    this.zonesSaved = page.getByTestId('zones-saved');
    this.csvPanel = page.getByTestId('csv-import');
    this.importReport = page.getByTestId('import-report');
    this.importDone = page.getByTestId('import-done');
  }

  row(cameraName: string): Locator {
    return this.rows.filter({ hasText: cameraName });
  }

  async addCamera(): Promise<void> {
    await this.page.getByRole('button', { name: 'Add camera' }).click();
  }

  /** The form's fields by label (Name, RTSP URL, Station, Platform, Password...). */
  field(label: string): Locator {
    return this.form.getByLabel(label, { exact: label === 'Name' });
  }

  /** Clicks the corners of a polygon on the zone stage, as fractions of the picture. */
  async drawZone(corners: [number, number][]): Promise<void> {
    await this.editor.getByRole('button', { name: 'Draw zone' }).click();
    const box = (await this.page.getByTestId('zone-stage').boundingBox())!;
    for (const [x, y] of corners) await this.page.mouse.click(box.x + x * box.width, box.y + y * box.height);
  }

  saveZonesButton(): Locator {
    return this.editor.getByRole('button', { name: 'Save zones' });
  }

  async openImport(): Promise<void> {
    await this.page.getByRole('button', { name: 'Import CSV' }).click();
  }

  /** The camera list's filters: mount kind, and vehicle id or line. */
  async filter(f: { mount?: string; vehicleOrLine?: string }): Promise<void> {
    if (f.mount !== undefined) await this.page.getByLabel('Mount', { exact: true }).selectOption(f.mount);
    if (f.vehicleOrLine !== undefined) await this.page.getByLabel('Vehicle or line').fill(f.vehicleOrLine);
  }

  async importCsv(text: string): Promise<void> {
    await this.csvPanel.getByLabel('Or paste the CSV').fill(text);
    await this.csvPanel.getByRole('button', { name: 'Import' }).click();
  }
}
