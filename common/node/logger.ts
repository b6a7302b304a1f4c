import { pino } from 'pino';
import type { LevelWithSilent, Logger } from '../logger';

export type { Logger } from '../logger';

/**
 * The root logger writes JSON to stderr so that stdout stays free for CLI output
 * (`--json` lines, the console URL). Every module takes a named child: `log.child({ name })`.
 * Secrets never reach it: redact covers the fields that may carry credentials.
 */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino(
    {
      level,
      base: { app: 'sentinel' },
      redact: {
        paths: [
          'password',
          '*.password',
          'credentials',
          '*.credentials',
          'rtspUrl',
          '*.rtspUrl',
          'headers.authorization',
          'req.headers.authorization',
          'req.headers.cookie',
        ],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
