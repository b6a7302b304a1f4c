import { z } from 'zod';
import type { Role } from './auth';

/**
 * Cameras: registration, health and clips. The rule that shapes this file: RTSP credentials
 * never leave the core. What the API and socket.io send has the password masked
 * (`rtsp://user:***@host/path`); the core keeps the secret encrypted at rest.
 */

/** Characters that have no business in a camera URL and are a shell-injection smell. */
const FORBIDDEN_URL_CHARS = /[\s;|&$`<>"'\\{}^]/;

export interface ParsedRtspUrl {
  /** The URL with no user info, normalised (scheme lower case). */
  url: string;
  /** Decoded user name and password, when the URL carried them. */
  username?: string;
  password?: string;
  host: string;
}

/**
 * Parses and checks an RTSP URL. Returns a message naming what is wrong, or the URL split
 * into its credential-free form and its (percent-decoded) credentials. Credentials with
 * `@ : %` must be percent-encoded in a URL (`p%40ss`), or sent in the separate fields.
 */
export function parseRtspUrl(raw: string): ParsedRtspUrl | { error: string } {
  if (raw.length === 0) return { error: 'URL is empty' };
  if (raw.length > 2048) return { error: 'URL is longer than 2048 characters' };
  const bad = FORBIDDEN_URL_CHARS.exec(raw);
  if (bad) {
    const what = /\s/.test(bad[0]) ? 'a space or other white space' : `the character "${bad[0]}"`;
    return { error: `URL contains ${what} (at position ${bad.index + 1}); percent-encode it or remove it` };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { error: 'URL contains control characters' };
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(raw)?.[1]?.toLowerCase();
  if (!scheme) return { error: 'URL has no scheme; expected rtsp://host/path' };
  if (scheme !== 'rtsp' && scheme !== 'rtsps') return { error: `URL scheme "${scheme}:" is not supported; expected rtsp:// or rtsps://` };
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { error: 'URL is not a valid URL; expected rtsp://[user:password@]host[:port]/path' };
  }
  if (!u.hostname) return { error: 'URL has no host; expected rtsp://host/path' };
  if (u.port !== '' && (Number(u.port) < 1 || Number(u.port) > 65535)) return { error: `URL port ${u.port} is out of range` };
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = u.username ? decodeURIComponent(u.username) : undefined;
    password = u.password ? decodeURIComponent(u.password) : undefined;
  } catch {
    return {
      error: 'URL credentials have a malformed percent-escape (a "%" must be followed by two hex digits; write a literal % as %25)',
    };
  }
  u.username = '';
  u.password = '';
  return {
    url: u.toString(),
    host: u.hostname,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** Puts credentials into a credential-free URL, percent-encoding `@ : %` and the rest. */
export function withCredentials(url: string, username?: string, password?: string): string {
  if (!username && !password) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(username ?? '');
  u.password = encodeURIComponent(password ?? '');
  return u.toString();
}

/** `rtsp://user:***@host/path`: the only form of a camera URL that leaves the core. */
export function maskRtspUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not parseable: hide the user info after "//", and anything shaped like ":secret@".
    return url.replace(/\/\/[^/]*@/, '//***@').replace(/:[^:@/\s]+@/g, ':***@');
  }
  if (u.password) u.password = '***';
  return u.toString();
}

export const RtspUrl = z.string().superRefine((s, ctx) => {
  const r = parseRtspUrl(s);
  if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error });
});

/** Where a camera is mounted: it decides how an alert is placed (a station, a moving bus). */
export const CameraMount = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('station'), stationId: z.string().min(1).max(64), platform: z.string().max(64).optional() }),
  z.strictObject({ kind: z.literal('bus'), vehicleId: z.string().min(1).max(64) }),
  z.strictObject({ kind: z.literal('railcar'), railcarId: z.string().min(1).max(64), line: z.string().max(32).optional() }),
  z.strictObject({ kind: z.literal('operator_cab'), vehicleId: z.string().min(1).max(64) }),
  z.strictObject({ kind: z.literal('other'), description: z.string().max(200).optional() }),
]);
export type CameraMount = z.infer<typeof CameraMount>;

export const GeoPoint = z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });
export type GeoPoint = z.infer<typeof GeoPoint>;

export const CameraState = z.enum(['connecting', 'live', 'stalled', 'offline', 'disabled']);
export type CameraState = z.infer<typeof CameraState>;

