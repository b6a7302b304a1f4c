import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFightLine } from '../../contract';
import { openRegistry, type InferencePool } from '../../analytics/inference';
import { writeTinyClipClassifier, writeTinyTemporalClipClassifier } from '../../analytics/rules/tiny-clip-model';
import { describeOnBothDatabases } from '../../test/support/dialects';
import { openFightModel } from '../analytics/models';
import { LeaseStore } from '../cluster/leases';
import { NodeFightModel, nodeFightStates, type FightOpener } from './fight';

const log = pino({ level: 'silent' });
const settings = { workers: 1, intraOpThreads: 1, maxFrameAgeMs: 5000 };
/** The pool the runners get now, or null for the built-in classifier. */
const poolOf = (f: NodeFightModel): InferencePool | null => {
  const c = f.choice();
  return c.kind === 'model' ? c.pool : null;
};

/**
 * An analytics node's fight classifier swap, on real pools (onnxruntime in worker threads)
 * opened and proven by the core's openFightModel from a registry holding the generated tiny
 * clip classifiers: `tiny-fight` as made, `tiny-temporal-fight` with its weights damaged.
 */
describe("an analytics node's fight classifier", () => {
  let dir: string;
  const opened: string[] = [];
  const opener: FightOpener = (name) => {
    opened.push(name);
    return openFightModel(openRegistry({ manifestDir: dir, modelsDir: dir, assetsDir: null }), name, settings, log);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-node-fight-'));
    for (const { manifest, path } of [writeTinyClipClassifier(dir), writeTinyTemporalClipClassifier(dir)]) {
      writeFileSync(join(dir, `${manifest.name}.json`), JSON.stringify(manifest));
      if (manifest.name === 'tiny-temporal-fight') {
        const bytes = readFileSync(path);
        bytes[bytes.length - 1]! ^= 0xff;
        writeFileSync(path, bytes);
      }
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a good model over, refuses a damaged one keeping the one it ran, and goes back to the built-in one', async () => {
    const fight = new NodeFightModel(opener, log);
    try {
      expect(fight.choice()).toEqual({ kind: 'classifier' });
      expect(fight.state()).toEqual({ model: 'builtin', running: 'builtin', problem: null });

      fight.follow('tiny-fight');
      // Until it is proven, the built-in classifier keeps deciding.
      expect(fight.state()).toEqual({ model: 'tiny-fight', running: 'builtin', problem: null });
      expect(fight.choice()).toEqual({ kind: 'classifier' });
      await fight.settled();
      const good = poolOf(fight);
      expect(good?.model).toBe('tiny-fight');
      expect(fight.state()).toEqual({ model: 'tiny-fight', running: 'tiny-fight', problem: null });

      fight.follow('tiny-temporal-fight');
      await fight.settled();
      expect(poolOf(fight)).toBe(good);
      const refused = fight.state();
      expect(refused).toMatchObject({ model: 'tiny-temporal-fight', running: 'tiny-fight' });
      expect(refused.problem).toMatch(/tiny_temporal_clip\.onnx has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
      expect(good?.state).toEqual({ state: 'ready' });
      expect(nodeFightLine(refused)).toMatch(/^runs tiny-fight: tiny-temporal-fight refused: .*has sha256/);

      // The same choice at every heartbeat is not opened again.
      const tries = opened.length;
      fight.follow('tiny-temporal-fight');
      await fight.settled();
      expect(opened.length).toBe(tries);

      fight.follow(null);
      await fight.settled();
      expect(fight.choice()).toEqual({ kind: 'classifier' });
      expect(fight.state()).toEqual({ model: 'builtin', running: 'builtin', problem: null });
      // The replaced pool finishes what it holds, then stops.
      await expect.poll(() => good?.state.state).toBe('closed');
    } finally {
      await fight.close();
    }
  }, 30_000);

  it('refuses a model of another task or an unknown one, naming why', async () => {
    const fight = new NodeFightModel((name) => opener(name), log);
    try {
      fight.follow('yolo-huge');
      await fight.settled();
      expect(fight.state()).toEqual({
        model: 'yolo-huge',
        running: 'builtin',
        problem: 'unknown model "yolo-huge"; available: tiny-fight, tiny-temporal-fight',
      });
      expect(fight.choice()).toEqual({ kind: 'classifier' });
    } finally {
      await fight.close();
    }
  });

  it('keeps only the newest of choices that came while one was opening', async () => {
    const fight = new NodeFightModel(opener, log);
    try {
      fight.follow('tiny-fight');
      fight.follow(null);
      await fight.settled();
      expect(fight.state()).toEqual({ model: 'builtin', running: 'builtin', problem: null });
      expect(fight.choice()).toEqual({ kind: 'classifier' });
      // And a choice the node already runs needs no second pool.
      fight.follow('tiny-fight');
      await fight.settled();
      expect(poolOf(fight)?.model).toBe('tiny-fight');
      const tries = opened.length;
      fight.follow('tiny-fight');
      await fight.settled();
      expect(opened.length).toBe(tries);
    } finally {
      await fight.close();
    }
    expect(fight.choice()).toEqual({ kind: 'classifier' });
  }, 30_000);

  it('an opener that throws is a refusal too', async () => {
    const fight = new NodeFightModel(() => Promise.reject(new Error('worker died')), log);
    fight.follow('tiny-fight');
    await fight.settled();
    expect(fight.state()).toEqual({ model: 'tiny-fight', running: 'builtin', problem: 'worker died' });
    await fight.close();
  });
});

describe('nodeFightLine', () => {
  it('says what a node runs against the console choice', () => {
    expect(nodeFightLine({ model: 'builtin', running: 'builtin', problem: null })).toBe('runs the built-in classifier');
    expect(nodeFightLine({ model: 'x', running: 'x', problem: null })).toBe('runs x');
    expect(nodeFightLine({ model: 'x', running: 'builtin', problem: null })).toBe('runs the built-in classifier while it opens x');
    expect(nodeFightLine({ model: 'x', running: 'builtin', problem: 'x.onnx failed to load' })).toBe(
      'runs the built-in classifier: x refused: x.onnx failed to load',
    );
    expect(nodeFightLine({ model: 'builtin', running: 'builtin', problem: null }, 'x')).toBe(
      'runs the built-in classifier (it gets x at its next heartbeat)',
    );
  });
});

describeOnBothDatabases("the nodes' fight classifiers for the models view", (open) => {
  it('lists each live node from its lease, by name, leaving out lapsed ones and leases without a report', async () => {
    const sql = await open();
    const leases = new LeaseStore(sql);
    const now = Date.now();
    const fight = { model: 'tiny-fight', running: 'builtin', problem: 'tiny_clip.onnx is missing' };
    await leases.acquire('node:b', 'b', 6000, { name: 'node-2', load: { cameras: 0, fps: 0, cpu: 0 }, fight }, now);
    await leases.acquire(
      'node:a',
      'a',
      6000,
      { name: 'node-1', load: { cameras: 0, fps: 0, cpu: 0 }, fight: { ...fight, running: 'tiny-fight', problem: null } },
      now,
    );
    await leases.acquire('node:c', 'c', 1000, { name: 'node-3', fight }, now - 5000);
    await leases.acquire('node:d', 'd', 6000, { name: 'node-4' }, now);
    await leases.acquire('camera:x', 'a', 6000, {}, now);
    expect(await nodeFightStates(sql, now)).toEqual([
      { nodeId: 'a', nodeName: 'node-1', model: 'tiny-fight', running: 'tiny-fight', problem: null },
      { nodeId: 'b', nodeName: 'node-2', ...fight },
    ]);
  });
});
