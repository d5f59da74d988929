import { Injectable } from '@nestjs/common';
import type { CredentialCheck, VerifyResult } from '../registry/provider-entry';
import type { SinchProjectCredentials } from './sinch-project-credentials';
import { SinchTrunkClient } from './sinch-trunk.client';

/** Verifies sinch-project credentials: an OAuth token, and the trunk when trunkId is set. */
@Injectable()
export class SinchProjectVerifier implements CredentialCheck<SinchProjectCredentials> {
  constructor(private readonly trunk: SinchTrunkClient) {}

  verify(fields: SinchProjectCredentials, orgId: string): Promise<VerifyResult> {
    return this.trunk.verify(orgId, fields);
  }
}
