import type { Locator, Page } from 'playwright-core';

/** The sign-in screen and the first-run set-up screen, before the console opens its socket. */
export class SignInPage {
  readonly setupHeading: Locator;
  readonly signInHeading: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.setupHeading = page.getByRole('heading', { name: 'Set up Sentinel' });
    this.signInHeading = page.getByRole('heading', { name: 'Sign in to Sentinel' });
    this.error = page.getByTestId('login-error');
  }

  /** First run: creates the administrator. */
  async setUp(username: string, password: string): Promise<void> {
    await this.page.getByLabel('Administrator user name').fill(username);
    await this.page.getByLabel('Password', { exact: true }).fill(password);
    await this.page.getByLabel('Password again').fill(password);
    await this.page.getByRole('button', { name: 'Create administrator' }).click();
  }

  /** Fills in the user name (unless omitted, to retry with the one already there) and password, and signs in. */
  async signIn(username: string | null, password: string): Promise<void> {
    if (username !== null) await this.page.getByLabel('User name').fill(username);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** The second step, for a user with an authenticator: the code, then Sign in again. */
  async secondFactor(code: string): Promise<void> {
    await this.page.getByLabel('Authenticator code').fill(code);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }
}
