import { MASTER_KEY_MESSAGE, type MasterKeyMessage } from '../../contract';
import { SentinelError } from '../errors';

type ParentPort = {
  on(event: 'message', fn: (e: { data: unknown }) => void): void;
  off?(event: 'message', fn: (e: { data: unknown }) => void): void;
};

const isKeyMessage = (m: unknown): m is MasterKeyMessage =>
  typeof m === 'object' &&
  m !== null &&
  (m as MasterKeyMessage).type === MASTER_KEY_MESSAGE &&
  typeof (m as MasterKeyMessage).key === 'string';

/**
 * Waits for the key-protection key from the process that started the core: Electron's
 * utilityProcess parent port, or a Node IPC channel (the same message; tests use that). The
 * key never goes through the environment or argv, which other processes of the user can read.
 */
export function keyFromParent(timeoutMs = 15_000): Promise<string> {
  const port = (process as { parentPort?: ParentPort }).parentPort;
  if (!port && !process.send)
    return Promise.reject(
      new SentinelError(
        'SENTINEL_KEY_SOURCE=parent, but this core has no parent process channel (only the desktop app starts it so)',
        'validation_failed',
      ),
    );
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      port?.off?.('message', onPort);
      process.off('message', onIpc);
    };
    const onPort = (e: { data: unknown }): void => {
      if (isKeyMessage(e.data)) {
        done();
        resolve(e.data.key);
      }
    };
    const onIpc = (m: unknown): void => {
      if (isKeyMessage(m)) {
        done();
        resolve(m.key);
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new SentinelError(
          `SENTINEL_KEY_SOURCE=parent, but no key arrived from the parent process within ${timeoutMs / 1000} s`,
          'internal',
        ),
      );
    }, timeoutMs);
    port?.on('message', onPort);
    process.on('message', onIpc);
  });
}
