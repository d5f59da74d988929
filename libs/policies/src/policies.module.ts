import { Module } from '@nestjs/common';
import { AuditModule } from '@mintline/audit/audit.module';
import { TenancyModule } from '@mintline/tenancy/tenancy.module';
import { TokenPoliciesController } from './token-policies.controller';
import { TokenPoliciesService } from './token-policies.service';
import { TokenPolicyJudge } from './token-policy-judge.service';

/** Per-org token policies (least privilege) and their evaluation; the mint pipeline asks TokenPolicyJudge. */
@Module({
  imports: [AuditModule, TenancyModule],
  controllers: [TokenPoliciesController],
  providers: [TokenPoliciesService, TokenPolicyJudge],
  exports: [TokenPolicyJudge],
})
export class PoliciesModule {}
