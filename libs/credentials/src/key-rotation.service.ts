import { Injectable } from '@nestjs/common';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { Db } from '@mintline/common/database/db';
import { CredentialsRepository } from './credentials.repository';
import { EnvelopeCipher } from './envelope-cipher';

export interface RotationResult {
  primaryKeyId: string;
  rowsChecked: number;
  rowsRewrapped: number;
  secretsRewrapped: number;
}

/**
 * Re-encrypts every stored secret under the primary master key. Safe while the service runs: each row
 * is rewritten in its own short transaction under a row lock, old key ids keep decrypting until their
 * rows are done, and instances drop their cached copies through the bus.
 */
@Injectable()
export class KeyRotationService {
  constructor(
    private readonly db: Db,
    private readonly cipher: EnvelopeCipher,
    private readonly bus: InvalidationBus,
  ) {}

  async rotate(): Promise<RotationResult> {
    const result: RotationResult = { primaryKeyId: this.cipher.primaryKeyId, rowsChecked: 0, rowsRewrapped: 0, secretsRewrapped: 0 };
    const keys = await CredentialsRepository.everyKey(this.db.system('key rotation'));
    for (const { org_id: orgId, provider } of keys) {
      result.rowsChecked += 1;
      await this.db.forOrg(orgId).transaction(async (tx) => {
        const row = await CredentialsRepository.lock(tx, provider);
        if (!row) return;
        let rewrapped = 0;
        const secrets = { ...row.secrets };
        for (const [field, secret] of Object.entries(secrets)) {
          if (!this.cipher.needsRewrap(secret)) continue;
          secrets[field] = this.cipher.rewrap(secret, { orgId, provider, field });
          rewrapped += 1;
        }
        if (rewrapped === 0) return;
        await CredentialsRepository.setSecrets(tx, provider, secrets);
        await this.bus.publish('credentials', `${orgId}/${provider}`, tx);
        result.rowsRewrapped += 1;
        result.secretsRewrapped += rewrapped;
      });
    }
    return result;
  }
}
