import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Credentials of the providers added on 2026-11-26 (API.md, "More providers"): LiveKit, Agora, Vonage
 * and Telnyx. The table's provider check is widened to the provider registry's names as of this
 * migration (libs/providers/src/provider-registry.ts); a provider added later widens it again.
 */
export class MoreProviders1764170000000 implements MigrationInterface {
  name = 'MoreProviders1764170000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE credentials DROP CONSTRAINT credentials_provider_check`);
    await db.query(
      `ALTER TABLE credentials ADD CONSTRAINT credentials_provider_check
         CHECK (provider IN ('sinch-voice', 'sinch-project', 'signalwire', 'twilio', 'livekit', 'agora', 'vonage', 'telnyx'))`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM credentials WHERE provider IN ('livekit', 'agora', 'vonage', 'telnyx')`);
    await db.query(`ALTER TABLE credentials DROP CONSTRAINT credentials_provider_check`);
    await db.query(`ALTER TABLE credentials ADD CONSTRAINT credentials_provider_check CHECK (provider IN ('sinch-voice', 'sinch-project', 'signalwire', 'twilio'))`);
  }
}
