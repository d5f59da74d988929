import { Module } from '@nestjs/common';
import { AuditModule } from '@mintline/audit/audit.module';
import { CredentialsModule } from '@mintline/credentials/credentials.module';
import { PoliciesModule } from '@mintline/policies/policies.module';
import { ProvidersModule } from '@mintline/providers/providers.module';
import { TenancyModule } from '@mintline/tenancy/tenancy.module';
import { CallTokensController } from './call-tokens/call-tokens.controller';
import { CallTokensService } from './call-tokens/call-tokens.service';
import { VoiceTokensController } from './calls/voice-tokens.controller';
import { VoiceTokensService } from './calls/voice-tokens.service';
import { ChatTokensController } from './chat/chat-tokens.controller';
import { ChatTokensService } from './chat/chat-tokens.service';
import { MintPipeline } from './mint-pipeline.service';
import { MintRateLimit } from './mint-rate-limit.service';
import { MintSubjectsService } from './mint-subjects.service';
import { SinchProjectModule } from './sinch-project/sinch-project.module';
import { CredentialsVerifier } from './verify/credentials-verifier.service';
import { CredentialsVerifyController } from './verify/credentials-verify.controller';
import { TokensController } from './tokens/tokens.controller';
import { TokensService } from './tokens/tokens.service';

/** The mint pipeline and every route that hands out a token, plus what joins providers to credentials. */
@Module({
  imports: [AuditModule, CredentialsModule, PoliciesModule, ProvidersModule, TenancyModule, SinchProjectModule],
  controllers: [VoiceTokensController, ChatTokensController, CallTokensController, CredentialsVerifyController, TokensController],
  providers: [MintPipeline, MintRateLimit, MintSubjectsService, VoiceTokensService, ChatTokensService, CallTokensService, CredentialsVerifier, TokensService],
})
export class MintingModule {}
