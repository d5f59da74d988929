import { Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { Db, TenantDb } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import type { CredentialCheck, MintedToken, TokenMinter, TokenMintInput, VerifyResult } from '../registry/provider-entry';
import { TelnyxApiClient, TelnyxCredentials } from './telnyx-api.client';
import { TelnyxCredentialRow, TelnyxCredentialsRepository } from './telnyx-credentials.repository';
import { KeyedSerializer } from './keyed-serializer';

/** Telnyx login tokens live 24 hours (or until their credential expires); Mintline cannot choose. */
export const TELNYX_TOKEN_TTL_SECONDS = 86_400;

/** `POST /api/tokens/telnyx` names nothing but its user. */
export type TelnyxMintRequest = Record<string, never>;

export interface TelnyxAnswer {
  /** The SIP username of the user's telephony credential (`gencred…`): whom the token logs in as. */
  sipUsername: string;
}

const FOREIGN_KEY_VIOLATION = '23503';

/**
 * Telnyx WebRTC login tokens for a user. Mintline keeps one telephony credential per user, made on the
 * org's credential connection on first use and remembered (its id and SIP username, never its
 * password); each mint asks Telnyx for a token for it. A credential Telnyx no longer knows (404: deleted
 * in the portal, expired) is made again, once per mint, and the new one remembered.
 *
 * Two first mints of one user must not make two credentials: making one is serialized per user, in
 * this process (KeyedSerializer) and across instances (an advisory lock held in the transaction that
 * reads the row again, asks Telnyx and saves the answer), so whoever waited finds the other's credential.
 */
@Injectable()
export class TelnyxProvider implements TokenMinter<TelnyxCredentials, TelnyxMintRequest, TelnyxAnswer>, CredentialCheck<TelnyxCredentials> {
  private readonly making = new KeyedSerializer();

  constructor(
    private readonly clock: Clock,
    private readonly db: Db,
    private readonly api: TelnyxApiClient,
  ) {}

  async mint({ fields: credentials, subject }: TokenMintInput<TelnyxCredentials, TelnyxMintRequest>): Promise<MintedToken<TelnyxAnswer>> {
    const userId = subject.userId;
    const tenant = this.db.forOrg(subject.orgId);
    const requestedAt = this.clock.nowMs();
    const remembered = await TelnyxCredentialsRepository.byUser(tenant, userId);
    let credential = remembered && remembered.connectionId === credentials.connectionId ? remembered : await this.make(tenant, credentials, userId);
    for (let remade = false; ; remade = true) {
      const answer = await this.api.createToken(credentials, credential.credentialId);
      if ('token' in answer) {
        // Counted from before the call: Telnyx starts the 24 hours when it issues, so this is never late.
        return {
          token: answer.token,
          expiresAt: new Date(requestedAt + TELNYX_TOKEN_TTL_SECONDS * 1000),
          expiresIn: TELNYX_TOKEN_TTL_SECONDS,
          answer: { sipUsername: credential.sipUsername },
        };
      }
      if (remade) throw ApiError.provider('PROVIDER_ERROR', 'Telnyx does not know the telephony credential it has just made (HTTP 404)');
      credential = await this.make(tenant, credentials, userId, credential.credentialId);
    }
  }

  /**
   * The user's credential on the org's connection, made unless another mint made it meanwhile; `gone`
   * names one Telnyx answered 404 for, which is not taken again.
   */
  private make(tenant: TenantDb, credentials: TelnyxCredentials, userId: string, gone?: string): Promise<TelnyxCredentialRow> {
    return this.making.run(`${tenant.orgId}:${userId}`, async () => {
      try {
        return await tenant.transaction(async (tx) => {
          const current = await TelnyxCredentialsRepository.lockAndRead(tx, userId);
          if (current && current.connectionId === credentials.connectionId && current.credentialId !== gone) return current;
          const made = await this.api.createCredential(credentials, `mintline-${userId}`);
          const row = { credentialId: made.id, sipUsername: made.sipUsername, connectionId: credentials.connectionId };
          await TelnyxCredentialsRepository.save(tx, { ...row, userId, createdAt: this.clock.now() });
          return row;
        });
      } catch (error) {
        // The user was deleted while its credential was being made: as if it had never been there.
        if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) throw ApiError.notFound('userId names no user of your org');
        throw error;
      }
    });
  }

  /** Checks the API key against Telnyx (`GET /v2/balance`), which makes nothing. */
  verify(credentials: TelnyxCredentials): Promise<VerifyResult> {
    return this.api.verify(credentials);
  }
}
