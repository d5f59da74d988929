import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { ParseIdPipe } from '@mintline/common/http/parse-id.pipe';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { CurrentPrincipal, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { ApiKeyView, CreateApiKeyDto, CreatedApiKeyView, UpdateApiKeyDto } from './api-key.dto';
import { ApiKeysService } from './api-keys.service';

@ApiTags('API keys')
@Controller('api-keys')
@RequireScopes('MANAGE_API_KEYS')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key; its token is shown only in this answer' })
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  @ApiErrorResponse(403, 'SCOPE_ESCALATION: scopes beyond your own')
  @ApiUnprocessableEntityResponse({ description: 'INVALID_SUB_ORG' })
  create(@CurrentPrincipal() principal: TenantPrincipal, @Body() dto: CreateApiKeyDto, @RequestContext() meta: RequestMeta): Promise<CreatedApiKeyView> {
    return this.apiKeys.create(principal, dto, meta.requestId);
  }

  @Get()
  @ApiOperation({ summary: 'List the keys your org created (never their tokens)' })
  @ApiOkResponse({ type: ApiKeyView, isArray: true })
  list(@CurrentPrincipal() principal: TenantPrincipal): Promise<ApiKeyView[]> {
    return this.apiKeys.list(principal.orgId);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a key or narrow its scopes' })
  @ApiOkResponse({ type: ApiKeyView })
  @ApiNotFoundResponse()
  @ApiErrorResponse(403, "SCOPE_ESCALATION: the key's scopes are not all among your own, or scopes may only be narrowed")
  update(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: UpdateApiKeyDto,
    @RequestContext() meta: RequestMeta,
  ): Promise<ApiKeyView> {
    return this.apiKeys.update(principal, id, dto, meta.requestId);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a key; it is refused from the next request on' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  @ApiErrorResponse(403, "SCOPE_ESCALATION: the key's scopes are not all among your own")
  async remove(@CurrentPrincipal() principal: TenantPrincipal, @Param('id', ParseIdPipe) id: string, @RequestContext() meta: RequestMeta): Promise<void> {
    await this.apiKeys.remove(principal, id, meta.requestId);
  }
}
