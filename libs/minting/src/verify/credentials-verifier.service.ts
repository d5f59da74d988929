import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AppConfig } from '@mintline/common/config';
import { ApiError } from '@mintline/common/errors/api-error';
import { CredentialsService } from '@mintline/credentials/credentials.service';
import { validateCredentialFields } from '@mintline/credentials/provider-fields';
import { CREDENTIAL_PROVIDERS, CredentialProvider, isCredentialProvider, providerEntry } from '@mintline/providers/provider-registry';
import type { CredentialCheck, ProviderEntry, VerifyResult } from '@mintline/providers/registry/provider-entry';

/** POST /api/credentials/{provider}/verify: each provider's check, as its registry entry declares it. */
@Injectable()
export class CredentialsVerifier {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly config: AppConfig,
    private readonly modules: ModuleRef,
  ) {}

  async verify(orgId: string, providerName: string): Promise<VerifyResult> {
    if (!isCredentialProvider(providerName)) {
      throw ApiError.validation([{ field: 'provider', message: `must be one of ${CREDENTIAL_PROVIDERS.join(', ')}` }]);
    }
    const provider: CredentialProvider = providerName;
    const fields = await this.stored(orgId, provider);
    const verification = (providerEntry(provider) as ProviderEntry).verify;
    if (verification.kind === 'upstream') {
      const checker = this.modules.get<CredentialCheck<Record<string, string>>>(verification.checker, { strict: false });
      return checker.verify(fields, orgId);
    }
    return this.formatCheck(provider, fields, verification.detail);
  }

  /** Verifying what is not there is a 404 (the credentials resource's own answer), not a mint's 400. */
  private async stored(orgId: string, provider: CredentialProvider): Promise<Record<string, string>> {
    const fields = await this.credentials.find(provider, orgId);
    if (!fields) throw ApiError.notFound(`No ${provider} credentials are configured`, 'NOT_CONFIGURED');
    return fields as Record<string, string>;
  }

  /** Where the provider offers no check that costs nothing, the stored fields are held to their rules again. */
  private formatCheck(provider: CredentialProvider, fields: Record<string, string>, detail: string): VerifyResult {
    try {
      validateCredentialFields(provider, fields, { allowInsecureUrls: this.config.allowInsecureProviderUrls });
      return { ok: true, detail };
    } catch {
      return { ok: false, detail: `The stored ${provider} credentials are not well-formed; store them again` };
    }
  }
}
