import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import type { TenantPrincipal } from '@mintline/access/principal';
import { Clock } from '@mintline/common/clock';
import { TenantScope } from '@mintline/common/database/tenant-scope';
import { ApiError } from '@mintline/common/errors/api-error';
import type { RequestMeta } from '@mintline/common/http/request-context';
import { CALL_TOKEN_TTL, CallTokenProvider, hashCallToken } from '@mintline/providers/call-token/call-token.provider';
import { MintAuditFacts, mintActorOf, mintAuditEntry } from '../mint-audit-entry';
import { MintPipeline } from '../mint-pipeline.service';
import { BUSY, CallTokenRowLock } from './call-token-row-lock';
import { CallTokenView, CreateCallTokenDto, CreatedCallTokenView, RedeemedCallTokenView } from './call-token.dto';

interface CallTokenRow {
  id: string;
  org_id: string;
  endpoint_id: string;
  created_at: Date;
  expires_at: Date;
  redeemed_at: Date | null;
  revoked_at: Date | null;
  minted_by_kind: 'user' | 'api_key';
  minted_by_id: string;
  /** Its endpoint is active and WebRTC-capable and its org has WebRTC on. */
  usable: boolean;
}

/** The rows of an UPDATE ... RETURNING run in a transaction (TypeORM answers those with `[rows, count]`). */
async function rowsOf(manager: EntityManager, sql: string, params: unknown[]): Promise<unknown[]> {
  const result = await manager.queryRunner!.query(sql, params, true);
  return result.records ?? [];
}

const invalid = (code: string, message: string) => ApiError.unauthorized(message, code);

