// Preload: exposes exactly the SentinelShell interface (contract/shell.ts) to the console.
// No Node, no ipcRenderer, no generic invoke: each capability is one named function.
import { contextBridge, ipcRenderer } from 'electron';

const shell = {
  kind: 'electron' as const,
  platform: process.platform,
  appVersion: process.versions.electron ?? 'unknown',
  notify: (title: string, body: string): Promise<void> => ipcRenderer.invoke('sentinel:notify', { title: String(title), body: String(body) }),
};

contextBridge.exposeInMainWorld('sentinelShell', shell);
