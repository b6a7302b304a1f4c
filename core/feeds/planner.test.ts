import { describe, expect, it } from 'vitest';
import { CallBudget, planBusPolling } from './planner';

const routes = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i + 1));

describe('planBusPolling', () => {
  it('groups routes ten per call and keeps the wanted interval when the budget allows', () => {
    const p = planBusPolling(routes(25), { wantedIntervalMs: 60_000 });
    expect(p.batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(p.cycleMs).toBe(60_000);
    expect(p.callsPerDay).toBe(3 * 1440);
    expect(p.stretched).toBe(false);
    expect(p.callSpacingMs).toBe(20_000);
  });

  it('stretches the cycle so all of the CTA routes stay within 10,000 calls a day', () => {
    const p = planBusPolling(routes(127), { wantedIntervalMs: 30_000 });
    expect(p.batches).toHaveLength(13);
    expect(p.stretched).toBe(true);
    expect(p.callsPerDay).toBeLessThanOrEqual(10_000);
    expect(p.callsPerDay).toBeGreaterThan(9_000); // and does not waste the budget either
  });

  it('drops duplicate and blank routes', () => {
    expect(planBusPolling(['22', ' 22', '', '9'], { wantedIntervalMs: 30_000 }).batches).toEqual([['22', '9']]);
  });
});

describe('CallBudget', () => {
  it('refuses calls past the daily budget until the window rolls', async () => {
    let now = 0;
    const b = new CallBudget(2, () => now);
    expect(await b.tryTake()).toBe(true);
    expect(await b.tryTake()).toBe(true);
    expect(await b.tryTake()).toBe(false);
    now = 86_400_001;
    expect(await b.tryTake()).toBe(true);
    expect(await b.used()).toBe(1);
  });
});
