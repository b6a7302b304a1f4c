export type { Migration } from '../../../common/node/migration';
