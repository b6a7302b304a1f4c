import type { Locator, Page } from 'playwright-core';

/** The technician workspace's "Core replicas" pane (which replica runs each background job). */
export class ReplicasPage {
  readonly panel: Locator;
  readonly leases: Locator;

  constructor(readonly page: Page) {
    this.panel = page.getByTestId('cluster-panel');
    this.leases = page.getByTestId('cluster-lease');
  }

  async open(): Promise<void> {
    await this.page.getByRole('tab', { name: 'Cameras' }).click();
    await this.page.getByTestId('technician-workspace').waitFor();
    await this.page.getByRole('button', { name: 'Core replicas' }).click();
    await this.panel.waitFor();
  }

  /** The row of one job ("Escalation timers"...): its holder and lease cells. */
  async job(label: string): Promise<{ holder: string; lease: string } | null> {
    const row = this.leases.filter({ hasText: label });
    if ((await row.count()) === 0) return null;
    const cells = await row.first().locator('td').allTextContents();
    return { holder: cells[1] ?? '', lease: cells[2] ?? '' };
  }
}
