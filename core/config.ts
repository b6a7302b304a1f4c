import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { chooseFfmpeg, type FfmpegChoice } from '../analytics/ingest/ffmpeg-binary';
import { LiaisonScope, Role } from '../contract';
import { SentinelError } from './errors';
import { protectionFromEnv, type KeyProtection } from './keys/at-rest';
import { ROOT_DIR } from './version';

/** Where the SSO sign-in returns; the redirect URL registered at the identity provider must end so. */
export const SSO_CALLBACK_PATH = '/api/v1/auth/sso/callback';

/**
 * Single sign-on with the agency's OpenID Connect provider (docs/security.md). A person's
 * role and liaison scope come from the provider's claims through `roles`: the first entry
 * whose claim holds the value wins (list admin first), and someone no entry matches is refused.
 */
const SsoSchema = z.strictObject({
  /** The agency's name on the sign-in button: "Sign in with <label>". */
  label: z.string().trim().min(1).max(60),
  /** The provider's issuer URL (discovery at <issuer>/.well-known/openid-configuration). https, or http on this machine only. */
  issuer: z.url(),
  clientId: z.string().min(1).max(200),
  /** The client secret; prefer SENTINEL_SSO_CLIENT_SECRET, so it stays out of the config file. */
  clientSecret: z.string().min(1).max(500).optional(),
  /** Sentinel's callback as registered at the provider: https://<this core>/api/v1/auth/sso/callback. */
  redirectUrl: z.url().refine((u) => new URL(u).pathname === SSO_CALLBACK_PATH, `the redirect URL's path must be ${SSO_CALLBACK_PATH}`),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'an OAuth scope name')).default(['openid', 'profile', 'email']),
  /** Claim that becomes the Sentinel user name (a new account's); its subject links it afterwards. */
  usernameClaim: z.string().min(1).default('preferred_username'),
  displayNameClaim: z.string().min(1).default('name'),
  roles: z
    .array(
      z.strictObject({
        /** A claim holding a string or a list of strings (the provider's groups, say). */
        claim: z.string().min(1).default('groups'),
        value: z.string().min(1),
        role: Role,
        /** The liaison scope this entry grants (merged with scopeClaims). */
        scope: LiaisonScope.partial().optional(),
      }),
    )
    .min(1, 'map at least one claim value to a role'),
  /** Claims carrying a liaison's scope directly (for example an attribute "cpd_district"). */
  scopeClaims: z
    .strictObject({ districts: z.string().min(1).optional(), lines: z.string().min(1).optional(), routes: z.string().min(1).optional() })
    .prefault({}),
});
export type SsoConfig = z.infer<typeof SsoSchema>;

/**
 * A Postgres connection URL. Only postgres:// (or postgresql://): anything else (a sqlite: or
 * file path, mysql://) is refused rather than guessed at. The message never repeats the URL,
 * which may hold a password.
 */
const DatabaseUrl = z.string().refine((raw) => {
  try {
    const u = new URL(raw);
    return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '';
  } catch {
    return false;
  }
}, 'expected a postgres://user:password@host:port/database URL');

/**
 * The one config file (JSON). Every object is strict: an unknown key is an error that names
 * the key's full path, so a typo ("prot" for "port") never silently falls back to a default.
 * Later features add their own section here.
 */
