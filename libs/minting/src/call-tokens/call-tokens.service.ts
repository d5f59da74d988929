import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { MintAuditInput } from '@mintline/audit/mints/mint-audit.types';
import { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import type { TenantPrincipal } from '@mintline/access/principal';
import { Clock } from '@mintline/common/clock';
import { Db, TenantDb } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import type { RequestMeta } from '@mintline/common/http/request-context';
import { CALL_TOKEN_TTL, CallTokenProvider, hashCallToken } from '@mintline/providers/call-token/call-token.provider';
import { MintAuditFacts, mintActorOf, mintAuditEntry } from '../mint-audit-entry';
import { Minted, MintPipeline } from '../mint-pipeline.service';
import { CALL_TOKEN_CHANGES, lookingAgain, LOST } from './call-token-changes';
import { CallTokenRow, CallTokensRepository } from './call-tokens.repository';
import { CallTokenView, CreateCallTokenDto, CreatedCallTokenView, RedeemedCallTokenView } from './call-token.dto';

const invalid = (code: string, message: string) => ApiError.unauthorized(message, code);

@Injectable()
export class CallTokensService {
  constructor(
    private readonly db: Db,
    private readonly pipeline: MintPipeline,
    private readonly provider: CallTokenProvider,
    private readonly audit: MintAuditWriter,
    private readonly clock: Clock,
  ) {}

  async mint(principal: TenantPrincipal, dto: CreateCallTokenDto, meta: RequestMeta): Promise<CreatedCallTokenView> {
    const db = this.db.forOrg(principal.orgId);
    // A token stored by a mint refused in the end (its caches moved under it and it was checked again,
    // see MintPipeline) is withdrawn: it was never handed out. (After a 503 the database is in doubt;
    // such a token, never handed out either, is left as before.)
    const held: { stored?: Minted<CreatedCallTokenView> } = {};
    try {
      return await this.mintThrough(principal, dto, meta, db, held);
    } catch (error) {
      if (held.stored && error instanceof ApiError && error.status < 500) {
        await CallTokensRepository.withdraw(db, held.stored.body.id, this.clock.now()).catch(() => undefined);
      }
      throw error;
    }
  }

  private mintThrough(
    principal: TenantPrincipal,
    dto: CreateCallTokenDto,
    meta: RequestMeta,
    db: TenantDb,
    held: { stored?: Minted<CreatedCallTokenView> },
  ): Promise<CreatedCallTokenView> {
    return this.pipeline.run({
      provider: 'call-token',
      principal,
      meta,
      // A call token is for an endpoint, not for a user.
      subject: async () => null,
      requestedTarget: `endpoint:${dto.endpointId}`,
      // The endpoint is checked by the statement that stores the token (one round trip, not two), so
      // its refusals come from the mint step; they are audited alike, with the endpoint as target.
      target: async () => ({ name: `endpoint:${dto.endpointId}`, value: dto.endpointId }),
      mint: async ({ target: endpointId }) => {
        const minted = await this.provider.mint(undefined, { endpointId, ttlSeconds: dto.ttlSeconds ?? CALL_TOKEN_TTL.default });
        const id = randomUUID();
        const stored = await CallTokensRepository.insertForEndpoint(db, {
          id,
          endpointId,
          tokenHash: minted.tokenHash,
          createdAt: this.clock.now(),
          expiresAt: minted.expiresAt,
          mintedByKind: principal.kind,
          mintedById: principal.kind === 'user' ? principal.userId : principal.apiKeyId,
        });
        if (stored === 'no_endpoint') throw new ApiError(400, 'ENDPOINT_NOT_FOUND', 'No such endpoint in your org');
        if (stored === 'not_webrtc') throw new ApiError(400, 'ENDPOINT_NOT_WEBRTC', 'The endpoint is not WebRTC-capable');
        if (stored === 'archived') throw ApiError.conflict('ENDPOINT_ARCHIVED', 'The endpoint is archived and takes no new sessions');
        held.stored = {
          token: minted.token,
          expiresAt: minted.expiresAt,
          body: { id, token: minted.token, endpointId, expiresAt: minted.expiresAt.toISOString() },
        };
        return held.stored;
      },
    });
  }

  async get(orgId: string, id: string): Promise<CallTokenView> {
    const row = await CallTokensRepository.byId(this.db.forOrg(orgId), id);
    if (!row) throw ApiError.notFound('Call token not found');
    return {
      id: row.id,
      endpointId: row.endpoint_id,
      status: this.statusOf(row),
      createdAt: row.created_at.toISOString(),
      expiresAt: row.expires_at.toISOString(),
      redeemedAt: row.redeemed_at?.toISOString() ?? null,
      mintedBy: { kind: row.minted_by_kind, id: row.minted_by_id },
    };
  }

  /**
   * Revokes a token that has not been redeemed; revoking twice is harmless. The revocation and its audit
   * entry commit together, in the audit writer's transaction (MintAuditWriter.recordChange, see
   * CALL_TOKEN_CHANGES): a revocation that could not be audited did not happen.
   */
  async revoke(principal: TenantPrincipal, id: string, meta: RequestMeta): Promise<void> {
    const db = this.db.forOrg(principal.orgId);
    await lookingAgain(async () => {
      const row = await CallTokensRepository.byId(db, id);
      if (!row) throw ApiError.notFound('Call token not found');
      if (row.redeemed_at) throw ApiError.conflict('TOKEN_REDEEMED', 'The token was already redeemed');
      if (row.revoked_at) return;
      const entry = mintAuditEntry(
        {
          orgId: principal.orgId,
          provider: 'call-token',
          action: 'revoke',
          actor: mintActorOf(principal),
          subjectUserId: null,
          target: `endpoint:${row.endpoint_id}`,
          meta,
        },
        { outcome: 'issued', expiresAt: row.expires_at },
      );
      // Redeemed or revoked since it was read: look again and answer as that outcome would have.
      const made = await this.audit.recordChange(entry, CALL_TOKEN_CHANGES, { orgId: principal.orgId, id, action: 'revoke', at: this.clock.now(), sessionId: null });
      return made ? undefined : LOST;
    });
  }

  /**
   * Exchanges a token for a session exactly once. The conditional UPDATE (CallTokensRepository.settle,
   * under the row's lock) is the decision: of any number of concurrent redeemers (on any instance) one
   * changes the row; the others see it redeemed. It runs in the audit writer's transaction, with the
   * entry (MintAuditWriter.recordChange), so the session is handed out only once its entry is committed,
   * and a redemption that could not be audited rolled back: the token stays redeemable.
   */
  async redeem(token: string, meta: RequestMeta): Promise<RedeemedCallTokenView> {
    if (!/^mct_[A-Za-z0-9_-]{43}$/.test(token)) throw invalid('TOKEN_INVALID', 'Invalid call token');
    const hash = hashCallToken(token);
    // The token is all the (anonymous) caller has: it names its org, so finding it is cross-tenant;
    // once found, its redemption is bound to that org.
    return lookingAgain(async () => {
      const now = this.clock.now();
      const row = await CallTokensRepository.byHash(this.db.system('credential lookup by hash'), hash);
      if (!row) throw invalid('TOKEN_INVALID', 'Invalid call token');
      const refusal = this.refusalOf(row, now);
      if (refusal) {
        await this.audit.record(this.redemptionEntry(row, token, meta, refusal));
        throw refusal;
      }
      const sessionId = randomUUID();
      // Throws (503) when the entry cannot be committed; the redemption then did not happen either.
      const made = await this.audit.recordChange(this.redemptionEntry(row, token, meta, undefined), CALL_TOKEN_CHANGES, {
        orgId: row.org_id,
        id: row.id,
        action: 'redeem',
        at: now,
        sessionId,
      });
      // Redeemed, revoked or made unusable since it was read: look again, and refuse for that.
      if (!made) return LOST;
      return { sessionId, endpointId: row.endpoint_id, orgId: row.org_id };
    });
  }

  private redemptionEntry(row: CallTokenRow, token: string, meta: RequestMeta, refusal: ApiError | undefined): MintAuditInput {
    const facts: MintAuditFacts = {
      orgId: row.org_id,
      provider: 'call-token',
      action: 'redeem',
      // The redeemer is anonymous: the entry is attributed to whoever minted the token.
      actor: { kind: row.minted_by_kind, id: row.minted_by_id },
      subjectUserId: null,
      target: `endpoint:${row.endpoint_id}`,
      meta,
    };
    const expiresAt = row.expires_at;
    return mintAuditEntry(facts, refusal ? { outcome: 'refused', error: refusal, token, expiresAt } : { outcome: 'issued', token, expiresAt });
  }

  /** Why this token cannot be redeemed now, or undefined if it can. */
  private refusalOf(row: CallTokenRow, now: Date): ApiError | undefined {
    if (row.redeemed_at) return invalid('TOKEN_REDEEMED', 'The call token was already redeemed');
    if (row.revoked_at) return invalid('TOKEN_REVOKED', 'The call token was revoked');
    if (row.expires_at.getTime() <= now.getTime()) return invalid('TOKEN_EXPIRED', 'The call token has expired');
    // Valid token, but its endpoint was archived or WebRTC switched off since it was minted.
    if (!row.usable) return invalid('TOKEN_INVALID', 'The call token can no longer be used');
    return undefined;
  }

  private statusOf(row: CallTokenRow): CallTokenView['status'] {
    if (row.revoked_at) return 'revoked';
    if (row.redeemed_at) return 'redeemed';
    if (row.expires_at.getTime() <= this.clock.nowMs()) return 'expired';
    return 'active';
  }
}
