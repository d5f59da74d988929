import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TenantScope } from '@mintline/common/database/tenant-scope';
import { ApiError } from '@mintline/common/errors/api-error';
import { verifyDecoy, verifyPassword } from '@mintline/tenancy/users/passwords';
import { ACCESS_TOKEN_TTL_SECONDS, AccessTokensService } from './access-tokens.service';
import { LoginDto, LoginView } from './auth.dto';
import { LoginThrottle } from './login-throttle.service';

const INVALID = () => ApiError.unauthorized('Invalid email or password', 'INVALID_CREDENTIALS');

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly accessTokens: AccessTokensService,
    private readonly throttle: LoginThrottle,
  ) {}

  async login(dto: LoginDto, ip: string | null): Promise<LoginView> {
    await this.throttle.admit(dto.email, ip);
    // Emails are unique across orgs and the caller names no org: the lookup is cross-tenant.
    const rows: Array<{ id: string; org_id: string; password_hash: string; disabled: boolean }> = await TenantScope.system(() =>
      this.dataSource.query('SELECT id, org_id, password_hash, disabled FROM users WHERE email = $1', [dto.email]),
    );
    const user = rows[0];
    const passwordOk = user ? await verifyPassword(user.password_hash, dto.password) : await verifyDecoy(dto.password);
    if (!user || !passwordOk) {
      await this.throttle.failed(dto.email, ip);
      throw INVALID();
    }
    // Only someone who knows the password learns that the account is disabled.
    if (user.disabled) throw ApiError.unauthorized('This user is disabled', 'USER_DISABLED');
    const accessToken = await this.accessTokens.issue(user.id, user.org_id);
    return { accessToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SECONDS };
  }
}