export const ConfigSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8787),
    })
    .prefault({}),
  /** Where the database, recordings, clips and keys live. */
  dataDir: z.string().min(1).optional(),
  /** Models, footage and map data (the shared assets pack). */
  assetsDir: z.string().min(1).optional(),
  /** Demo mode: simulated cameras and a simulated CTA fleet (`sentinel serve --demo`). */
  demo: z.boolean().default(false),
  /** Transit feeds: CTA Bus Tracker, Train Tracker, GTFS-realtime, the demo fleet. */
  feeds: z
    .strictObject({
      /** A vehicle whose reports stop advancing is shown stale after this long... */
      staleAfterS: z.number().positive().default(120),
      /** ...and dropped after this long (never while its feed is down: last positions stay). */
      dropAfterS: z.number().positive().default(300),
      busTracker: z
        .strictObject({
          /** Bus Tracker API key; env SENTINEL_BUS_TRACKER_KEY is used when absent. No key: feed off. */
          apiKey: z.string().min(1).optional(),
          baseUrl: z.url().default('https://www.ctabustracker.com/bustime/api/v2'),
          /** Routes to poll; empty = every bus route in the assets' GTFS routes.txt. */
          routes: z.array(z.string().min(1)).default([]),
          /** Wanted time between polls of the same route; stretched to fit the daily budget. */
          intervalS: z.number().min(5).default(60),
          dailyBudget: z.number().int().positive().default(10_000),
        })
        .prefault({}),
      trainTracker: z
        .strictObject({
          /** Train Tracker API key; env SENTINEL_TRAIN_TRACKER_KEY is used when absent. */
          apiKey: z.string().min(1).optional(),
          baseUrl: z.url().default('https://lapi.transitchicago.com/api/1.0'),
          intervalS: z.number().min(5).default(15),
        })
        .prefault({}),
      /** Any agency's GTFS-realtime VehiclePositions feeds. */
      gtfsRt: z
        .array(
          z.strictObject({
            id: z.string().regex(/^[a-z0-9-]+$/, 'use lowercase letters, digits and dashes'),
            url: z.url(),
            defaultMode: z.enum(['bus', 'train']).default('bus'),
            intervalS: z.number().min(5).default(30),
          }),
        )
        .default([]),
      /** The demo fleet (`sentinel serve --demo`), on real CTA geometry from the assets. */
      simulator: z
        .strictObject({
          buses: z.number().int().min(0).max(5000).default(1500),
          trains: z.number().int().min(0).max(500).default(100),
          /** 1 = real speeds. */
          speed: z.number().positive().max(100).default(1),
          reportIntervalS: z.number().positive().default(10),
          /** Vehicles report in this many groups spread over the interval. */
          groups: z.number().int().min(1).max(100).default(10),
        })
        .prefault({}),
    })
    .prefault({}),
  /** ONNX inference pool: see docs/inference.md and docs/performance.md. */
  inference: z
    .strictObject({
      /** Worker threads, one onnxruntime session each. Measured on a 2-core VM: 2 workers x 1 thread beat 1 x 2. */
      workers: z.number().int().min(1).max(64).default(2),
      /** onnxruntime intra-op threads per worker. */
      intraOpThreads: z.number().int().min(1).max(64).default(1),
      /** Where model weights live; default `<assetsDir>/models`. Absolute, or relative to the working directory. */
      modelsDir: z.string().min(1).optional(),
      /**
       * Where model manifests (`<name>.json`) are read from; default the install's `models/`. A
       * model of your own (a licensed clip classifier) goes in a copy of that directory.
       */
      manifestDir: z.string().min(1).optional(),
      /** A frame that waited longer than this for a worker is dropped as stale. */
      maxFrameAgeMs: z.number().int().positive().default(2000),
      /** Detector used when a camera or command names none. */
      defaultModel: z.string().min(1).default('yolox-nano'),
    })
    .prefault({}),
  /** Camera ingest: see docs/video.md. */
  ingest: z
    .strictObject({
      /** Frames per second decoded for analytics (the camera may send more). */
      fps: z.number().positive().max(60).default(5),
      /** Frames are scaled to fit inside this box keeping the aspect ratio (the detector's input size). */
      maxWidth: z.number().int().min(32).max(4096).default(416),
      maxHeight: z.number().int().min(32).max(4096).default(416),
      /** No frame for this long: the stream is stalled and ffmpeg is restarted. */
      stallTimeoutS: z.number().min(1).max(120).default(5),
      /** Reconnect delay grows from 1 s to this cap. */
      backoffMaxS: z.number().min(1).max(600).default(30),
      ffmpegPath: z.string().min(1).default('ffmpeg'),
      ffprobePath: z.string().min(1).default('ffprobe'),
      /** `sentinel serve --demo`: the simulator's RTSP port. */
      demoRtspPort: z.number().int().min(1).max(65535).default(8554),
    })
    .prefault({}),
  /** Rolling recording and clips: see docs/video.md. */
  recording: z
    .strictObject({
      enabled: z.boolean().default(true),
      segmentSeconds: z.number().int().min(1).max(600).default(10),
      /** Segments older than this are deleted. */
      retentionHours: z.number().positive().default(24),
      /** Disk budget for all cameras' segments; the oldest go first when it is exceeded. */
      maxDiskGb: z.number().positive().default(20),
      preRollS: z.number().min(0).max(300).default(10),
      postRollS: z.number().min(0).max(300).default(10),
      /** The clip every alert gets: this long before the alert starts to this long after (docs/video.md). */
      alertClip: z
        .strictObject({
          enabled: z.boolean().default(true),
          preRollS: z.number().min(0).max(300).default(10),
          postRollS: z.number().min(0).max(300).default(20),
        })
        .prefault({}),
      /** Where segments and clips go; default `<dataDir>/recordings` and `<dataDir>/clips`. */
      dir: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Users, sessions, liaison push and incidents: see docs/security.md and docs/incidents.md. */
  auth: z
    .strictObject({
      /** A session ends this long after sign-in... */
      sessionHours: z
        .number()
        .positive()
        .max(24 * 30)
        .default(12),
      /** ...or after this long unused (an open console keeps it alive). */
      idleMinutes: z
        .number()
        .positive()
        .max(24 * 60)
        .default(30),
      /** Failed sign-ins allowed per user name before each attempt must wait (per address: 4x). */
      freeFailures: z.number().int().min(1).max(100).default(5),
      /** Roles that must use a second factor; a member without one is taken to enrolment at sign-in. */
      mfaRequiredRoles: z.array(z.enum(['operator', 'liaison', 'technician', 'reviewer', 'admin'])).default(['admin', 'liaison']),
      /** Requests per minute (@fastify/rate-limit): sign-in and set-up per client address, writes per user. */
      rateLimit: z
        .strictObject({
          signInPerMinute: z.number().int().min(1).max(10_000).default(60),
          writesPerMinute: z.number().int().min(1).max(100_000).default(600),
        })
        .prefault({}),
    })
    .prefault({}),
  /** The audit trail's signed checkpoints (docs/security.md, "Anchored audit trail"). */
  audit: z
    .strictObject({
      /** Sign the chain's head once it is this many records past the last checkpoint... */
      checkpointEveryRecords: z.number().int().min(1).max(1_000_000).default(100),
      /** ...and at least this often (seconds) while the trail holds records. */
      checkpointMaxAgeS: z
        .number()
        .min(1)
        .max(7 * 86400)
        .default(3600),
    })
    .prefault({}),
  push: z
    .strictObject({
      /** An alert no one acknowledged within this many seconds escalates. */
      escalateAfterS: z.number().positive().max(3600).default(60),
    })
    .prefault({}),
  incidents: z
    .strictObject({
      /** Alerts on the same camera and zone, or the same vehicle, within this window join one incident. */
      mergeWindowS: z
        .number()
        .min(0)
        .max(24 * 3600)
        .default(300),
      /** Optional dispatch webhook: each incident change is POSTed, signed with HMAC-SHA256. */
      webhook: z
        .strictObject({
          url: z.url(),
          secret: z.string().min(16, 'webhook secret must be at least 16 characters'),
          /** Shutdown waits at most this long for pending deliveries (the rest stays in the outbox for the next start). */
          drainTimeoutS: z.number().min(0).max(300).default(5),
        })
        .optional(),
    })
    .prefault({}),
  /** Rider text reports through a Twilio-compatible provider: see docs/riders.md. */
  sms: z
    .strictObject({
      /** The URL the provider calls (Twilio signs it); default: rebuilt from the request's Host. */
      publicUrl: z.url().optional(),
      /** Twilio auth token (prefer SENTINEL_SMS_AUTH_TOKEN); without one every webhook is refused. */
      authToken: z.string().min(8).optional(),
      accountSid: z.string().min(1).default('AC00000000000000000000000000000000'),
      /** The number riders text (outbound messages come from it). */
      fromNumber: z.string().min(3).default('+13125550100'),
      /** Provider REST base URL (a local server in tests). */
      apiBaseUrl: z.url().default('https://api.twilio.com'),
      /** Inbound messages one number may send per window before it is refused (429). */
      rateLimit: z
        .strictObject({ max: z.number().int().min(1).max(1000).default(10), windowS: z.number().int().min(1).max(86400).default(60) })
        .prefault({}),
      /** Numbers whose texts are dropped (E.164), besides those an operator blocks. */
      blockList: z.array(z.string().min(3).max(32)).default([]),
      /** Conversations are deleted this many days after their last message (audited). */
      retentionDays: z.number().positive().max(3650).default(90),
    })
    .prefault({}),
  /** Live analytics: tracking, zones, alerts. See docs/analytics.md. */
  analytics: z
    .strictObject({
      /** Run the pipeline on cameras with analytics enabled and at least one zone. */
      enabled: z.boolean().default(true),
      /**
       * Cameras run on analytics nodes (`sentinel analytics-node`), not in this process: the core
       * ingests nothing and hands cameras to the nodes that claim them (env SENTINEL_ANALYTICS_NODES=1; docs/scale.md).
       */
      nodes: z.boolean().default(false),
      /** A node that stops heartbeating loses its cameras after this long; nodes heartbeat every third of it. */
      nodeLeaseTtlS: z.number().min(1).max(60).default(6),
      /** Person detector; default inference.defaultModel. */
      model: z.string().min(1).optional(),
      /** A clip classifier (task classify-clip) deciding fights in watch zones; without one, the built-in trained clip classifier (docs/analytics.md). */
      fightModel: z.string().min(1).optional(),
      /** One occupancy sample per camera at most this often (the console's chart). */
      sampleEveryS: z.number().min(0.2).max(3600).default(1),
      occupancyRetentionHours: z
        .number()
        .positive()
        .max(24 * 90)
        .default(24),
      /** Motion gating: the person detector runs on frames with motion, plus a keep-alive (docs/analytics.md). */
      motion: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Grey-level change (1..255) that counts as motion. */
          threshold: z.number().int().min(1).max(255).default(20),
          /** With no motion, one detection at least this often, so people standing still are still counted. */
          keepAliveS: z.number().min(0.2).max(600).default(5),
          /** Keep detecting this long after the last motion. */
          holdS: z.number().min(0).max(60).default(1.5),
          /** Per camera id: polygons (normalised 0..1) where motion never counts (clocks, screens, trees). */
          masks: z.record(z.string(), z.array(z.array(z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)])).min(3))).default({}),
        })
        .prefault({}),
      /** Re-identification in the tracker: a person back from an occlusion keeps their id by appearance (docs/analytics.md). */
      reid: z
        .strictObject({
          enabled: z.boolean().default(false),
          /** Cosine similarity (person-reid-0288 embeddings) a returning person needs with the lost track. */
          minSimilarity: z.number().min(0).max(1).default(0.9),
          /** How long after it was last seen a lost track can be given back. */
          maxLostMs: z.number().int().min(0).max(60_000).default(6000),
          /** Embeddings per camera frame at most (the cost per frame stays bounded in a crowd). */
          maxPerFrame: z.number().int().min(1).max(32).default(4),
        })
        .prefault({}),
    })
    .prefault({}),
  /** The database: the embedded SQLite file in dataDir unless `url` names a Postgres server (docs/scale.md). */
  database: z
    .strictObject({
      /** postgres://user:password@host:port/db (env SENTINEL_DATABASE_URL). Absent: SQLite at <dataDir>/sentinel.db. */
      url: DatabaseUrl.optional(),
    })
    .prefault({}),
  /** Several core replicas sharing the database and Redis: see docs/scale.md. */
  cluster: z
    .strictObject({
      /** Redis for socket.io rooms across replicas and "the log moved" notices (env SENTINEL_REDIS_URL). Absent: one process. */
      redisUrl: z
        .string()
        .regex(/^rediss?:\/\/[^\s]+$/, 'expected a redis:// or rediss:// URL')
        .optional(),
      /** This replica's name in leases and logs; default host-pid-random. */
      replicaId: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, 'use letters, digits, dot, dash and underscore (at most 64)')
        .optional(),
      /** A replica that stops renewing its leases (dead) loses its jobs after this long; renewal runs every third of it. */
      leaseTtlS: z.number().min(1).max(60).default(10),
      /** How often a replica reads the shared lifecycle log for what others committed, besides their Redis notices. */
      followEveryMs: z.number().int().min(50).max(10_000).default(1000),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  /** Single sign-on; without it only local accounts sign in. */
  sso: SsoSchema.optional(),
});
export type ConfigFile = z.input<typeof ConfigSchema>;

