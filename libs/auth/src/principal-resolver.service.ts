import { Injectable } from '@nestjs/common';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ReadThroughCache } from '@mintline/common/cache/read-through-cache';
import { Clock } from '@mintline/common/clock';
import { AppConfig } from '@mintline/common/config';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { UsersRepository, UserStatus } from '@mintline/tenancy/users/users.repository';
import { AccessTokensService } from './access-tokens.service';
import { ApiKeysService } from './api-keys/api-keys.service';
import { operatorTokenCheck } from './operator-token';
import type { Principal } from '@mintline/access/principal';
import { ROLE_SCOPES } from '@mintline/access/scopes';

/**
 * Turns a presented credential into a Principal. User status and API keys are read on every request,
 * so a disabled or deleted user, or a deleted key, is refused from the next request on.
 */
@Injectable()
export class PrincipalResolver {
  /** Users' status by id; a change to a user is published on the bus and drops its entry everywhere. */
  private readonly users: ReadThroughCache<UserStatus | null>;
  private readonly isOperatorToken: (presented: string) => boolean;

  constructor(
    config: AppConfig,
    private readonly accessTokens: AccessTokensService,
    private readonly apiKeys: ApiKeysService,
    private readonly clock: Clock,
    private readonly db: Db,
    bus: InvalidationBus,
  ) {
    this.isOperatorToken = operatorTokenCheck(config.operatorToken);
    this.users = new ReadThroughCache(bus, 'user', { ttlMs: 60_000, maxEntries: 100_000, now: () => clock.nowMs() });
  }

  async resolve(credential: { value: string; via: 'bearer' | 'x-api-key' }): Promise<Principal> {
    if (credential.via === 'x-api-key') return this.apiKeys.authenticate(credential.value);
    if (this.isOperatorToken(credential.value)) return { kind: 'operator', orgId: null, scopes: [] };
    if (credential.value.startsWith('mlk_')) return this.apiKeys.authenticate(credential.value);
    return this.resolveAccessToken(credential.value);
  }

  private async resolveAccessToken(token: string): Promise<Principal> {
    const claims = this.accessTokens.verify(token);
    if (!claims) throw ApiError.unauthorized('Invalid or expired access token');
    const user = await this.users.get(claims.sub, async () => (await UsersRepository.statusById(this.db.system('principal by user id'), claims.sub)) ?? null);
    if (!user || user.org_id !== claims.org) throw ApiError.unauthorized('User no longer exists');
    if (user.disabled) throw ApiError.unauthorized('User is disabled');
    return { kind: 'user', orgId: user.org_id, userId: claims.sub, role: user.role, scopes: ROLE_SCOPES[user.role] };
  }
}
