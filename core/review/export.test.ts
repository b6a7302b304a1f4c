import { describe, expect, it } from 'vitest';
import { packageFile } from './export';

describe('packageFile: serving a package from the replica a download reaches', () => {
  const on =
    (...paths: string[]) =>
    (p: string) =>
      paths.includes(p);

  it('serves the file wherever it was built when this replica sees it (a shared data directory)', () => {
    expect(packageFile('evidence export e1', '/data/evidence/e1.zip', 'core-a', 'core-b', on('/data/evidence/e1.zip'))).toBe(
      '/data/evidence/e1.zip',
    );
  });

  it("names the building replica and the shared data directory when another replica's file is not here", () => {
    let err: unknown;
    try {
      packageFile('evidence export e1', '/data-a/evidence/e1.zip', 'core-a', 'core-b', on());
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'unavailable',
      message:
        'evidence export e1 was built by core replica core-a and its file /data-a/evidence/e1.zip is not on this replica (core-b): core replicas must share one data directory, mounted at the same path (docs/scale.md)',
    });
  });

  it('says missing when the builder is this replica, unknown (an export from before builders were recorded), or the core runs alone', () => {
    expect(() => packageFile('evidence export e1', '/d/e1.zip', 'core-b', 'core-b', on())).toThrow(
      expect.objectContaining({ code: 'not_found', message: 'the file of evidence export e1 is missing' }),
    );
    expect(() => packageFile('evidence export e1', '/d/e1.zip', null, 'core-b', on())).toThrow(
      expect.objectContaining({ code: 'not_found' }),
    );
    // Alone: the builder is this installation's earlier process, not a sibling.
    expect(() => packageFile('evidence export e1', '/d/e1.zip', 'host-41-abc', null, on())).toThrow(
      expect.objectContaining({ code: 'not_found' }),
    );
  });
});
