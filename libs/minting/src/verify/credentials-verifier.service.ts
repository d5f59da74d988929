import { Injectable } from '@nestjs/common';
import { AppConfig } from '@mintline/common/config';
import { ApiError } from '@mintline/common/errors/api-error';
import { CredentialsService } from '@mintline/credentials/credentials.service';
import { CredentialProvider, FieldsOf, isCredentialProvider, validateCredentialFields } from '@mintline/credentials/provider-fields';
import { SignalWireChatProvider } from '@mintline/providers/signalwire/signalwire-chat.provider';
import { SinchTrunkClient } from '@mintline/providers/sinch-project/sinch-trunk.client';

export interface VerifyResult {
  ok: boolean;
  detail: string;
}

@Injectable()
export class CredentialsVerifier {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly signalwire: SignalWireChatProvider,
    private readonly trunk: SinchTrunkClient,
    private readonly config: AppConfig,
  ) {}

  async verify(orgId: string, providerName: string): Promise<VerifyResult> {
    if (!isCredentialProvider(providerName)) {
      throw ApiError.validation([{ field: 'provider', message: 'must be one of sinch-voice, sinch-project, signalwire, twilio' }]);
    }
    const provider: CredentialProvider = providerName;
    switch (provider) {
      case 'sinch-project':
        return this.trunk.verify(orgId, await this.stored(orgId, provider));
      case 'signalwire':
        return this.signalwire.verify(await this.stored(orgId, provider));
      case 'sinch-voice':
      case 'twilio':
        return this.formatCheck(provider, await this.stored(orgId, provider));
    }
  }

  /** Verifying what is not there is a 404 (the credentials resource's own answer), not a mint's 400. */
  private async stored<P extends CredentialProvider>(orgId: string, provider: P): Promise<FieldsOf<P>> {
    const fields = await this.credentials.find(provider, orgId);
    if (!fields) throw ApiError.notFound(`No ${provider} credentials are configured`, 'NOT_CONFIGURED');
    return fields;
  }

  /** Sinch Voice application secrets and Twilio API keys cannot be checked without placing a call. */
  private formatCheck(provider: CredentialProvider, fields: object): VerifyResult {
    try {
      validateCredentialFields(provider, fields, { allowInsecureUrls: this.config.allowInsecureProviderUrls });
      return { ok: true, detail: `The ${provider} credentials are well-formed; ${provider} offers no check without placing a call` };
    } catch {
      return { ok: false, detail: `The stored ${provider} credentials are not well-formed; store them again` };
    }
  }
}
