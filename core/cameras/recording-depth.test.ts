import { sql } from 'kysely';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { loadConfig } from '../config';
import { CameraService } from './service';

const since = (s: CameraService, id: string) => s.health(id).recordingSince;

describeOnBothDatabases('CameraService recording depth', (open) => {
  it('reports how far back a camera goes from its cache: loaded at start, moved by each segment, re-read after a sweep', async () => {
    const db = await open();
    for (const id of ['a', 'b'])
      await sql`INSERT INTO cameras (id, name, url, mount, created_at, updated_at) VALUES (${id}, ${id}, 'rtsp://h/x', '{}', 'now', 'now')`.execute(
        db.as(),
      );
    const config = loadConfig({ dataDir: mkdtempSync(join(tmpdir(), 'depth-')) }, {});
    const service = new CameraService(config, db, pino({ level: 'silent' }), () => undefined);
    const seg = (cameraId: string, startMs: number) => ({
      cameraId,
      path: `/r/${cameraId}-${startMs}.mp4`,
      startMs,
      endMs: startMs + 1000,
      bytes: 1,
      session: 1,
    });
    // Written before this process started (another replica, an earlier run).
    await service.segments.add(seg('a', 5000));
    expect(since(service, 'a')).toBeNull();
    await service.startDepth();
    expect(since(service, 'a')).toBe(new Date(5000).toISOString());
    await service.addSegment(seg('a', 9000));
    await service.addSegment(seg('b', 7000));
    expect(since(service, 'a')).toBe(new Date(5000).toISOString());
    expect(since(service, 'b')).toBe(new Date(7000).toISOString());
    // A write that fails (the camera is gone) leaves the cache as it was.
    await expect(service.addSegment(seg('gone', 1))).rejects.toThrow();
    expect(since(service, 'gone')).toBeNull();
    await service.segments.sweep({ maxAgeMs: 0, maxBytes: 1e12 }, 8500);
    await service.refreshDepth();
    expect(since(service, 'a')).toBe(new Date(9000).toISOString());
    expect(since(service, 'b')).toBeNull();
    await service.stopAll();
  });
});
