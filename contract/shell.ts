/**
 * What the Electron preload exposes to the renderer as `window.sentinelShell`, and nothing
 * more (no Node, no ipcRenderer). In a plain browser it is absent and the renderer falls
 * back to web APIs (Web Notifications), so both share this one type.
 */
export interface SentinelShell {
  readonly kind: 'electron';
  readonly platform: string;
  readonly appVersion: string;
  /** A native desktop notification; resolves when shown. */
  notify(title: string, body: string): Promise<void>;
  /**
   * The local core's state as the Electron main process sees it: it restarts a core that died
   * and the console says so. Returns the unsubscribe function.
   */
  onCoreStatus(fn: (status: CoreStatus) => void): () => void;
  /**
   * Opens the video wall in a second window (on a second monitor when there is one), in the
   * same session: signed in as this window is. Focuses it when already open.
   */
  openWall(): Promise<void>;
}

export type CoreStatus = { state: 'running'; url: string } | { state: 'restarting'; attempt: number; inMs: number; reason: string };

export const SHELL_GLOBAL = 'sentinelShell';
