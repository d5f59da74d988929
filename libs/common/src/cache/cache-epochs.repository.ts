import type { DataSource } from 'typeorm';
import type { Tx } from '../database/db';
import type { Sql } from '../database/statement-batch';

/** A row of `cache_epochs`: one counter per cache topic (not a tenant table: every instance reads all of them). */
export interface CacheEpochRow {
  topic: string;
  /** bigint, as text. */
  epoch: string;
}

/** The channel other instances LISTEN on for the key of each change. */
export const CACHE_CHANNEL = 'mintline_cache';

const BUMP: Sql = { text: 'UPDATE cache_epochs SET epoch = epoch + 1 WHERE topic = $1' };
const NOTIFY: Sql = { text: 'SELECT pg_notify($1, $2)' };
const ALL = 'SELECT topic, epoch::text FROM cache_epochs';

export const CacheEpochsRepository = {
  /** Moves the topic's epoch and announces the key, both within `tx` (delivered when it commits). */
  async bump(tx: Tx, topic: string, key: string): Promise<void> {
    await tx.query(BUMP, [topic]);
    await tx.query(NOTIFY, [CACHE_CHANNEL, `${topic}:${key}`]);
  },

  /** Every topic's epoch (the table has no row-level security: any connection reads it). */
  async all(dataSource: DataSource): Promise<CacheEpochRow[]> {
    return dataSource.query<CacheEpochRow[]>(ALL);
  },
};
