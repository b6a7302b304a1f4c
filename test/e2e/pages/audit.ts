import type { Locator, Page } from 'playwright-core';

/** The audit viewer workspace (administrators and reviewers), as a test drives it. */
export class AuditPage {
  readonly rows: Locator;
  readonly count: Locator;
  readonly verifyResult: Locator;

  constructor(readonly page: Page) {
    this.rows = page.getByTestId('audit-row');
    this.count = page.getByTestId('audit-count');
    this.verifyResult = page.getByTestId('audit-verify-result');
  }

  async open(): Promise<void> {
    await this.page.getByRole('tab', { name: 'Audit' }).click();
    await this.page.getByTestId('audit-workspace').waitFor();
  }

  /** Sets the filters given (others left as they are) and applies them. */
  async filter(f: { user?: string; action?: string; from?: string; to?: string }): Promise<void> {
    const form = this.page.getByRole('form', { name: 'Audit filters' });
    if (f.user !== undefined) await form.getByRole('textbox', { name: 'User' }).fill(f.user);
    if (f.action !== undefined) await form.getByRole('combobox', { name: 'Action' }).fill(f.action);
    if (f.from !== undefined) await form.getByLabel('From').fill(f.from);
    if (f.to !== undefined) await form.getByLabel('To').fill(f.to);
    await this.page.getByTestId('audit-apply').click();
  }

  async clear(): Promise<void> {
    await this.page.getByRole('form', { name: 'Audit filters' }).getByRole('button', { name: 'Clear' }).click();
  }

  /** The seq numbers of the rows shown, in order. */
  seqs(): Promise<number[]> {
    return this.rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  }

  /** Each row's [user, action] cells. */
  actorsAndActions(): Promise<[string, string][]> {
    return this.rows.evaluateAll((els) =>
      els.map((e) => [e.children[2]?.textContent ?? '', e.children[3]?.textContent ?? ''] as [string, string]),
    );
  }

  older(): Promise<void> {
    return this.page.getByTestId('audit-older').click();
  }
  newer(): Promise<void> {
    return this.page.getByRole('button', { name: 'Newer' }).click();
  }
  verify(): Promise<void> {
    return this.page.getByTestId('audit-verify').click();
  }
}
