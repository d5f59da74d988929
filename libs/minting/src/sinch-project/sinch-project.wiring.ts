import { Injectable, OnModuleInit } from '@nestjs/common';
import { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import { ApiError } from '@mintline/common/errors/api-error';
import { CredentialsService } from '@mintline/credentials/credentials.service';
import { SinchOAuthClient } from '@mintline/providers/sinch-project/sinch-oauth.client';
import { SinchProjectCredentials } from '@mintline/providers/sinch-project/sinch-project-credentials';
import { SinchTrunkClient } from '@mintline/providers/sinch-project/sinch-trunk.client';
import { CallerIdPolicy, CallerIdsService } from '@mintline/tenancy/caller-ids/caller-ids.service';
import type { CallerIdProvider } from '@mintline/tenancy/caller-ids/phone-number.entity';

/**
 * Connects Sinch project access to the rest: every OAuth access token fetched is audited (provider
 * sinch-oauth, actor system) before it is used; the token cache is dropped when the org's sinch-project
 * credentials change; and a sinch caller ID must be on the org's SIP trunk when a trunkId is set.
 */
@Injectable()
export class SinchProjectWiring implements OnModuleInit, CallerIdPolicy {
  constructor(
    private readonly oauth: SinchOAuthClient,
    private readonly trunk: SinchTrunkClient,
    private readonly credentials: CredentialsService,
    private readonly callerIds: CallerIdsService,
    private readonly audit: MintAuditWriter,
  ) {}

  onModuleInit(): void {
    this.oauth.setTokenFetchedHook((orgId, token) =>
      this.audit.record({
        orgId,
        provider: 'sinch-oauth',
        actor: { kind: 'system', id: null },
        subjectUserId: null,
        target: 'sinch:oauth',
        outcome: 'issued',
        code: null,
        token: token.token,
        expiresAt: token.expiresAt,
        ip: null,
        userAgent: null,
        requestId: null,
      }),
    );
    this.credentials.onChange((orgId, provider) => {
      if (provider === 'sinch-project') this.oauth.invalidate(orgId);
    });
    this.callerIds.usePolicy(this);
  }

  async assertAllowed(orgId: string, provider: CallerIdProvider, phoneNumber: string): Promise<void> {
    if (provider !== 'sinch') return;
    const credentials = await this.projectCredentials(orgId);
    if (!credentials?.trunkId) return;
    if (!(await this.trunk.isNumberOnTrunk(orgId, credentials, credentials.trunkId, phoneNumber))) {
      throw ApiError.unprocessable('NUMBER_NOT_ON_TRUNK', `${phoneNumber} is not on the org's Sinch SIP trunk ${credentials.trunkId}`);
    }
  }

  async projectCredentials(orgId: string): Promise<SinchProjectCredentials | undefined> {
    const fields = await this.credentials.decrypted(orgId, 'sinch-project');
    if (!fields) return undefined;
    return { projectId: fields.projectId, keyId: fields.keyId, keySecret: fields.keySecret, trunkId: fields.trunkId };
  }
}
