import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { signCheckpoint } from '@mintline/audit/checkpoints/audit-checkpoint';
import { AuditSigningKeys } from '@mintline/audit/checkpoints/audit-signing-keys';
import { AuditVerifier } from '@mintline/audit/mints/audit-verifier.service';
import { Clock } from '@mintline/common/clock';
import { AppConfig } from '@mintline/common/config';
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
    return context.get(DataSource).transaction(async (manager) => {
      // The row lock holds the org's writers back until this commits, so the head checked is the head signed.
      const [head]: Array<{ seq: string; hash: Buffer }> = await manager.query('SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1 FOR UPDATE', [orgId]);
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
      await manager.query(`INSERT INTO audit_checkpoints (org_id, seq, hash, at, key_id, signature) VALUES ($1, $2, decode($3, 'hex'), $4, $5, decode($6, 'base64'))`, [
        checkpoint.orgId,
        checkpoint.seq,
        checkpoint.hash,
        checkpoint.at,
        checkpoint.keyId,
        checkpoint.signature,
      ]);
      await manager.query(
        `INSERT INTO config_events (id, org_id, at, actor_kind, actor_id, action, target_type, target_id, details)
         VALUES ($1, $2, $3, 'operator', NULL, 'audit.head_vouched', 'audit', NULL, $4)`,
        [
          randomUUID(),
          orgId,
          clock.now(),
          JSON.stringify({ seq, hash, keyId: checkpoint.keyId, previousSignedThroughSeq: verification.signedThroughSeq, unsignedTail: verification.unsignedTail }),
        ],
      );
      return { orgId, seq, hash, keyId: checkpoint.keyId, at: checkpoint.at, previousSignedThroughSeq: verification.signedThroughSeq };
    });
  });
}
