import type { Logger } from 'pino';
import { AuditChainHeadsRepository } from '@mintline/audit/mints/audit-chain-heads.repository';
import { AuditVerifier, ChainVerification } from '@mintline/audit/mints/audit-verifier.service';
import { AuditPartitionsService, PruneResult } from '@mintline/audit/retention/audit-partitions.service';
import { Clock } from '@mintline/common/clock';
import { AppConfig } from '@mintline/common/config';
import { Db } from '@mintline/common/database/db';
import { withContext } from './app-context';

/** Verifies one org's chain, or every org that has one. */
export function verifyAudit(config: AppConfig, logger: Logger, databaseUrl: string, orgId?: string): Promise<Array<{ orgId: string } & ChainVerification>> {
  return withContext(config, logger, databaseUrl, async (context) => {
    const orgIds: string[] = orgId ? [orgId] : await AuditChainHeadsRepository.orgs(context.get(Db).system('cli'));
    const verifier = context.get(AuditVerifier);
    const results = [];
    for (const id of orgIds) results.push({ orgId: id, ...(await verifier.verify(id)) });
    return results;
  });
}

/** Drops the audit partitions before the month `before` (YYYY-MM), anchoring each org's chain; `clock` dates its events. */
export function pruneAudit(config: AppConfig, logger: Logger, databaseUrl: string, before: string, clock?: Clock): Promise<PruneResult> {
  return withContext(config, logger, databaseUrl, (context) => context.get(AuditPartitionsService).prune(before), clock);
}
