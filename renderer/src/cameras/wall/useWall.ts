import { useCallback, useEffect, useRef, useState } from 'react';
import { DEFAULT_WALL_PREFS, type WallGroup, type WallPrefs } from '../../../../contract';
import { ApiError, call } from '../../client/api';

/** Saves wait for the person to stop dragging and clicking (one write, one audit record). */
const SAVE_AFTER_MS = 600;

export interface WallState {
  prefs: WallPrefs;
  loaded: boolean;
  saving: boolean;
  problem: string | null;
  update(next: WallPrefs): void;
}

/**
 * The person's wall, kept on the core (GET/PUT /api/v1/me/wall): the same layout opens in
 * Electron, a browser or a popped-out window. Changes show at once and are written shortly
 * after; a failed write says so and keeps what is on screen.
 */
export function useWallPrefs(): WallState {
  const [prefs, setPrefs] = useState<WallPrefs>(DEFAULT_WALL_PREFS);
  const [loaded, setLoaded] = useState(false);
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const pending = useRef<WallPrefs | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    let gone = false;
    call('wallPrefs')
      .then((p) => {
        if (gone || pending.current) return;
        setPrefs(p);
      })
      .catch((err: unknown) => !gone && setProblem(`could not load your wall: ${err instanceof ApiError ? err.message : 'no answer'}`))
      .finally(() => !gone && setLoaded(true));
    return () => {
      gone = true;
    };
  }, []);

  const flush = useCallback(() => {
    const p = pending.current;
    if (!p) return;
    setSaving(true);
    call('wallPrefsPut', { body: p })
      .then(() => {
        if (pending.current === p) pending.current = null;
        setProblem(null);
      })
      .catch((err: unknown) => setProblem(`your wall was not saved: ${err instanceof ApiError ? err.message : 'no answer'}`))
      .finally(() => setSaving(false));
  }, []);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
      flush();
    },
    [flush],
  );

  const update = useCallback(
    (next: WallPrefs) => {
      setPrefs(next);
      pending.current = next;
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(flush, SAVE_AFTER_MS);
    },
    [flush],
  );
  return { prefs, loaded, saving, problem, update };
}

/** The camera groups the core computed for this person; asked again when the camera list changes. */
export function useWallGroups(cameraKey: string): { groups: WallGroup[]; problem: string | null } {
  const [groups, setGroups] = useState<WallGroup[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    call('wallGroups')
      .then((g) => {
        if (gone) return;
        setGroups(g.groups);
        setProblem(null);
      })
      .catch((err: unknown) => !gone && setProblem(err instanceof ApiError ? err.message : 'the core did not answer'));
    return () => {
      gone = true;
    };
  }, [cameraKey]);
  return { groups, problem };
}