/**
 * Re-identification in the camera's tracker (analytics.reid, docs/analytics.md): whether a
 * person back from an occlusion can get their track back by appearance, and whether it does.
 */
export const CameraReidHealth = z.strictObject({
  /** The tracker re-associates lost tracks by appearance on this camera. */
  enabled: z.boolean(),
  /** The re-identification model in use; null when re-ID is off. */
  model: z.string().nullable(),
  /** Tracks given back to a person by appearance after they were lost, since analytics started on this camera. */
  reassociated: z.number().int(),
  /** Candidates plausible in position and size that were refused because they did not look alike. */
  refused: z.number().int(),
  /** Crops the tracker had embedded (returning people, stale looks). */
  embeddings: z.number().int(),
  /** Why re-ID is off although analytics.reid.enabled asks for it (the model could not be loaded); null otherwise. */
  error: z.string().nullable(),
});
export type CameraReidHealth = z.infer<typeof CameraReidHealth>;

/** What the analytics path did with a camera's frames (absent when analytics does not run on it). */
export const CameraAnalysisHealth = z.strictObject({
  /** Frames per second the tracker and rules ran on, over the last few seconds. */
  fps: z.number(),
  /** Person-detector runs per second over the same window (below fps when motion gating skips still frames). */
  detectorFps: z.number(),
  /** Totals since analytics started on this camera. */
  frames: z.number().int(),
  detectorRuns: z.number().int(),
  /** Frames skipped because the previous one was still being analysed (the pool is saturated). */
  skippedBusy: z.number().int(),
  /** Frames whose detection was skipped because nothing moved (gating). */
  skippedNoMotion: z.number().int(),
  gating: z.boolean(),
  /** Motion in the last frame. */
  motion: z.boolean(),
  /** The person detector this camera uses. */
  model: z.string(),
  /** Re-identification in the tracker; absent from a node that does not report it (an older version). */
  reid: CameraReidHealth.optional(),
});
export type CameraAnalysisHealth = z.infer<typeof CameraAnalysisHealth>;

export const CameraHealth = z.strictObject({
  state: CameraState,
  /** Frames per second the decoder delivered over the last few seconds. */
  fpsIn: z.number(),
  /** Frames per second handed to subscribers (analytics). */
  fpsOut: z.number(),
  frames: z.number().int(),
  /** Frames superseded in the slot before anyone took them. */
  dropped: z.number().int(),
  reconnects: z.number().int(),
  lastFrameAt: z.string().nullable(),
  lastError: z.string().nullable(),
  /** Source size as ffmpeg reports it (changes when the camera changes resolution). */
  sourceWidth: z.number().int().nullable(),
  sourceHeight: z.number().int().nullable(),
  since: z.string(),
  /**
   * The live stream (restreamer): what viewers get, and whether it had to be transcoded. For a
   * camera an analytics node holds, the core's own RTSP session for its viewers (`session`
   * 'viewers', opened while anyone watches): `idle` while none is open. With several core
   * replicas it is the session of the replica that sent this health (each opens its own for
   * the viewers connected to it).
   */
  live: z
    .strictObject({
      state: z.enum(['connecting', 'live', 'offline', 'disabled', 'idle']),
      /**
       * Whose session: 'camera', the one this process holds on a camera it runs (viewers, the
       * recorder and analysis read it); 'viewers', the core's own session on a camera an
       * analytics node runs, only for its live viewers and snapshots.
       */
      session: z.enum(['camera', 'viewers']),
      codec: z.string().nullable(),
      width: z.number().int().nullable(),
      height: z.number().int().nullable(),
      fps: z.number(),
      kbps: z.number(),
      /** Viewers, the recorder and the analysis decoder fed from the camera's one RTSP session. */
      consumers: z.number().int(),
      /** Why the stream is transcoded (a codec browsers cannot play), or null: passed through. */
      transcoding: z.string().nullable(),
      /** Why the session last failed (refused, 401, stalled...), null while it has not. */
      lastError: z.string().nullable(),
      /** A viewers' session nobody watches any more closes then (ISO); null while watched or for a camera's own session. */
      closesAt: z.string().nullable(),
    })
    .optional(),
  /** The analytics side (core/analytics); absent or null when the camera is not analysed. */
  analysis: CameraAnalysisHealth.nullable().optional(),
  /**
   * How far back the camera's recording goes: the start of its oldest kept segment (ISO), or
   * null with no recording. Added by the core from the recording index, so ingest's own
   * report leaves it out.
   */
  recordingSince: z.string().nullable().optional(),
});
export type CameraHealth = z.infer<typeof CameraHealth>;

