import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { getSchemaPath, ApiBody, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { credentialBodySchema, credentialFieldsSummary } from './credential-fields.schema';
import { CredentialView } from './credential.dto';
import { CredentialsService } from './credentials.service';
import { CREDENTIAL_PROVIDERS } from '@mintline/providers/provider-registry';

const providerParam = ApiParam({ name: 'provider', enum: CREDENTIAL_PROVIDERS });

@ApiTags('Provider credentials')
@Controller('credentials')
@RequireScopes('MANAGE_CREDENTIALS')
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  @Get()
  @ApiOperation({ summary: "List the org's provider credentials, secrets masked" })
  @ApiOkResponse({ schema: { type: 'array', maxItems: CREDENTIAL_PROVIDERS.length, items: { $ref: getSchemaPath(CredentialView) } } })
  list(@CurrentPrincipal() principal: TenantPrincipal): Promise<CredentialView[]> {
    return this.credentials.list(principal.orgId);
  }

  @Get(':provider')
  @providerParam
  @ApiOperation({ summary: "Read one provider's credentials, secrets masked" })
  @ApiOkResponse({ type: CredentialView })
  @ApiNotFoundResponse({ description: 'NOT_CONFIGURED' })
  get(@CurrentPrincipal() principal: TenantPrincipal, @Param('provider') provider: string): Promise<CredentialView> {
    return this.credentials.get(principal.orgId, provider);
  }

  @Put(':provider')
  @providerParam
  @ApiOperation({
    summary: "Replace a provider's credentials",
    description: `${credentialFieldsSummary()}. Secret fields (*) are encrypted at rest and never returned; each field's rule is in the body schema of its provider.`,
  })
  @ApiBody({ schema: { ...credentialBodySchema(), example: { applicationKey: 'a32e5a8d-...', applicationSecret: 'ax8hTTQJF0OPXL32r1LHMA==' } } })
  @ApiOkResponse({ type: CredentialView })
  put(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('provider') provider: string,
    @Body() body: unknown,
    @RequestContext() meta: RequestMeta,
  ): Promise<CredentialView> {
    return this.credentials.put(principal, provider, body, meta.requestId);
  }

  @Delete(':provider')
  @HttpCode(204)
  @providerParam
  @ApiOperation({ summary: "Delete a provider's credentials" })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'NOT_CONFIGURED' })
  async remove(@CurrentPrincipal() principal: TenantPrincipal, @Param('provider') provider: string, @RequestContext() meta: RequestMeta): Promise<void> {
    await this.credentials.remove(principal, provider, meta.requestId);
  }
}
