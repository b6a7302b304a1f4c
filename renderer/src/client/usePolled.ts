import { useEffect, useState } from 'react';
import type { z } from 'zod';
import type { RouteName, routes } from '../../../contract';
import { get } from './api';

/**
 * A GET route of the contract read now and every `everyMs` while the component is mounted
 * (status panes: replicas, analytics nodes); null until the first answer, the last error
 * until the next success, and `reload` to read it again at once after a change.
 */
export function usePolled<N extends RouteName>(
  name: N,
  everyMs: number,
): { data: z.infer<(typeof routes)[N]['response']> | null; error: string | null; reload(): void } {
  const [data, setData] = useState<z.infer<(typeof routes)[N]['response']> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    const load = (): void =>
      void get(name, ctl.signal)
        .then((s) => {
          setData(s);
          setError(null);
        })
        .catch((e: unknown) => !ctl.signal.aborted && setError((e as Error).message));
    load();
    const t = setInterval(load, everyMs);
    return () => {
      ctl.abort();
      clearInterval(t);
    };
  }, [name, everyMs, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}
