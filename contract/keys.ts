/**
 * How the Electron shell hands the core its key-protection key (kept by the operating system's
 * keychain through Electron's safeStorage): the first message on the core's parent port when
 * the core was started with SENTINEL_KEY_SOURCE=parent. The key is 32 random bytes, base64.
 */
export const MASTER_KEY_MESSAGE = 'sentinel:master-key' as const;
export interface MasterKeyMessage {
  type: typeof MASTER_KEY_MESSAGE;
  key: string;
}
