import { createSecretKey } from 'node:crypto';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '@mintline/audit/audit.module';
import { TenancyModule } from '@mintline/tenancy/tenancy.module';
import { AppConfig } from '@mintline/common/config';
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
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // A KeyObject, not the string: given a string, jsonwebtoken first tries to parse it as a PEM
        // public key on every verify, and that failed parse was half the CPU time of a mint.
        secret: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')) as unknown as string,
        signOptions: { algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
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
