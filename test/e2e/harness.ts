// Shared pieces for end-to-end tests: the real `sentinel serve` and Debian's Chromium.
export * from '../support/serve';
export * from '../support/browser';
