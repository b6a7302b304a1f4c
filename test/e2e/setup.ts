import { afterEach } from 'vitest';
import { takeUnexpectedErrors } from '../support/browser';

// Every end-to-end test fails on a browser console error or uncaught page error in any page it
// opened, unless the test declared it expected (ConsolePage.expectErrors): a test that forgets
// to look still fails.
afterEach(() => {
  const errors = takeUnexpectedErrors();
  if (errors.length) throw new Error(`browser errors during the test:\n${errors.join('\n')}`);
});
