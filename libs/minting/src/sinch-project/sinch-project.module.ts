import { Global, Module } from '@nestjs/common';
import { AuditModule } from '@mintline/audit/audit.module';
import { CREDENTIALS_CHANGED } from '@mintline/credentials/credentials-changed';
import { CredentialsModule } from '@mintline/credentials/credentials.module';
import { ProvidersModule } from '@mintline/providers/providers.module';
import { SINCH_TOKEN_AUDIT } from '@mintline/providers/sinch-project/sinch-token-audit';
import { CALLER_ID_POLICY } from '@mintline/tenancy/caller-ids/caller-id-policy';
import { SinchCredentialsListener } from './sinch-credentials.listener';
import { SinchTokenAuditor } from './sinch-token.auditor';
import { SinchTrunkCallerIdPolicy } from './sinch-trunk-caller-id.policy';

const BINDINGS = [
  { provide: SINCH_TOKEN_AUDIT, useClass: SinchTokenAuditor },
  { provide: CREDENTIALS_CHANGED, useClass: SinchCredentialsListener },
  { provide: CALLER_ID_POLICY, useClass: SinchTrunkCallerIdPolicy },
];

/**
 * What providers, credentials and tenancy need from above them, bound by injection: each of those
 * libraries declares a token and its interface, and this module provides them. Global, because the
 * libraries that declare the tokens cannot import minting; nothing is registered at start-up.
 */
@Global()
@Module({
  imports: [AuditModule, CredentialsModule, ProvidersModule],
  providers: BINDINGS,
  exports: BINDINGS.map((binding) => binding.provide),
})
export class SinchProjectModule {}
