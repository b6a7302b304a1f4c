import { describe, expect, it } from 'vitest';
import { LiaisonScope, ROLES } from '../../contract';
import { canSee, CAMERA_RESOURCE_KINDS, type PlaceScope } from './visibility';

const scope = (s: Partial<LiaisonScope>): LiaisonScope => LiaisonScope.parse(s);
const loop: PlaceScope = { district: '1', lines: ['Red'], routes: [] };
const ohare: PlaceScope = { district: '16', lines: ['Blue'], routes: [] };
const bus22: PlaceScope = { district: '19', lines: [], routes: ['22'] };

describe('canSee: the one visibility rule', () => {
  it('admin, operators, technicians and reviewers see every camera resource, alert and incident', () => {
    for (const role of ['admin', 'operator', 'technician', 'reviewer'] as const) {
      for (const kind of CAMERA_RESOURCE_KINDS)
        expect(canSee({ role, scope: scope({}) }, { kind, cameraId: 'c', scope: ohare })).toBe(true);
      expect(canSee({ role, scope: scope({}) }, { kind: 'alert', scope: bus22 })).toBe(true);
      expect(canSee({ role, scope: scope({}) }, { kind: 'incident', scope: loop })).toBe(true);
    }
  });

  it('a liaison sees a camera, its clips, live video and alerts only by district, line or route', () => {
    const d1 = { role: 'liaison' as const, scope: scope({ districts: ['1'] }) };
    const blue = { role: 'liaison' as const, scope: scope({ lines: ['Blue'] }) };
    const r22 = { role: 'liaison' as const, scope: scope({ routes: ['22'] }) };
    for (const kind of CAMERA_RESOURCE_KINDS) {
      expect(canSee(d1, { kind, cameraId: 'c', scope: loop })).toBe(true);
      expect(canSee(d1, { kind, cameraId: 'c', scope: ohare })).toBe(false);
      expect(canSee(blue, { kind, cameraId: 'c', scope: ohare })).toBe(true);
      expect(canSee(blue, { kind, cameraId: 'c', scope: loop })).toBe(false);
      expect(canSee(r22, { kind, cameraId: 'c', scope: bus22 })).toBe(true);
      expect(canSee(r22, { kind, cameraId: 'c', scope: loop })).toBe(false);
    }
    expect(canSee(d1, { kind: 'incident', scope: ohare })).toBe(false);
    // A liaison with no scope at all sees nothing placed, and nothing unplaced.
    expect(
      canSee({ role: 'liaison', scope: scope({}) }, { kind: 'camera', cameraId: 'c', scope: { district: null, lines: [], routes: [] } }),
    ).toBe(false);
  });

  it('an escalated alert reaches the escalation liaison, not the others', () => {
    expect(
      canSee({ role: 'liaison', scope: scope({ districts: ['1'], escalation: true }) }, { kind: 'alert', scope: ohare, escalated: true }),
    ).toBe(true);
    expect(canSee({ role: 'liaison', scope: scope({ districts: ['1'] }) }, { kind: 'alert', scope: ohare, escalated: true })).toBe(false);
    expect(canSee({ role: 'liaison', scope: scope({ districts: ['1'], escalation: true }) }, { kind: 'alert', scope: ohare })).toBe(false);
  });

  it('evidence and the audit trail: reviewers and admin only', () => {
    for (const role of ROLES) {
      const want = role === 'admin' || role === 'reviewer';
      expect(canSee({ role, scope: scope({ districts: ['1'] }) }, { kind: 'evidence' }), role).toBe(want);
      expect(canSee({ role, scope: scope({}) }, { kind: 'audit' }), role).toBe(want);
    }
  });
});
