import type { Locator, Page } from 'playwright-core';

/** The police liaison's console: the alerts in their scope, each acknowledged from its card. */
export class LiaisonPage {
  constructor(readonly page: Page) {}

  /** The scope line in the header ("Police liaison · District 1"). */
  scopeLabel(text: string): Locator {
    return this.page.getByText(text);
  }

  /** The card of the incident the alert belongs to (a card holds every alert of its incident). */
  card(alertId: string): Locator {
    return this.page.locator(`[data-alert-ids~="${alertId}"]`);
  }

  async acknowledge(alertId: string): Promise<void> {
    await this.card(alertId)
      .getByRole('button', { name: /Acknowledge/ })
      .click();
  }

  /** Who acknowledged the alert, as its card says. */
  acks(alertId: string): Locator {
    return this.card(alertId).getByTestId('alert-acks');
  }
}
