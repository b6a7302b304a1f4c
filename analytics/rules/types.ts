import type { AlertKind } from '../../contract/alerts';
import type { Zone } from '../../contract/zones';
import type { Track } from '../tracking/tracker';

/** What every rule sees of one analysed frame. */
export interface RuleFrame {
  /** Frame time, ms (video time offline, capture time live). */
  t: number;
  width: number;
  height: number;
  /** Confirmed tracks counted as present (visible, or coasting through a short occlusion). */
  tracks: readonly Track[];
  /** Track ids inside each zone this frame. */
  inZone: ReadonlyMap<string, readonly number[]>;
  /** Grey frame (one byte per pixel) and the previous analysed one, for motion energy. */
  grey: Uint8Array | null;
  prevGrey: Uint8Array | null;
  /** The vehicle's speed in km/h when known (bus cameras with a live feed); null when not. */
  speedKmh: number | null;
  /** This frame's detections of things other than people (COCO labels, source pixels), for the object rules. */
  objects: readonly RuleObject[];
}

/** A detected object that is not a person (a backpack, a suitcase...). */
export interface RuleObject {
  label: string;
  score: number;
  box: readonly [number, number, number, number];
}

/**
 * A rule's decision about one alert. `key` identifies the alert within the pipeline (one
 * zone, one rule): the pipeline's owner maps it to a persisted alert id.
 */
export type RuleEvent =
  | {
      type: 'raise';
      key: string;
      kind: AlertKind;
      zone: Zone;
      t: number;
      score: number;
      trackIds: number[];
      detail: Record<string, number | string | boolean | null>;
    }
  | {
      type: 'clear';
      key: string;
      kind: AlertKind;
      zone: Zone;
      t: number;
      score: number;
      trackIds: number[];
      detail: Record<string, number | string | boolean | null>;
    };

export interface Rule {
  readonly kind: AlertKind;
  /**
   * True when the rule reads the frame's pixels (`grey`, `prevGrey`): the pipeline makes the
   * grey frame only then, since it costs more main-thread time than the motion gate itself.
   */
  readonly usesPixels?: boolean;
  evaluate(frame: RuleFrame): RuleEvent[];
}
