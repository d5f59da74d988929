import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@mintline/audit/audit.module';
import { AuthModule } from '@mintline/auth/auth.module';
import { CoreModule, CoreOptions } from '@mintline/common/core.module';
import { typeOrmOptions } from '@mintline/common/database/typeorm-options';
import { CredentialsModule } from '@mintline/credentials/credentials.module';
import { MintingModule } from '@mintline/minting/minting.module';
import { PoliciesModule } from '@mintline/policies/policies.module';
import { ProviderHttpOptionsModule } from '@mintline/providers/http/provider-http-options.module';
import type { ProviderHttpOptions } from '@mintline/providers/http/provider-http.client';
import { TenancyModule } from '@mintline/tenancy/tenancy.module';
import { HealthController } from './ops/health.controller';
import { MetricsController } from './ops/metrics.controller';

export interface AppModuleOptions extends CoreOptions {
  /** The connection the service works through: the service role (see service-role.ts), or the owner in the CLI. */
  databaseUrl: string;
  /** Options of the outbound provider HTTP client (the tests shorten its timeout); defaults otherwise. */
  providerHttp?: ProviderHttpOptions;
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(options),
        ProviderHttpOptionsModule.forRoot(options.providerHttp),
        TypeOrmModule.forRootAsync({
          useFactory: () => typeOrmOptions(options.databaseUrl),
        }),
        AuditModule,
        TenancyModule,
        AuthModule,
        CredentialsModule,
        PoliciesModule,
        MintingModule,
      ],
      controllers: [HealthController, MetricsController],
    };
  }
}
