import { useEffect } from 'react';

/** The console's regions, reachable from anywhere with one key (keyboard-first operation). */
export const REGIONS = [
  { id: 'map', key: '1', label: 'Map' },
  { id: 'alerts', key: '2', label: 'Alert queue' },
  { id: 'cameras', key: '3', label: 'Cameras' },
] as const;
export type RegionId = (typeof REGIONS)[number]['id'];

export interface Shortcut {
  keys: string;
  what: string;
}

/** Shown by the help overlay (`?`). Features add theirs where they handle them. */
export const SHORTCUTS: Shortcut[] = [
  ...REGIONS.map((r) => ({ keys: r.key, what: `Focus ${r.label.toLowerCase()}` })),
  { keys: 'F6 / Shift+F6', what: 'Next / previous region' },
  { keys: '?', what: 'Show or hide keyboard shortcuts' },
  { keys: 'Esc', what: 'Close dialog, leave the current region' },
];

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function focusRegion(id: RegionId): void {
  document.getElementById(`region-${id}`)?.focus();
}

/** Global shortcuts for region focus and help; ignored while the operator types in a field. */
export function useGlobalShortcuts(onHelp: () => void, onEscape: () => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') {
        onEscape();
        return;
      }
      if (isTyping(e.target) || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === '?') {
        e.preventDefault();
        onHelp();
        return;
      }
      if (e.key === 'F6') {
        e.preventDefault();
        const current = REGIONS.findIndex((r) => document.activeElement?.closest(`#region-${r.id}`));
        const next = (current + (e.shiftKey ? REGIONS.length - 1 : 1) + REGIONS.length) % REGIONS.length;
        const region = REGIONS[current < 0 ? 0 : next];
        if (region) focusRegion(region.id);
        return;
      }
      const region = REGIONS.find((r) => r.key === e.key);
      if (region) {
        e.preventDefault();
        focusRegion(region.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onHelp, onEscape]);
}

/**
 * Focus rule for regions that hold more than one list (the alert region holds the incident
 * queue and the alert queue): a list marks its root with `data-key-scope`, and a key acts
 * only on the list whose scope holds the focused element. Returns that scope, or null when
 * the focus is on the region itself (or outside any list).
 */
export function keyScope(target: EventTarget | null): string | null {
  if (!(target instanceof Element)) return null;
  return target.closest('[data-key-scope]')?.getAttribute('data-key-scope') ?? null;
}

/** True while a text field, select or editable element has the focus: letters are typing, not commands. */
export function isTypingTarget(target: EventTarget | null): boolean {
  return isTyping(target);
}