/**
 * Live video over a WebSocket (`cameraLive`): binary messages are fragmented MP4 (the init
 * segment first, then one fragment per frame from a keyframe), text messages are these.
 * `stream` precedes each init (a new stream session: the player resets its decoder);
 * `clock` maps the stream's media time to the core's wall clock, for the player's delay.
 */
export const LiveMessage = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('stream'),
    codec: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    serverTime: z.number(),
  }),
  z.strictObject({ type: z.literal('clock'), mediaTime: z.number(), serverTime: z.number() }),
  z.strictObject({ type: z.literal('ended'), reason: z.string() }),
  z.strictObject({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type LiveMessage = z.infer<typeof LiveMessage>;

const CameraName = z.string().trim().min(1, 'name must not be empty').max(120);
/** Credentials may hold any printable characters, including `@ : %`. */
const Secret = z.string().max(256);

export const CameraCreate = z.strictObject({
  name: CameraName,
  /** Main stream (recorded). Credentials may be in the URL (percent-encoded) or the fields below. */
  url: RtspUrl,
  /** Optional lower-resolution sub-stream used for detection. */
  subUrl: RtspUrl.nullable().optional(),
  username: Secret.optional(),
  password: Secret.optional(),
  mount: CameraMount.default({ kind: 'other' }),
  location: GeoPoint.nullable().default(null),
  analyticsEnabled: z.boolean().default(true),
  recordingEnabled: z.boolean().default(true),
});
export type CameraCreate = z.input<typeof CameraCreate>;

export const CameraUpdate = z.strictObject({
  name: CameraName.optional(),
  url: RtspUrl.optional(),
  subUrl: RtspUrl.nullable().optional(),
  /** null clears the stored credentials. */
  username: Secret.nullable().optional(),
  password: Secret.nullable().optional(),
  mount: CameraMount.optional(),
  location: GeoPoint.nullable().optional(),
  analyticsEnabled: z.boolean().optional(),
  recordingEnabled: z.boolean().optional(),
});
export type CameraUpdate = z.input<typeof CameraUpdate>;

/** A camera as every client sees it: URLs masked, no secret. */
export const Camera = z.strictObject({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  subUrl: z.string().nullable(),
  username: z.string().nullable(),
  hasPassword: z.boolean(),
  mount: CameraMount,
  location: GeoPoint.nullable(),
  analyticsEnabled: z.boolean(),
  recordingEnabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  health: CameraHealth,
});
export type Camera = z.infer<typeof Camera>;

export const CameraList = z.strictObject({ cameras: z.array(Camera) });
export type CameraList = z.infer<typeof CameraList>;

export const CameraHealthEvent = z.strictObject({ cameraId: z.string(), health: CameraHealth });
export type CameraHealthEvent = z.infer<typeof CameraHealthEvent>;

export const CameraRemovedEvent = z.strictObject({ id: z.string() });
export type CameraRemovedEvent = z.infer<typeof CameraRemovedEvent>;

/** A clip request: ISO times or ms since epoch; pre/post-roll default to the recorder's config. */
export const ClipRequest = z.strictObject({
  from: z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]),
  to: z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]),
  preRollS: z.number().min(0).max(300).optional(),
  postRollS: z.number().min(0).max(300).optional(),
});
export type ClipRequest = z.input<typeof ClipRequest>;

export const Clip = z.strictObject({
  id: z.string(),
  cameraId: z.string(),
  /** What the clip actually covers (keyframe-aligned), as ISO times. */
  startAt: z.string(),
  endAt: z.string(),
  durationS: z.number(),
  bytes: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  snapshotSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  createdAt: z.string(),
});
export type Clip = z.infer<typeof Clip>;

export const ClipList = z.strictObject({ clips: z.array(Clip) });

/** The recorded spans of a camera, oldest first (a gap is a reconnect or recording off). */
export const RecordingSpans = z.strictObject({
  spans: z.array(z.strictObject({ from: z.string(), to: z.string() })),
  /** The core's clock when answered: the right end of the scrub bar. */
  now: z.string(),
});
export type RecordingSpans = z.infer<typeof RecordingSpans>;

