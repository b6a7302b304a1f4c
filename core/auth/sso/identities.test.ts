import { expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../../test/support/dialects';
import { UserStore } from '../store';
import { SsoIdentities } from './identities';
import type { SsoTables } from './tables';

const ISSUER = 'https://idp.example.gov';
const policy = { ttlMs: 3_600_000, idleMs: 3_600_000 };

describeOnBothDatabases('SsoIdentities', (open) => {
  it('links a provider identity to one user, finds it, and records each sign-in', async () => {
    const db = await open();
    const users = new UserStore(db, policy);
    const ids = new SsoIdentities(db);
    const ann = await users.create(
      { username: 'ann.sso', password: 'a long random password', role: 'operator' },
      { link: (ex, userId) => ids.link(ISSUER, 'sub-ann', userId, ex) },
    );
    const bob = await users.create({ username: 'bob', password: 'a long random password', role: 'operator' });
    expect(await ids.userFor(ISSUER, 'sub-ann')).toBe(ann.id);
    expect(await ids.userFor('https://other.example', 'sub-ann')).toBeNull();
    expect(await ids.userFor(ISSUER, 'SUB-ANN')).toBeNull(); // subjects are exact
    expect(await ids.isLinked(ann.id)).toBe(true);
    expect(await ids.isLinked(bob.id)).toBe(false);

    const row = () => db.as<SsoTables>().selectFrom('sso_identities').selectAll().where('user_id', '=', ann.id).executeTakeFirstOrThrow();
    const before = await row();
    await new Promise((r) => setTimeout(r, 5));
    await ids.touch(ISSUER, 'sub-ann');
    const after = await row();
    expect(after.created_at).toBe(before.created_at);
    expect(after.last_login_at > before.last_login_at).toBe(true);

    // One identity per user and one user per identity.
    await expect(ids.link(ISSUER, 'sub-ann', bob.id)).rejects.toThrow();
    await expect(ids.link(ISSUER, 'sub-other', ann.id)).rejects.toThrow();
    await ids.link(ISSUER, 'sub-bob', bob.id);
    expect(await ids.userFor(ISSUER, 'sub-bob')).toBe(bob.id);
  });
});
