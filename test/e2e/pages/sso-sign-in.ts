import type { Locator, Page } from 'playwright-core';

/**
 * The SSO path as a person takes it: the "Sign in with <agency>" link on Sentinel's sign-in
 * screen, the agency's sign-in form (the test provider's: test/support/oidc.ts), and either
 * the console or Sentinel's refusal page.
 */
export class SsoSignInPage {
  readonly ssoLink: Locator;
  readonly refusal: Locator;

  constructor(readonly page: Page) {
    this.ssoLink = page.getByTestId('sso-sign-in');
    this.refusal = page.getByTestId('sso-refused');
  }

  /** Clicks the SSO link and signs in at the agency's form as `agencyUser`. */
  async signInAs(agencyUser: string): Promise<void> {
    await this.ssoLink.click();
    await this.page.getByLabel('Agency user name').fill(agencyUser);
    await this.page.getByRole('button', { name: 'Continue' }).click();
  }
}
