import { expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { NodeStore } from './store';

describeOnBothDatabases('analytics node tokens', (open) => {
  it('issues a token once, checks it by its hash, lists and revokes for good', async () => {
    const store = new NodeStore(await open());
    const { node, token } = await store.create('node-2', 8, 'admin', new Date('2026-12-01T10:00:00Z'));
    const { node: first } = await store.create('node-1', 16, 'admin');
    expect(token).toMatch(/^sn_node_[A-Za-z0-9_-]{43}$/);
    expect(node).toMatchObject({ name: 'node-2', capacity: 8, createdBy: 'admin', createdAt: '2026-12-01T10:00:00.000Z', revokedAt: null });
    await expect(store.create('node-2', 4, 'admin')).rejects.toThrow(/already exists/);
    expect(await store.verify(token)).toEqual(node);
    expect(await store.verify(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeNull();
    expect(await store.verify('not-a-node-token')).toBeNull();
    expect(await store.get(node.id)).toEqual(node);
    expect(await store.byName('node-1')).toEqual(first);
    expect(await store.byName('node-3')).toBeNull();
    expect((await store.list()).map((n) => n.name)).toEqual(['node-1', 'node-2']);
    const revoked = await store.revoke(node.id, new Date('2026-12-02T10:00:00Z'));
    expect(revoked.revokedAt).toBe('2026-12-02T10:00:00.000Z');
    expect((await store.revoke(node.id, new Date('2026-12-03T10:00:00Z'))).revokedAt).toBe('2026-12-02T10:00:00.000Z');
    expect(await store.verify(token)).toBeNull();
    await expect(store.revoke('no-such-id')).rejects.toThrow(/no analytics node/);
  });
});
