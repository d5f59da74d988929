import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopesByRequest } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import type { MintAuditProvider } from '@mintline/audit/mints/mint-audit.types';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { NOT_CONFIGURED_CODES, TOKEN_PROVIDERS, tokenRouteOf } from '@mintline/providers/provider-registry';
import { MintRoute } from '../mint-route.decorator';
import { tokenAnswerSchema, tokenRequestBodySchema, tokenRouteDescription } from './token-route.schema';
import { TokenAnswer, TokensService, tokenScopesOf } from './tokens.service';

@ApiTags('Minting')
@Controller('tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post(':provider')
  @HttpCode(200)
  @RequireScopesByRequest(
    ['CREATE_CALL_TOKEN'],
    ({ params, body }) => tokenScopesOf(params.provider, body),
    'CREATE_CALL_TOKEN; CREATE_CHAT_TOKEN instead for a chat-only token (twilio with only conversations/sync), both when a twilio token asks for both kinds',
  )
  @MintRoute((params) => (params.provider !== undefined && tokenRouteOf(params.provider) ? (params.provider as MintAuditProvider) : null))
  @ApiParam({ name: 'provider', enum: TOKEN_PROVIDERS, description: 'Which provider mints the token' })
  @ApiOperation({
    summary: 'Mint a client token of one provider for one user',
    description:
      "A user mints for itself; an API key names `userId` in the body. Every mint counts against the org's mintsPerMinute and is audited " +
      "(provider = the path's provider, target = the room, channel or service) before the token is answered.\n" +
      tokenRouteDescription(),
  })
  @ApiBody({ schema: tokenRequestBodySchema() })
  @ApiOkResponse({ description: "`{token, userId, expiresIn}` and the provider's own fields", schema: tokenAnswerSchema() })
  @ApiErrorResponse(400, 'VALIDATION_FAILED: a bad or unknown body field, named in details')
  @ApiErrorResponse(400, `${[...new Set(Object.values(NOT_CONFIGURED_CODES))].join(', ')}: the org has no credentials of the provider (or not the service a grant needs)`)
  @ApiErrorResponse(404, 'NOT_FOUND: the path names no provider that mints here, or userId names no user of your org')
  @ApiErrorResponse(422, 'USER_DISABLED: no token is minted for a disabled user')
  @ApiErrorResponse(
    502,
    'PROVIDER_AUTH_FAILED (the provider refused the credentials, HTTP 401/403), PROVIDER_UNAVAILABLE (5xx, 429, reset or no answer in 5 s), ' +
      "PROVIDER_ERROR (any other answer, or a URL that leads to no public address): only a provider that mints through its API (telnyx); never the provider's body",
  )
  @ApiErrorResponse(503, 'UNAVAILABLE: the audit entry could not be written, so no token')
  mint(@CurrentPrincipal() principal: TenantPrincipal, @Param('provider') provider: string, @Body() body: unknown, @RequestContext() meta: RequestMeta): Promise<TokenAnswer> {
    return this.tokens.mint(principal, provider, body, meta);
  }
}
