import { useEffect, useRef, type ReactNode } from 'react';
import type { AssetsStatus } from '../../../contract';
import { SHORTCUTS } from './keyboard';

function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="overlay" onClick={onClose}>
      <div className="dialog" role="dialog" aria-modal="true" aria-label={title} tabIndex={-1} ref={ref} onClick={(e) => e.stopPropagation()}>
        <header>
          <h2>{title}</h2>
          <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.keys}>
              <td>
                <kbd>{s.keys}</kbd>
              </td>
              <td>{s.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}

export function AssetsDialog({ assets, onClose }: { assets: AssetsStatus; onClose: () => void }) {
  return (
    <Dialog title="Missing assets" onClose={onClose}>
      <p className="muted">Assets directory: {assets.dir ?? 'not configured (set SENTINEL_ASSETS)'}</p>
      <ul className="asset-list">
        {assets.missing.map((m) => (
          <li key={m.path}>
            <strong>{m.what}</strong> <code>{m.path}</code>
            <div className="muted">{m.impact}</div>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
