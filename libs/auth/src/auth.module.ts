import { createSecretKey } from 'node:crypto';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '@mintline/common/config';
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
  imports: [
    PassportModule,
    // Issues access tokens at login; verifying them, on every request, is Hs256Jwt's (AccessTokensService).
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // A KeyObject, not the string: given a string, jsonwebtoken first tries to read it as a PEM key.
        secret: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')) as unknown as string,
        signOptions: { algorithm: 'HS256' },
      }),
    }),
    AuditModule,
    TenancyModule,
  ],
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
