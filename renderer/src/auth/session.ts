import { createContext, useContext } from 'react';
import type { Role, User } from '../../../contract';

export interface SessionValue {
  user: User;
  signOut(): void;
}

export const SessionContext = createContext<SessionValue | null>(null);

/** The signed-in user (inside <AuthGate>). */
export function useSession(): SessionValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <AuthGate>');
  return s;
}

/**
 * Whether the signed-in role may do something. The console hides what a role cannot do;
 * the core enforces it regardless (a hidden button is convenience, not security).
 */
export function can(role: Role, action: 'manageCameras' | 'manageUsers' | 'workIncidents' | 'readAudit' | 'sendTestAlert'): boolean {
  if (role === 'admin') return true;
  switch (action) {
    case 'manageCameras':
      return role === 'technician';
    case 'workIncidents':
      return role === 'operator';
    case 'readAudit':
      return role === 'reviewer';
    case 'manageUsers':
    case 'sendTestAlert':
      return false;
  }
}
