import type { Logger } from 'pino';
import { signCheckpoint } from '@mintline/audit/checkpoints/audit-checkpoint';
import { AuditCheckpointsRepository } from '@mintline/audit/checkpoints/audit-checkpoints.repository';
import { AuditSigningKeys } from '@mintline/audit/checkpoints/audit-signing-keys';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { AuditChainHeadsRepository } from '@mintline/audit/mints/audit-chain-heads.repository';
import { AuditVerifier } from '@mintline/audit/mints/audit-verifier.service';
import { Clock } from '@mintline/common/clock';
import { AppConfig } from '@mintline/common/config';
import { Db } from '@mintline/common/database/db';
import { withContext } from './app-context';

export interface SignedHead {
  orgId: string;
  seq: number;
  hash: string;
  keyId: string;
  at: string;
  /** The newest entry a valid checkpoint vouched for before (null: none did). */
  previousSignedThroughSeq: number | null;
}

/**
 * The operator vouches for an org's chain head after investigating why the service withheld it (an
 * instance killed between a batch's commit and its checkpoint, a checkpoint that failed to be stored, or
 * a tail found and judged). Signs only the head the operator names, and only while it is still the head
 * and the chain up to it verifies; the checkpoint and its configuration event commit together. The
 * running instances then find the checkpoint covering the head their next batch starts from, and sign again.
 */
export function signHead(config: AppConfig, logger: Logger, databaseUrl: string, orgId: string, seq: number, hash: string): Promise<SignedHead> {
  return withContext(config, logger, databaseUrl, async (context) => {
    const verifier = context.get(AuditVerifier);
    const keys = context.get(AuditSigningKeys);
    const clock = context.get(Clock);
    const events = context.get(ConfigEventsService);
    return context
      .get(Db)
      .system('cli')
      .transaction(async (tx) => {
        // The row lock holds the org's writers back until this commits, so the head checked is the head signed.
        const head = await AuditChainHeadsRepository.lockHead(tx, orgId);
        if (!head) throw new Error(`org ${orgId} has no audit chain: nothing signed`);
        if (Number(head.seq) !== seq || head.hash.toString('hex') !== hash) {
          throw new Error(
            `the head of org ${orgId}'s chain is entry ${head.seq} with hash ${head.hash.toString('hex')}, not entry ${seq} with hash ${hash}: nothing signed; inspect the chain again`,
          );
        }
        // Walks the chain from its anchor to this head in a snapshot taken after the lock: checkpoints and links.
        const verification = await verifier.verify(orgId);
        if (!verification.ok) throw new Error(`org ${orgId}'s chain does not verify (${verification.detail}): nothing signed`);
        if (verification.signedThroughSeq === seq) throw new Error(`a checkpoint already covers entry ${seq} of org ${orgId}'s chain: nothing to sign`);
        const checkpoint = signCheckpoint(keys, { orgId, seq, hash, at: new Date(clock.nowMs()).toISOString() });
        await AuditCheckpointsRepository.insert(tx, checkpoint);
        await events.recordFor(tx, orgId, {
          actor: { kind: 'operator', id: null },
          action: 'audit.head_vouched',
          targetType: 'audit',
          targetId: null,
          details: { seq, hash, keyId: checkpoint.keyId, previousSignedThroughSeq: verification.signedThroughSeq, unsignedTail: verification.unsignedTail },
        });
        return { orgId, seq, hash, keyId: checkpoint.keyId, at: checkpoint.at, previousSignedThroughSeq: verification.signedThroughSeq };
      });
  });
}
