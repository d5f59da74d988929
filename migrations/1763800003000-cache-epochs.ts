import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One counter per cached kind of row, bumped in the transaction of every change to such a row. Each
 * request reads the counters (one query, shared by the requests that arrive together) before using a
 * cache, so a change committed on one instance is seen by the very next request on any instance.
 */
export class CacheEpochs1763800003000 implements MigrationInterface {
  name = 'CacheEpochs1763800003000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE cache_epochs (topic text PRIMARY KEY, epoch bigint NOT NULL DEFAULT 0)`);
    await db.query(`INSERT INTO cache_epochs (topic) VALUES ('user'), ('api-key'), ('org'), ('credentials'), ('caller-id')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE cache_epochs`);
  }
}
