import { useEffect, useRef, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import type { AssetsStatus } from '../../../contract';
import './dialogs.css';
import { SHORTCUTS } from './keyboard';

function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="overlay" onClick={onClose}>
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-label={title}
        tabIndex={-1}
        ref={ref}
        onClick={(e) => e.stopPropagation()}
      >
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

/**
 * Asks before an action that cannot be taken back or that tells people outside the control
 * centre (escalating notifies the police liaisons). Enter or the confirm button goes ahead;
 * Esc, the cancel button or a click outside does not. Rendered into document.body so the
 * keys pressed here never reach the list that opened it, and focus goes back to that list.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const confirm = useRef<HTMLButtonElement>(null);
  const opener = useRef<Element | null>(document.activeElement);
  useEffect(() => {
    confirm.current?.focus();
    const back = opener.current;
    return () => {
      if (back instanceof HTMLElement && back.isConnected) back.focus();
    };
  }, []);
  return createPortal(
    <div className="overlay" onClick={onCancel}>
      <div
        className="dialog dialog-confirm"
        role="alertdialog"
        aria-modal="true"
        aria-label={title}
        data-testid="confirm-dialog"
        onClick={(e) => e.stopPropagation()}
        onKeyDown={(e) => {
          // Keys stay in the dialog: Esc here must not also leave the region behind it.
          e.stopPropagation();
          if (e.key === 'Escape') {
            e.preventDefault();
            onCancel();
          } else if (e.key === 'Tab') {
            // Two buttons: Tab moves between them and never leaves the dialog.
            e.preventDefault();
            const buttons = [...e.currentTarget.querySelectorAll('button')];
            const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
            buttons[(i + (e.shiftKey ? buttons.length - 1 : 1)) % buttons.length]?.focus();
          }
        }}
      >
        <header>
          <h2>{title}</h2>
        </header>
        <div className="dialog-body">{children}</div>
        <footer className="dialog-buttons">
          <button type="button" className="ghost-button" onClick={onCancel} data-testid="confirm-cancel">
            Cancel <kbd>Esc</kbd>
          </button>
          <button type="button" className="danger-button" ref={confirm} onClick={onConfirm} data-testid="confirm-ok">
            {confirmLabel} <kbd>Enter</kbd>
          </button>
        </footer>
      </div>
    </div>,
    document.body,
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
