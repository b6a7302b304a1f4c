/**
 * Bus Tracker polling plan. `getvehicles` takes at most 10 routes per call and a key gets
 * about 10,000 calls a day, so polling all ~125 CTA routes every 30 s (13 calls x 2,880
 * cycles = 37,440 calls) would exhaust the key by mid-morning. The planner groups routes
 * into calls and stretches the cycle until a whole day fits the budget, keeping headroom.
 */
export const ROUTES_PER_CALL = 10;
export const DEFAULT_DAILY_BUDGET = 10_000;

export interface PollPlan {
  /** Route groups, one `getvehicles` call each. */
  batches: string[][];
  /** Time between the starts of two full cycles. */
  cycleMs: number;
  /** Spacing between the calls of one cycle (spreads load and diffs over the cycle). */
  callSpacingMs: number;
  callsPerDay: number;
  /** True when the wanted interval had to be stretched to stay within the budget. */
  stretched: boolean;
}

export function planBusPolling(
  routes: readonly string[],
  opts: { wantedIntervalMs: number; dailyBudget?: number; headroom?: number },
): PollPlan {
  const unique = [...new Set(routes.map((r) => r.trim()).filter((r) => r !== ''))];
  const batches: string[][] = [];
  for (let i = 0; i < unique.length; i += ROUTES_PER_CALL) batches.push(unique.slice(i, i + ROUTES_PER_CALL));
  const budget = Math.floor((opts.dailyBudget ?? DEFAULT_DAILY_BUDGET) * (1 - (opts.headroom ?? 0.05)));
  if (batches.length === 0) return { batches, cycleMs: opts.wantedIntervalMs, callSpacingMs: 0, callsPerDay: 0, stretched: false };
  const dayMs = 86_400_000;
  const minCycleMs = Math.ceil((dayMs * batches.length) / budget / 1000) * 1000;
  const cycleMs = Math.max(opts.wantedIntervalMs, minCycleMs);
  return {
    batches,
    cycleMs,
    callSpacingMs: Math.floor(cycleMs / batches.length),
    callsPerDay: Math.ceil(dayMs / cycleMs) * batches.length,
    stretched: cycleMs > opts.wantedIntervalMs,
  };
}

/** Where a budget's calls are counted: in memory, or in the database so that it survives restarts. */
export interface CallLedger {
  /** Calls made in the day before `at` (ms). */
  countDay(at: number): Promise<number>;
  /** Records a call at `at` if fewer than `limit` were made in the day before; false when not. */
  take(at: number, limit: number): Promise<boolean>;
}

export const DAY_MS = 86_400_000;

/** A ledger in this process's memory: one timestamp per call. */
export class MemoryCallLedger implements CallLedger {
  private readonly calls: number[] = [];
  private count(at: number): number {
    while (this.calls.length > 0 && (this.calls[0] as number) <= at - DAY_MS) this.calls.shift();
    return this.calls.length;
  }
  countDay(at: number): Promise<number> {
    return Promise.resolve(this.count(at));
  }
  take(at: number, limit: number): Promise<boolean> {
    if (this.count(at) >= limit) return Promise.resolve(false);
    this.calls.push(at);
    return Promise.resolve(true);
  }
}

/** Counts calls in a rolling 24 h window, so a restart loop or a bug cannot burn the key. */
export class CallBudget {
  constructor(
    private readonly perDay: number,
    private readonly now: () => number = Date.now,
    private readonly ledger: CallLedger = new MemoryCallLedger(),
  ) {}
  tryTake(): Promise<boolean> {
    return this.ledger.take(this.now(), this.perDay);
  }
  /** Calls made in the last 24 h. */
  used(): Promise<number> {
    return this.ledger.countDay(this.now());
  }
}
