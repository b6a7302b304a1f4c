import type { Locator, Page } from 'playwright-core';

/** Rider text reports in the operator's console: one card per conversation, with its place and replies. */
export class RiderTextsPage {
  readonly cards: Locator;

  constructor(readonly page: Page) {
    this.cards = page.getByTestId('rider-text');
  }

  place(card: Locator): Locator {
    return card.getByTestId('rider-text-place');
  }

  messages(card: Locator): Locator {
    return card.getByTestId('rider-message');
  }

  async reply(card: Locator, text: string): Promise<void> {
    await card.getByLabel('Reply to the rider').fill(text);
    await card.getByRole('button', { name: 'Send' }).click();
  }
}
