import type { Locator, Page } from 'playwright-core';

/**
 * The sign-in screen, the two-step enrolment (forced by the MFA policy or from the account
 * dialog) and the account dialog, as a test drives them.
 */
export class SignInPage {
  constructor(readonly page: Page) {}

  heading(): Locator {
    return this.page.getByRole('heading', { name: 'Sign in to Sentinel' });
  }

  error(): Locator {
    return this.page.getByTestId('login-error');
  }

  /** Fills user name and password and submits; a second factor is asked for afterwards. */
  async signIn(username: string, password: string): Promise<void> {
    await this.page.getByLabel('User name').fill(username);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }

  codeField(): Locator {
    return this.page.getByLabel('Authenticator code');
  }

  async enterCode(code: string): Promise<void> {
    await this.codeField().fill(code);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }

  async enterRecoveryCode(code: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Lost your phone? Use a recovery code' }).click();
    await this.page.getByLabel('Recovery code').fill(code);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }
}

export class EnrolmentPage {
  constructor(readonly page: Page) {}

  heading(): Locator {
    return this.page.getByRole('heading', { name: 'Set up two-step sign-in' });
  }

  qr(): Locator {
    return this.page.getByRole('img', { name: 'QR code for your authenticator app' });
  }

  /** The key shown for typing in by hand (what the phone reads from the QR code). */
  async secret(): Promise<string> {
    return (await this.page.getByTestId('totp-secret').getAttribute('data-secret')) ?? '';
  }

  async enable(code: string): Promise<void> {
    await this.page.getByLabel('Six-digit code from the app').fill(code);
    await this.page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  }

  recoveryCodes(): Locator {
    return this.page.getByTestId('recovery-codes').locator('code');
  }

  async savedCodes(): Promise<void> {
    await this.page.getByRole('button', { name: 'I have saved these codes' }).click();
  }
}

export class AccountDialogPage {
  readonly dialog: Locator;
  constructor(readonly page: Page) {
    this.dialog = page.getByRole('dialog', { name: 'Your account' });
  }

  async open(): Promise<void> {
    await this.page.getByTestId('user-menu').getByRole('button', { name: 'Account' }).click();
  }

  mfaStatus(): Locator {
    return this.dialog.getByTestId('mfa-status');
  }

  sessions(): Locator {
    return this.dialog.getByTestId('my-sessions').locator('tbody tr');
  }

  async close(): Promise<void> {
    await this.dialog.getByRole('button', { name: 'Close' }).click();
  }
}
