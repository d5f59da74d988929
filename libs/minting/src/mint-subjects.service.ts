import { Injectable } from '@nestjs/common';
import type { TenantPrincipal } from '@mintline/access/principal';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { isUuid } from '@mintline/common/http/uuid';
import { UsersRepository } from '@mintline/tenancy/users/users.repository';

/**
 * Whom a token is minted for. A user mints for itself; an API key names a user of its own org. Another
 * org's user does not exist as far as the key can tell (404).
 */
@Injectable()
export class MintSubjectsService {
  constructor(private readonly db: Db) {}

  async resolve(principal: TenantPrincipal, userIdParam: string | undefined): Promise<string> {
    if (userIdParam !== undefined && !isUuid(userIdParam)) {
      throw ApiError.validation([{ field: 'userId', message: 'must be a UUID' }]);
    }
    const requestedUserId = userIdParam?.toLowerCase();
    if (principal.kind === 'user') {
      if (requestedUserId && requestedUserId !== principal.userId) {
        throw ApiError.validation([{ field: 'userId', message: 'a user mints only for itself: omit userId or pass your own id' }]);
      }
      return principal.userId;
    }
    if (!requestedUserId) {
      throw ApiError.validation([{ field: 'userId', message: 'is required when minting with an API key' }]);
    }
    const user = await UsersRepository.statusInOrg(this.db.forOrg(principal.orgId), requestedUserId);
    if (!user) throw ApiError.notFound('User not found');
    if (user.disabled) throw ApiError.unprocessable('USER_DISABLED', 'That user is disabled; no token is minted for them');
    return requestedUserId;
  }
}
