import type { ErrorCode } from '../contract/errors';

/**
 * An error meant for a person: the message is one clear line naming the problem and where
 * it is (file, key, port, directory). The CLI prints it as-is and exits non-zero; the HTTP
 * layer turns it into the contract's error body.
 */
export class SentinelError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode = 'bad_request',
    readonly field?: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'SentinelError';
  }
}