/**
 * Resolved configuration: the file's sections with every default applied (so a feature's
 * section added to ConfigSchema flows through untouched), plus absolute paths.
 */
export type Config = Omit<z.infer<typeof ConfigSchema>, 'dataDir' | 'assetsDir'> & {
  dataDir: string;
  assetsDir: string | null;
  /** Where the values came from, for `sentinel serve` to print and for support. */
  configFile: string | null;
  /** Which ffmpeg `ingest.ffmpegPath` resolved to (system, bundled from npm...), for logs and health. */
  ffmpeg?: FfmpegChoice;
  /**
   * What seals the installation's keys at rest (core/keys/at-rest.ts): SENTINEL_KEY_FILE or
   * SENTINEL_KEY_PASSPHRASE, or the desktop app's key (set by `serve` from its parent); null: plain files.
   */
  keyProtection: KeyProtection | null;
  /** `serve --demo` emptied auth.mfaRequiredRoles (the config file did not set it). */
  mfaRelaxedForDemo?: boolean;
};

export interface ConfigOverrides {
  configFile?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  dataDir?: string | undefined;
  assetsDir?: string | undefined;
  demo?: boolean | undefined;
}

/** The default data directory follows the XDG convention (a per-user, writable place). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'sentinel');
}

/**
 * When no assets directory is configured, a development checkout finds the shared assets
 * pack beside the repository (`../shared/assets`), as the tests and CI lay it out.
 */
