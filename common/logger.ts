// The logger interface every layer codes against. It is pino's type (type-only: no pino code
// is loaded by importing this); the one factory that makes loggers is common/node/logger.ts.
export type { Logger, LevelWithSilent } from 'pino';
