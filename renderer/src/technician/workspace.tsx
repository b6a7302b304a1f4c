import { useEffect, useState } from 'react';
import type { Role } from '../../../contract';
import { can } from '../auth/session';
import { SHORTCUTS } from '../shell/keyboard';

export { TechnicianWorkspace } from './TechnicianWorkspace';

/** The console's workspaces, each shown to the roles that work in it. */
export type WorkspaceId = 'operations' | 'wall' | 'cameras' | 'review' | 'audit';
const ALL: { id: WorkspaceId; label: string; allowed: (r: Role) => boolean }[] = [
  { id: 'operations', label: 'Operations', allowed: () => true },
  { id: 'wall', label: 'Video wall', allowed: (r) => r !== 'liaison' },
  { id: 'cameras', label: 'Cameras', allowed: (r) => can(r, 'manageCameras') },
  { id: 'review', label: 'Review', allowed: (r) => r === 'reviewer' || r === 'operator' || r === 'admin' },
  { id: 'audit', label: 'Audit', allowed: (r) => can(r, 'readAudit') },
];
/** F2 is free in browsers and Electron alike (Alt+digit switches browser tabs on Linux). */
export const WORKSPACE_KEY = 'F2';
if (!SHORTCUTS.some((s) => s.keys === WORKSPACE_KEY))
  SHORTCUTS.push({ keys: WORKSPACE_KEY, what: 'Next workspace (Operations / Video wall / Cameras / Review / Audit)' });

export interface Workspace {
  current: WorkspaceId;
  available: { id: WorkspaceId; label: string }[];
  set(id: WorkspaceId): void;
}

/**
 * Which workspace the console shows. Technicians, reviewers, operators and admins get more than one; the
 * choice survives a reload within the tab (sessionStorage), and F2 cycles.
 */
export function useWorkspace(role: Role): Workspace {
  const available = ALL.filter((w) => w.allowed(role)).map(({ id, label }) => ({ id, label }));
  const [current, setCurrent] = useState<WorkspaceId>(() => {
    const saved = globalThis.sessionStorage?.getItem('sentinel.workspace');
    return available.some((w) => w.id === saved) ? (saved as WorkspaceId) : 'operations';
  });
  const set = (id: WorkspaceId): void => {
    setCurrent(id);
    globalThis.sessionStorage?.setItem('sentinel.workspace', id);
  };
  const ids = available.map((w) => w.id).join(',');
  useEffect(() => {
    if (available.length < 2) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key !== WORKSPACE_KEY) return;
      e.preventDefault();
      setCurrent((c) => {
        const list = ids.split(',') as WorkspaceId[];
        const next = list[(list.indexOf(c) + 1) % list.length] ?? 'operations';
        globalThis.sessionStorage?.setItem('sentinel.workspace', next);
        return next;
      });
    };
    globalThis.addEventListener('keydown', onKey);
    return () => globalThis.removeEventListener('keydown', onKey);
    // `ids` stands for `available` (a new array every render).
  }, [ids, available.length]);
  return { current: available.some((w) => w.id === current) ? current : 'operations', available, set };
}

/** The workspace switch in the top bar (nothing for a role with one workspace). */
export function WorkspaceTabs({ workspace }: { workspace: Workspace }) {
  if (workspace.available.length < 2) return null;
  return (
    <nav className="workspace-tabs" role="tablist" aria-label={`Workspaces (${WORKSPACE_KEY} switches)`}>
      {workspace.available.map((w) => (
        <button
          key={w.id}
          type="button"
          role="tab"
          aria-selected={workspace.current === w.id}
          className={`workspace-tab ${workspace.current === w.id ? 'active' : ''}`}
          onClick={() => workspace.set(w.id)}
          title={`${w.label} (${WORKSPACE_KEY} switches workspaces)`}
        >
          {w.label}
        </button>
      ))}
    </nav>
  );
}
