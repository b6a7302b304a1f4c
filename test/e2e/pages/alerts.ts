import type { Locator, Page } from 'playwright-core';
import type { AlertKind } from '../../../contract';

/**
 * The alert queue (right of the map) and the incident queue above it, as a test drives
 * them: by the keyboard where an operator would, and by the ids the core gave.
 */
export class AlertQueuePage {
  readonly items: Locator;
  readonly detail: Locator;
  readonly incidents: Locator;
  readonly confirmDialog: Locator;

  constructor(readonly page: Page) {
    this.items = page.getByTestId('alert-item');
    this.detail = page.getByTestId('alert-detail');
    this.incidents = page.getByTestId('incident');
    this.confirmDialog = page.getByTestId('confirm-dialog');
  }

  ofKind(kind: AlertKind): Locator {
    return this.page.locator(`[data-testid="alert-item"].kind-${kind}`);
  }

  /** The alerts of one camera, newest first. */
  ofCamera(cameraName: string): Locator {
    return this.items.filter({ hasText: cameraName });
  }

  item(alertId: string): Locator {
    return this.page.locator(`[data-testid="alert-item"][data-alert-id="${alertId}"]`);
  }

  incident(incidentId: string): Locator {
    return this.page.locator(`[data-testid="incident"][data-incident-id="${incidentId}"]`);
  }

  /** The `datetime` of every alert in the order shown. */
  times(): Promise<string[]> {
    return this.items.evaluateAll((els) => els.map((e) => e.querySelector('time')?.getAttribute('datetime') ?? ''));
  }

  /** The alert id of the element that has the keyboard focus. */
  focusedAlertId(): Promise<string | null> {
    return this.page.evaluate(
      () =>
        (
          globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }
        ).document.activeElement?.getAttribute('data-alert-id') ?? null,
    );
  }

  /** Puts the keyboard focus on an alert (as Tab or a click would) and presses a key there. */
  async press(alertId: string, key: string): Promise<void> {
    await this.item(alertId).focus();
    await this.page.keyboard.press(key);
  }
}
