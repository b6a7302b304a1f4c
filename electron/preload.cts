// Preload: exposes exactly the SentinelShell interface (contract/shell.ts) to the console.
// No Node, no ipcRenderer, no generic invoke: each capability is one named function.
import { contextBridge, ipcRenderer } from 'electron';

const shell = {
  kind: 'electron' as const,
  platform: process.platform,
  appVersion: process.versions.electron ?? 'unknown',
  notify: (title: string, body: string): Promise<void> =>
    ipcRenderer.invoke('sentinel:notify', { title: String(title), body: String(body) }),
  openWall: (): Promise<void> => ipcRenderer.invoke('sentinel:open-wall'),
  onCoreStatus: (fn: (status: unknown) => void): (() => void) => {
    const listener = (_e: unknown, status: unknown): void => fn(status);
    ipcRenderer.on('sentinel:core-status', listener);
    return () => void ipcRenderer.off('sentinel:core-status', listener);
  },
};

contextBridge.exposeInMainWorld('sentinelShell', shell);
