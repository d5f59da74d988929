import { Injectable } from '@nestjs/common';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { Passwords } from '@mintline/tenancy/users/passwords';
import { UsersRepository } from '@mintline/tenancy/users/users.repository';
import { ACCESS_TOKEN_TTL_SECONDS, AccessTokensService } from './access-tokens.service';
import { LoginDto, LoginView } from './auth.dto';
import { LoginThrottle } from './login-throttle.service';
import { PasswordCheckSlots } from './password-check-slots';

const INVALID = () => ApiError.unauthorized('Invalid email or password', 'INVALID_CREDENTIALS');

@Injectable()
export class AuthService {
  constructor(
    private readonly db: Db,
    private readonly accessTokens: AccessTokensService,
    private readonly throttle: LoginThrottle,
    private readonly slots: PasswordCheckSlots,
    private readonly passwords: Passwords,
  ) {}

  async login(dto: LoginDto, ip: string | null): Promise<LoginView> {
    const giveBackSlot = this.slots.take();
    try {
      const attempt = await this.throttle.admit(dto.email, ip);
      let user: { id: string; org_id: string; disabled: boolean } | undefined;
      try {
        user = await this.userWithPassword(dto);
      } catch (error) {
        // No verdict (the database failed): not a failed guess, so the count goes back. The error to
        // report is this one, not a second one from handing back.
        await this.throttle.handBack(attempt).catch(() => undefined);
        throw error;
      }
      // A wrong password keeps its count: that is the failure the limits are about.
      if (!user) throw INVALID();
      await this.throttle.handBack(attempt);
      // Only someone who knows the password learns that the account is disabled.
      if (user.disabled) throw ApiError.unauthorized('This user is disabled', 'USER_DISABLED');
      const accessToken = await this.accessTokens.issue(user.id, user.org_id);
      return { accessToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SECONDS };
    } finally {
      giveBackSlot();
    }
  }

  /** The user the email and password name, or undefined (unknown email or wrong password, alike in time). */
  private async userWithPassword(dto: LoginDto): Promise<{ id: string; org_id: string; disabled: boolean } | undefined> {
    // Emails are unique across orgs and the caller names no org: the lookup is cross-tenant.
    const user = await UsersRepository.credentialsByEmail(this.db.system('login by email'), dto.email);
    const passwordOk = user ? await this.passwords.verify(user.password_hash, dto.password) : await this.passwords.verifyDecoy(dto.password);
    return user && passwordOk ? user : undefined;
  }
}
