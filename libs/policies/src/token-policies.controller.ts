import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAnyScope, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { POLICY_PROVIDERS } from './policy-providers';
import { TokenPolicyJudge } from './token-policy-judge.service';
import { TokenPoliciesService } from './token-policies.service';
import { EvaluatePolicyQuery, PolicyEvaluationView, PolicyListView, PolicyView, PutPolicyDto } from './token-policy.dto';

const providerParam = ApiParam({ name: 'provider', enum: POLICY_PROVIDERS, description: 'The provider of POST /api/tokens/{provider} the policy is for' });
const unknownProvider = 'NOT_FOUND: no such provider takes token policies';
const noPolicy = 'NOT_FOUND: the org has no policy for this provider, or no such provider takes token policies';

@ApiTags('Token policies')
@Controller('policies')
export class TokenPoliciesController {
  constructor(
    private readonly policies: TokenPoliciesService,
    private readonly judge: TokenPolicyJudge,
  ) {}

  @Get()
  @RequireAnyScope('READ_AUDIT', 'MANAGE_CREDENTIALS')
  @ApiOperation({ summary: "List the org's token policies" })
  @ApiOkResponse({ type: PolicyListView })
  list(@CurrentPrincipal() principal: TenantPrincipal): Promise<PolicyListView> {
    return this.policies.list(principal.orgId);
  }

  @Get(':provider')
  @RequireAnyScope('READ_AUDIT', 'MANAGE_CREDENTIALS')
  @providerParam
  @ApiOperation({ summary: "Read the org's token policy for a provider" })
  @ApiOkResponse({ type: PolicyView })
  @ApiErrorResponse(404, noPolicy)
  get(@CurrentPrincipal() principal: TenantPrincipal, @Param('provider') provider: string): Promise<PolicyView> {
    return this.policies.get(principal.orgId, provider);
  }

  @Get(':provider/evaluate')
  @RequireAnyScope('READ_AUDIT', 'MANAGE_CREDENTIALS')
  @providerParam
  @ApiOperation({
    summary: 'What the policy would make of a mint, without minting',
    description:
      'Judges a mint for the user (default: yourself) with the room, lifetime and publish rights given, by the policy in force: whether it would be allowed, ' +
      'the lifetime the token would get, and every rule that would refuse or change it. With no policy, everything is allowed as asked.',
  })
  @ApiOkResponse({ type: PolicyEvaluationView })
  @ApiErrorResponse(400, 'VALIDATION_FAILED: a malformed userId, room, ttlSeconds or publish; or no userId with an API key')
  @ApiErrorResponse(404, 'NOT_FOUND: userId names no user of your org, or no such provider takes token policies')
  evaluate(@CurrentPrincipal() principal: TenantPrincipal, @Param('provider') provider: string, @Query() query: EvaluatePolicyQuery): Promise<PolicyEvaluationView> {
    return this.judge.evaluate(principal, provider, query);
  }

  @Put(':provider')
  @RequireScopes('MANAGE_CREDENTIALS')
  @providerParam
  @ApiOperation({
    summary: "Replace the org's token policy for a provider",
    description:
      'The whole policy: a rule left out (or null) is no rule. From the next mint on, on every instance, tokens of this provider are minted within it; ' +
      'a mint outside it is refused with 403 POLICY_DENIED and audited as denied. Recorded as a configuration event with the policy before and after.',
  })
  @ApiOkResponse({ type: PolicyView })
  @ApiErrorResponse(
    400,
    'VALIDATION_FAILED: a rule out of range (maxTtlSeconds 60..86400, roles of admin/agent/auditor, 1..100 room patterns of 1..256 characters, publish a boolean), or an unknown field',
  )
  @ApiErrorResponse(404, unknownProvider)
  put(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('provider') provider: string,
    @Body() dto: PutPolicyDto,
    @RequestContext() meta: RequestMeta,
  ): Promise<PolicyView> {
    return this.policies.put(principal, provider, dto, meta.requestId);
  }

  @Delete(':provider')
  @HttpCode(204)
  @RequireScopes('MANAGE_CREDENTIALS')
  @providerParam
  @ApiOperation({ summary: "Delete the org's token policy for a provider", description: 'Its tokens are minted as asked again, from the next mint on.' })
  @ApiNoContentResponse()
  @ApiErrorResponse(404, noPolicy)
  async remove(@CurrentPrincipal() principal: TenantPrincipal, @Param('provider') provider: string, @RequestContext() meta: RequestMeta): Promise<void> {
    await this.policies.remove(principal, provider, meta.requestId);
  }
}
