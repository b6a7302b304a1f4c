import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * The console's frame around every workspace: the connection state, the user menu, sign-out,
 * the workspace tabs and the administration dialog.
 */
export class ShellPage {
  readonly connection: Locator;
  readonly userMenu: Locator;
  readonly incidents: Locator;
  readonly disconnectedBanner: Locator;
  readonly assetsMissing: Locator;

  constructor(readonly page: Page) {
    this.connection = page.getByTestId('connection-state');
    this.userMenu = page.getByTestId('user-menu');
    this.incidents = page.getByTestId('incident');
    this.disconnectedBanner = page.getByTestId('disconnected-banner');
    this.assetsMissing = page.getByTestId('assets-missing');
  }

  /** A region of the operator layout by its heading (Live map, Alert queue, Cameras). */
  region(name: string): Locator {
    return this.page.getByRole('heading', { name });
  }

  /** A dialog by its name; without one, any dialog. */
  dialog(name?: string): Locator {
    return name === undefined ? this.page.getByRole('dialog') : this.page.getByRole('dialog', { name });
  }

  /** Waits until the console's socket is connected (signed in and talking to the core). */
  async waitConnected(timeout = 20_000): Promise<void> {
    await expect.poll(() => this.connection.getAttribute('data-status'), { timeout }).toBe('connected');
  }

  tab(name: string): Locator {
    return this.page.getByRole('tab', { name });
  }

  async signOut(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sign out' }).click();
  }

  administrationButton(): Locator {
    return this.page.getByRole('button', { name: 'Administration' });
  }

  async openAdministration(): Promise<AdminDialog> {
    await this.administrationButton().click();
    return new AdminDialog(this.page.getByRole('dialog', { name: 'Administration' }));
  }
}

/** The administrator's dialog: users and the test alert. */
export class AdminDialog {
  readonly status: Locator;
  constructor(readonly root: Locator) {
    this.status = root.getByRole('status');
  }

  async createUser(u: { username: string; password: string; role: string }): Promise<void> {
    await this.root.getByLabel('New user name').fill(u.username);
    await this.root.getByLabel('New user password').fill(u.password);
    await this.root.getByLabel('Role').selectOption(u.role);
    await this.root.getByRole('button', { name: 'Create user' }).click();
  }

  async sendTestAlertToDistrict(): Promise<void> {
    await this.root.getByRole('button', { name: 'Send to district' }).click();
  }

  async close(): Promise<void> {
    await this.root.getByRole('button', { name: 'Close' }).click();
  }
}
