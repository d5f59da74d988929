import type { Logger } from 'pino';
import { AppConfig } from '@mintline/common/config';
import { KeyRotationService, RotationResult } from '@mintline/credentials/key-rotation.service';
import { withContext } from './app-context';

/**
 * Rotation without downtime: put the new key first in MASTER_KEYS on every instance (the old one stays
 * listed, so it still decrypts), run this, then drop the old key from MASTER_KEYS.
 */
export function rotateKeys(config: AppConfig, logger: Logger, databaseUrl: string): Promise<RotationResult> {
  return withContext(config, logger, databaseUrl, (context) => context.get(KeyRotationService).rotate());
}