/** The query of the playback WebSocket: where to start, ms since epoch. */
export const PlaybackQuery = z.strictObject({ at: z.coerce.number().int().positive() });

/** Close code of a playback socket whose recording has been played to its end. */
export const PLAYBACK_END_CODE = 4000;
export type ClipList = z.infer<typeof ClipList>;

/**
 * Camera routes, spread into the `routes` table (contract/api.ts). Paths with `:id` are
 * filled in with `cameraPath`. (The literal base avoids an import cycle with api.ts.)
 */
/** Registering and changing cameras is the technicians' job (admin passes everything). */
const TECHNICIANS: readonly Role[] = ['technician'];

export const cameraRoutes = {
  cameras: {
    method: 'GET',
    path: '/api/v1/cameras',
    response: CameraList,
    roles: ['operator', 'technician', 'reviewer', 'liaison'] as readonly Role[],
  },
  camera: {
    method: 'GET',
    path: '/api/v1/cameras/:id',
    response: Camera,
    roles: ['operator', 'technician', 'reviewer', 'liaison'] as readonly Role[],
  },
  cameraCreate: { method: 'POST', path: '/api/v1/cameras', response: Camera, roles: TECHNICIANS as readonly Role[] },
  cameraUpdate: { method: 'PATCH', path: '/api/v1/cameras/:id', response: Camera, roles: TECHNICIANS as readonly Role[] },
  cameraDelete: {
    method: 'DELETE',
    path: '/api/v1/cameras/:id',
    response: z.strictObject({ deleted: z.literal(true) }),
    roles: TECHNICIANS as readonly Role[],
  },
  /**
   * WebSocket upgrade: live video as fMP4 (see LiveMessage). A plain GET answers 426. Liaisons
   * see only cameras in their scope.
   */
  cameraLive: {
    method: 'GET',
    path: '/api/v1/cameras/:id/live',
    response: z.unknown(),
    roles: ['operator', 'technician', 'reviewer', 'liaison'] as readonly Role[],
  },
  /**
   * WebSocket upgrade: the rolling recording from `?at=` (ms since epoch), remuxed to fMP4
   * on the fly and paced in real time, in the same LiveMessage protocol as live video (its
   * `clock` gives the recorded wall-clock time). Closed with 4000 at the end of the recording.
   */
  cameraPlayback: {
    method: 'GET',
    path: '/api/v1/cameras/:id/playback',
    response: z.unknown(),
    roles: ['operator', 'technician', 'reviewer', 'liaison'] as readonly Role[],
  },
  /** What the rolling recording holds: contiguous spans, for the playback scrub bar. */
  cameraRecording: {
    method: 'GET',
    path: '/api/v1/cameras/:id/recording',
    response: RecordingSpans,
    roles: ['operator', 'technician', 'reviewer', 'liaison'] as readonly Role[],
  },
  /** image/jpeg: the newest analysis frame; 503 while the camera has none. */
  cameraSnapshot: {
    method: 'GET',
    path: '/api/v1/cameras/:id/snapshot.jpg',
    response: z.unknown(),
    roles: ['operator', 'technician', 'reviewer', 'liaison'] as readonly Role[],
  },
  cameraClipCreate: {
    method: 'POST',
    path: '/api/v1/cameras/:id/clips',
    response: Clip,
    roles: ['operator', 'reviewer', 'technician'] as readonly Role[],
  },
  cameraClips: {
    method: 'GET',
    path: '/api/v1/cameras/:id/clips',
    response: ClipList,
    roles: ['operator', 'reviewer', 'technician', 'liaison'] as readonly Role[],
  },
  clip: {
    method: 'GET',
    path: '/api/v1/clips/:id',
    response: Clip,
    roles: ['operator', 'reviewer', 'technician', 'liaison'] as readonly Role[],
  },
  /** video/mp4 and image/jpeg of a clip. */
  clipVideo: {
    method: 'GET',
    path: '/api/v1/clips/:id/video.mp4',
    response: z.unknown(),
    roles: ['operator', 'reviewer', 'technician', 'liaison'] as readonly Role[],
  },
  clipSnapshot: {
    method: 'GET',
    path: '/api/v1/clips/:id/snapshot.jpg',
    response: z.unknown(),
    roles: ['operator', 'reviewer', 'technician', 'liaison'] as readonly Role[],
  },
} as const;

export function cameraPath(path: string, id: string): string {
  return path.replace(':id', encodeURIComponent(id));
}
