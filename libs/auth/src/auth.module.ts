import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '@mintline/audit/audit.module';
import { TenancyModule } from '@mintline/tenancy/tenancy.module';
import { AccessGuard } from './access.guard';
import { AccessTokensService } from './access-tokens.service';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { ApiKeysService } from './api-keys/api-keys.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { BearerStrategy } from './bearer.strategy';
import { LoginThrottle } from './login-throttle.service';
import { PasswordCheckSlots } from './password-check-slots';
import { PrincipalResolver } from './principal-resolver.service';

@Module({
  imports: [PassportModule, AuditModule, TenancyModule],
  controllers: [AuthController, ApiKeysController],
  providers: [
    AccessTokensService,
    ApiKeysService,
    AuthService,
    BearerStrategy,
    LoginThrottle,
    PasswordCheckSlots,
    PrincipalResolver,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [ApiKeysService, AccessTokensService],
})
export class AuthModule {}
