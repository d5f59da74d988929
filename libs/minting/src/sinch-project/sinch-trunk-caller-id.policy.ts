import { Injectable } from '@nestjs/common';
import { ApiError } from '@mintline/common/errors/api-error';
import { CredentialsService } from '@mintline/credentials/credentials.service';
import { SinchTrunkClient } from '@mintline/providers/sinch-project/sinch-trunk.client';
import type { CallerIdPolicy } from '@mintline/tenancy/caller-ids/caller-id-policy';
import type { CallerIdProvider } from '@mintline/tenancy/caller-ids/phone-numbers.repository';

/**
 * A sinch caller ID must be on the org's SIP trunk when its sinch-project credentials name one;
 * without sinch-project credentials or a trunkId, numbers are accepted on their E.164 form alone.
 */
@Injectable()
export class SinchTrunkCallerIdPolicy implements CallerIdPolicy {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly trunk: SinchTrunkClient,
  ) {}

  async assertAllowed(orgId: string, provider: CallerIdProvider, phoneNumber: string): Promise<void> {
    if (provider !== 'sinch') return;
    const credentials = await this.credentials.find('sinch-project', orgId);
    if (!credentials?.trunkId) return;
    if (!(await this.trunk.isNumberOnTrunk(orgId, credentials, credentials.trunkId, phoneNumber))) {
      throw ApiError.unprocessable('NUMBER_NOT_ON_TRUNK', `${phoneNumber} is not on the org's Sinch SIP trunk ${credentials.trunkId}`);
    }
  }
}
