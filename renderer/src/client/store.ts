import { useSyncExternalStore } from 'react';

/**
 * A minimal observable value for state that lives outside React (socket connection,
 * live data pushed by the core). Components read it with `useStore`; updates are applied by
 * replacing the value, so React sees a new snapshot only when something changed.
 */
export class Store<T> {
  private listeners = new Set<() => void>();
  constructor(private value: T) {}
  get = (): T => this.value;
  set(next: T): void {
    if (Object.is(next, this.value)) return;
    this.value = next;
    for (const l of this.listeners) l();
  }
  update(fn: (prev: T) => T): void {
    this.set(fn(this.value));
  }
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export function useStore<T>(store: Store<T>): T {
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}