@Injectable()
export class CallTokensService {
  private readonly rowLock: CallTokenRowLock;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly pipeline: MintPipeline,
    private readonly provider: CallTokenProvider,
    private readonly audit: MintAuditWriter,
    private readonly clock: Clock,
  ) {
    this.rowLock = new CallTokenRowLock(dataSource);
  }

  mint(principal: TenantPrincipal, dto: CreateCallTokenDto, meta: RequestMeta): Promise<CreatedCallTokenView> {
    return this.pipeline.run({
      provider: 'call-token',
      principal,
      meta,
      // A call token is for an endpoint, not for a user.
      subject: async () => null,
      requestedTarget: `endpoint:${dto.endpointId}`,
      target: async () => {
        const endpoints: Array<{ webrtc: boolean; state: string }> = await this.dataSource.query(
          'SELECT webrtc, state FROM endpoints WHERE id = $1 AND org_id = $2',
          [dto.endpointId, principal.orgId],
        );
        const endpoint = endpoints[0];
        if (!endpoint) throw new ApiError(400, 'ENDPOINT_NOT_FOUND', 'No such endpoint in your org');
        if (!endpoint.webrtc) throw new ApiError(400, 'ENDPOINT_NOT_WEBRTC', 'The endpoint is not WebRTC-capable');
        if (endpoint.state !== 'active') throw ApiError.conflict('ENDPOINT_ARCHIVED', 'The endpoint is archived and takes no new sessions');
        return { name: `endpoint:${dto.endpointId}`, value: dto.endpointId };
      },
      mint: async ({ target: endpointId }) => {
        const minted = await this.provider.mint(undefined, { endpointId, ttlSeconds: dto.ttlSeconds ?? CALL_TOKEN_TTL.default });
        const id = randomUUID();
        await this.dataSource.query(
          `INSERT INTO call_tokens (id, org_id, endpoint_id, token_hash, created_at, expires_at, minted_by_kind, minted_by_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            id,
            principal.orgId,
            endpointId,
            minted.tokenHash,
            this.clock.now(),
            minted.expiresAt,
            principal.kind,
            principal.kind === 'user' ? principal.userId : principal.apiKeyId,
          ],
        );
        return {
          token: minted.token,
          expiresAt: minted.expiresAt,
          body: { id, token: minted.token, endpointId, expiresAt: minted.expiresAt.toISOString() },
        };
      },
    });
  }

  async get(orgId: string, id: string): Promise<CallTokenView> {
    const row = await this.find('t.id = $1 AND t.org_id = $2', [id, orgId]);
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
   * entry commit together (see CallTokenRowLock): a revocation that could not be audited did not happen.
   */
  async revoke(principal: TenantPrincipal, id: string, meta: RequestMeta): Promise<void> {
    await this.rowLock.retrying(async () => {
      const row = await this.find('t.id = $1 AND t.org_id = $2', [id, principal.orgId]);
      if (!row) throw ApiError.notFound('Call token not found');
      if (row.redeemed_at) throw ApiError.conflict('TOKEN_REDEEMED', 'The token was already redeemed');
      if (row.revoked_at) return;
      return this.rowLock.locked(id, async (manager) => {
        const revoked = await rowsOf(manager, 'UPDATE call_tokens SET revoked_at = $2 WHERE id = $1 AND redeemed_at IS NULL AND revoked_at IS NULL RETURNING id', [
          id,
          this.clock.now(),
        ]);
        // Redeemed or revoked since it was read: look again and answer as that outcome would have.
        if (revoked.length === 0) return BUSY;
        await this.audit.record(
          mintAuditEntry(
            { orgId: principal.orgId, provider: 'call-token', action: 'revoke', actor: mintActorOf(principal), subjectUserId: null, target: `endpoint:${row.endpoint_id}`, meta },
            { outcome: 'issued', expiresAt: row.expires_at },
          ),
        );
      });
    });
  }

  /**
   * Exchanges a token for a session exactly once. The conditional UPDATE, under the row's lock, is the
   * decision: of any number of concurrent redeemers (on any instance) one changes the row; the others
   * see it redeemed. The redemption and its audit entry commit together (see CallTokenRowLock), so the
   * session is handed out only once its entry is committed, and a redemption that could not be audited
   * leaves the token redeemable.
   */
  async redeem(token: string, meta: RequestMeta): Promise<RedeemedCallTokenView> {
    if (!/^mct_[A-Za-z0-9_-]{43}$/.test(token)) throw invalid('TOKEN_INVALID', 'Invalid call token');
    const hash = hashCallToken(token);
    // The token is all the (anonymous) caller has: it names its org, so finding it is cross-tenant.
    return TenantScope.system(() =>
      this.rowLock.retrying(async () => {
        const now = this.clock.now();
        const row = await this.find('t.token_hash = $1', [hash]);
        if (!row) throw invalid('TOKEN_INVALID', 'Invalid call token');
        const refusal = this.refusalOf(row, now);
        if (refusal) {
          await this.recordRedemption(row, token, meta, refusal);
          throw refusal;
        }
        const sessionId = randomUUID();
        return this.rowLock.locked(row.id, async (manager) => {
          const redeemed = await rowsOf(
            manager,
            `UPDATE call_tokens t SET redeemed_at = $2, session_id = $3
              WHERE t.id = $1 AND t.redeemed_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2
                AND EXISTS (SELECT 1 FROM endpoints e JOIN orgs o ON o.id = e.org_id
                             WHERE e.id = t.endpoint_id AND e.state = 'active' AND e.webrtc AND o.webrtc_enabled)
              RETURNING t.id`,
            [row.id, now, sessionId],
          );
          // Redeemed, revoked or made unusable since it was read: look again, and refuse for that.
          if (redeemed.length === 0) return BUSY;
          // Throws (503) when the entry cannot be committed; the redemption then rolls back with it.
          await this.recordRedemption(row, token, meta, undefined);
          return { sessionId, endpointId: row.endpoint_id, orgId: row.org_id };
        });
      }),
    );
  }

  private recordRedemption(row: CallTokenRow, token: string, meta: RequestMeta, refusal: ApiError | undefined): Promise<void> {
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
    return this.audit.record(mintAuditEntry(facts, refusal ? { outcome: 'refused', error: refusal, token, expiresAt } : { outcome: 'issued', token, expiresAt }));
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

  private async find(where: string, params: unknown[]): Promise<CallTokenRow | undefined> {
    const rows: CallTokenRow[] = await this.dataSource.query(
      `SELECT t.id, t.org_id, t.endpoint_id, t.created_at, t.expires_at, t.redeemed_at, t.revoked_at, t.minted_by_kind, t.minted_by_id,
              EXISTS (SELECT 1 FROM endpoints e JOIN orgs o ON o.id = e.org_id
                       WHERE e.id = t.endpoint_id AND e.state = 'active' AND e.webrtc AND o.webrtc_enabled) AS usable
         FROM call_tokens t WHERE ${where}`,
      params,
    );
    return rows[0];
  }
}
