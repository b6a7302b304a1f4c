import type { Zone } from '../../contract/zones';
import type { RuleEvent } from '../rules/types';

/** Messages between FightWorker (main thread) and fight-thread.ts. */
export type FightToWorker =
  | {
      type: 'frame';
      id: number;
      /** Camera (or any pipeline) the window state belongs to. */
      key: string;
      /** The zone list's version; `zones` comes along only when it changed. */
      version: number;
      zones?: readonly Zone[];
      t: number;
      width: number;
      height: number;
      /** BGR24 pixels, transferred (and handed back with the answer for reuse). */
      data: ArrayBuffer;
      /** Track ids per zone this frame (they join a fight alert's trackIds). */
      inZone: Array<[string, number[]]>;
    }
  | { type: 'forget'; key: string };

export type FightFromWorker =
  | { type: 'events'; id: number; events: RuleEvent[]; data: ArrayBuffer }
  | { type: 'failed'; id: number; message: string; data: ArrayBuffer };
