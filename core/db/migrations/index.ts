import { m0001 } from './0001_init';
import { m0002 } from './0002_cameras';
import { m0003 } from '../../../analytics/recording/migrations/0003_recordings';
import { m0004 } from './0004_alerts';
import { m0005 } from './0005_analytics';
import { m0006 } from './0006_auth_audit';
import { m0007 } from './0007_incidents';
import { m0008 } from './0008_review';
import { m0009 } from './0009_lifecycle_log';
import { m0010 } from '../../../analytics/recording/migrations/0010_evidence';
import { m0011 } from './0011_sms_statistics';
import { m0012 } from './0012_audit_checkpoints';
import { m0013 } from './0013_leases';
import { m0014 } from './0014_sso_identities';
import { m0015 } from './0015_public_copies';
import { m0016 } from './0016_mfa_sessions';
import { m0017 } from './0017_analytics_models';
import { m0018 } from '../../wall/migrations/0018_user_prefs';
import { m0019 } from './0019_warning_alerts';
import { m0020 } from '../../nodes/migrations/0020_analytics_nodes';
import { m0021 } from './0021_export_builders';
import type { Migration } from './types';

export type { Migration };

/**
 * All migrations in order. A new one takes the next number and is appended here. A feature
 * may keep its migrations in its own folder (recording's tables: analytics/recording/migrations);
 * the numbering is still one global sequence, listed here.
 */
export const MIGRATIONS: readonly Migration[] = [
  m0001,
  m0002,
  m0003,
  m0004,
  m0005,
  m0006,
  m0007,
  m0008,
  m0009,
  m0010,
  m0011,
  m0012,
  m0013,
  m0014,
  m0015,
  m0016,
  m0017,
  m0018,
  m0019,
  m0020,
  m0021,
];
