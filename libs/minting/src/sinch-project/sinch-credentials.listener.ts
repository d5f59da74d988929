import { Injectable } from '@nestjs/common';
import type { CredentialsChangedListener } from '@mintline/credentials/credentials-changed';
import type { CredentialProvider } from '@mintline/providers/provider-registry';
import { SinchOAuthClient } from '@mintline/providers/sinch-project/sinch-oauth.client';

/** A Sinch OAuth token cached from an org's sinch-project key is dropped as soon as that key changes. */
@Injectable()
export class SinchCredentialsListener implements CredentialsChangedListener {
  constructor(private readonly oauth: SinchOAuthClient) {}

  credentialsChanged(orgId: string, provider: CredentialProvider): void {
    if (provider === 'sinch-project') this.oauth.invalidate(orgId);
  }
}