export function discoverAssetsDir(): string | null {
  const candidate = resolve(ROOT_DIR, '..', 'shared', 'assets');
  return existsSync(candidate) ? candidate : null;
}

function formatIssue(issue: z.core.$ZodIssue, source: string): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `${source}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${source}: "${path || '(root)'}": ${issue.message}`;
}

/** Parses a config document; throws a SentinelError naming the file and the key's path. */
export function parseConfigFile(raw: unknown, source: string): z.infer<typeof ConfigSchema> {
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new SentinelError(first ? formatIssue(first, source) : `${source}: invalid config`, 'validation_failed', first?.path.join('.'));
  }
  return parsed.data;
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SentinelError(`config file ${file} cannot be read (${code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SentinelError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function envPort(env: NodeJS.ProcessEnv, name = 'SENTINEL_PORT', min = 0): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > 65535) {
    throw new SentinelError(`environment variable ${name}="${raw}" is not a port number (${min}-65535)`, 'validation_failed', name);
  }
  return n;
}

/** SENTINEL_DEMO_RTSP_PORT: lets two demo cores on one machine (tests, two checkouts) each run their own simulator. */
function envDemoRtspPort(env: NodeJS.ProcessEnv): number | undefined {
  return envPort(env, 'SENTINEL_DEMO_RTSP_PORT', 1);
}

/** SENTINEL_ANALYTICS_NODES=1 (or 0) overrides analytics.nodes of the file. */
function envNodes(env: NodeJS.ProcessEnv, fromFile: z.infer<typeof ConfigSchema>['analytics']): z.infer<typeof ConfigSchema>['analytics'] {
  const raw = env.SENTINEL_ANALYTICS_NODES;
  if (raw === undefined || raw === '') return fromFile;
  if (raw !== '1' && raw !== '0')
    throw new SentinelError(
      `environment variable SENTINEL_ANALYTICS_NODES="${raw}" must be 1 or 0`,
      'validation_failed',
      'SENTINEL_ANALYTICS_NODES',
    );
  return { ...fromFile, nodes: raw === '1' };
}

/** SENTINEL_REDIS_URL selects the cluster's Redis over the file's, checked like the file's. */
function envRedis(env: NodeJS.ProcessEnv, fromFile: z.infer<typeof ConfigSchema>['cluster']): z.infer<typeof ConfigSchema>['cluster'] {
  const raw = env.SENTINEL_REDIS_URL;
  if (raw === undefined || raw === '') return fromFile;
  const ok = ConfigSchema.shape.cluster.unwrap().shape.redisUrl.safeParse(raw);
  if (!ok.success)
    throw new SentinelError(
      'environment variable SENTINEL_REDIS_URL is not a redis:// or rediss:// URL',
      'validation_failed',
      'SENTINEL_REDIS_URL',
    );
  return { ...fromFile, redisUrl: raw };
}

/** SENTINEL_DATABASE_URL selects the Postgres database over the file's, checked like the file's. */
function envDatabase(env: NodeJS.ProcessEnv, fromFile: z.infer<typeof ConfigSchema>['database']): z.infer<typeof ConfigSchema>['database'] {
  const raw = env.SENTINEL_DATABASE_URL;
  if (raw === undefined || raw === '') return fromFile;
  if (!DatabaseUrl.safeParse(raw).success)
    throw new SentinelError(
      'environment variable SENTINEL_DATABASE_URL is not a postgres://user:password@host:port/database URL',
      'validation_failed',
      'SENTINEL_DATABASE_URL',
    );
  return { ...fromFile, url: raw };
}

/**
 * Precedence, lowest first: built-in defaults, the config file, environment variables
 * (SENTINEL_HOST, SENTINEL_PORT, SENTINEL_DATA_DIR, SENTINEL_ASSETS, SENTINEL_LOG_LEVEL, SENTINEL_REDIS_URL,
 * SENTINEL_DATABASE_URL),
 * then command-line flags.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const configFile = overrides.configFile ?? (env.SENTINEL_CONFIG || undefined);
  const fileAbs = configFile ? resolve(configFile) : null;
  const raw = fileAbs ? readConfigFile(fileAbs) : {};
  const file = parseConfigFile(raw, fileAbs ?? 'defaults');
  const fileDir = fileAbs ? resolve(fileAbs, '..') : process.cwd();

  const level = env.SENTINEL_LOG_LEVEL;
  const logLevel = level ? ConfigSchema.shape.log.unwrap().shape.level.safeParse(level) : null;
  if (logLevel && !logLevel.success) {
    throw new SentinelError(
      `environment variable SENTINEL_LOG_LEVEL="${level}" is not one of fatal, error, warn, info, debug, trace, silent`,
      'validation_failed',
      'SENTINEL_LOG_LEVEL',
    );
  }

  // Paths in the config file are relative to the file; paths from env and flags to the cwd.
  const dataDir =
    overrides.dataDir ?? (env.SENTINEL_DATA_DIR || undefined) ?? (file.dataDir ? resolve(fileDir, file.dataDir) : defaultDataDir(env));
  // Last resort: where `sentinel assets fetch` puts the pack by default.
  const fetched = join(dataDir, 'assets');
  const assetsDir =
    overrides.assetsDir ??
    (env.SENTINEL_ASSETS || undefined) ??
    (file.assetsDir ? resolve(fileDir, file.assetsDir) : (discoverAssetsDir() ?? (existsSync(fetched) ? fetched : null)));

  // No ffmpeg on PATH (a machine with only Node): the one shipped in an npm package instead.
  // The system's stays preferred, and is still named plainly so PATH decides as before.
  const ffmpeg = chooseFfmpeg(file.ingest, env.PATH ?? '');
  const useFfmpeg = ffmpeg.source === 'system' && file.ingest.ffmpegPath === 'ffmpeg' ? 'ffmpeg' : ffmpeg.path;
  const useFfprobe =
    ffmpeg.ffprobe && !(ffmpeg.source === 'system' && file.ingest.ffprobePath === 'ffprobe') ? ffmpeg.ffprobe : file.ingest.ffprobePath;

  const demo = overrides.demo ?? (env.SENTINEL_DEMO === '1' || file.demo);
  // The demo is for looking around on one machine: no role must enrol a second factor unless
  // the config file says so. The sign-in screen and the log say it is relaxed.
  const rawAuth = (raw as { auth?: unknown }).auth;
  const mfaRelaxedForDemo = demo && !(typeof rawAuth === 'object' && rawAuth !== null && 'mfaRequiredRoles' in rawAuth);

  return {
    ...file,
    demo,
    auth: mfaRelaxedForDemo ? { ...file.auth, mfaRequiredRoles: [] } : file.auth,
    mfaRelaxedForDemo,
    server: {
      host: overrides.host ?? (env.SENTINEL_HOST || undefined) ?? file.server.host,
      port: overrides.port ?? envPort(env) ?? file.server.port,
    },
    dataDir: resolve(dataDir),
    assetsDir: assetsDir ? resolve(assetsDir) : null,
    log: { ...file.log, level: logLevel?.success ? logLevel.data : file.log.level },
    ingest: {
      ...file.ingest,
      ffmpegPath: useFfmpeg,
      ffprobePath: useFfprobe,
      demoRtspPort: envDemoRtspPort(env) ?? file.ingest.demoRtspPort,
    },
    cluster: envRedis(env, file.cluster),
    database: envDatabase(env, file.database),
    analytics: envNodes(env, file.analytics),
    sms: { ...file.sms, ...(env.SENTINEL_SMS_AUTH_TOKEN ? { authToken: env.SENTINEL_SMS_AUTH_TOKEN } : {}) },
    sso: file.sso && env.SENTINEL_SSO_CLIENT_SECRET ? { ...file.sso, clientSecret: env.SENTINEL_SSO_CLIENT_SECRET } : file.sso,
    configFile: fileAbs,
    ffmpeg,
    keyProtection: protectionFromEnv(env),
  };
}
