import { z } from 'zod';

/**
 * Roles (issue 7). Every route in the contract's route table names the roles that may call
 * it; the core denies by default. `admin` may do everything.
 */
export const Role = z.enum(['operator', 'liaison', 'technician', 'reviewer', 'admin']);
export type Role = z.infer<typeof Role>;
export const ROLES = Role.options;
