import { Body, Controller, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBadGatewayResponse, ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiProperty, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { CurrentPrincipal, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { MintRoute } from '../mint-route.decorator';
import { MintForUserQuery } from '../calls/voice-token.dto';
import { ChatTokensService } from './chat-tokens.service';

class ChatTokenView {
  @ApiProperty({ maxLength: 65536, description: "A SignalWire Chat token from the org's space (as the provider issues it)" })
  token: string;
}

@ApiTags('Minting')
@Controller('chat/tokens')
export class ChatTokensController {
  constructor(private readonly chat: ChatTokensService) {}

  @Post()
  @HttpCode(200)
  @RequireScopes('CREATE_CHAT_TOKEN')
  @MintRoute('signalwire-chat')
  @ApiOperation({
    summary: "Mint a SignalWire chat token through the org's space",
    description:
      'Rules, each a 422 VALIDATION_FAILED detail: ttl integer minutes 1-43200; channels an object of 1-500 entries {read, write} ' +
      'with names of 1-250 characters not starting with sw_; member_id ≤ 250 characters (a random UUID when absent); state a JSON object of ≤ 2000 characters. ' +
      'API keys may name a user of their org with userId (query or body).',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['ttl', 'channels'],
      properties: {
        ttl: { type: 'integer', format: 'int32', minimum: 1, maximum: 43200 },
        channels: {
          type: 'object',
          minProperties: 1,
          maxProperties: 500,
          additionalProperties: { type: 'object', additionalProperties: false, properties: { read: { type: 'boolean' }, write: { type: 'boolean' } } },
        },
        member_id: { type: 'string', maxLength: 250 },
        state: { type: 'object' },
        userId: { type: 'string', format: 'uuid', maxLength: 64 },
      },
      example: { ttl: 60, channels: { support: { read: true, write: true } } },
    },
  })
  @ApiOkResponse({ type: ChatTokenView })
  @ApiErrorResponse(404, 'NOT_FOUND: userId names no user of your org')
  @ApiBadRequestResponse({ description: 'SIGNALWIRE_NOT_CONFIGURED' })
  @ApiUnprocessableEntityResponse({ description: 'VALIDATION_FAILED with details; USER_DISABLED: no token is minted for a disabled user' })
  @ApiBadGatewayResponse({ description: 'PROVIDER_AUTH_FAILED, PROVIDER_UNAVAILABLE, PROVIDER_ERROR' })
  mint(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Body() body: unknown,
    @Query() query: MintForUserQuery,
    @RequestContext() meta: RequestMeta,
  ): Promise<{ token: string }> {
    return this.chat.mint(principal, body, query.userId, meta);
  }
}
