import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, Public, RequireFeature, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { ParseIdPipe } from '@mintline/common/http/parse-id.pipe';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { MintRoute } from '../mint-route.decorator';
import { CallTokenView, CreateCallTokenDto, CreatedCallTokenView, RedeemCallTokenDto, RedeemedCallTokenView } from './call-token.dto';
import { CallTokensService } from './call-tokens.service';

@ApiTags('WebRTC')
@Controller('call-tokens')
export class CallTokensController {
  constructor(private readonly callTokens: CallTokensService) {}

  @Post()
  @RequireFeature('webrtc')
  @RequireScopes('CREATE_CALL_TOKEN')
  @MintRoute('call-token')
  @ApiOperation({ summary: 'Mint a single-use call token bound to one WebRTC endpoint (for a backend to hand to a browser)' })
  @ApiCreatedResponse({ type: CreatedCallTokenView })
  @ApiBadRequestResponse({ description: 'ENDPOINT_NOT_FOUND, ENDPOINT_NOT_WEBRTC, VALIDATION_FAILED' })
  @ApiConflictResponse({ description: 'ENDPOINT_ARCHIVED' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  mint(@CurrentPrincipal() principal: TenantPrincipal, @Body() dto: CreateCallTokenDto, @RequestContext() meta: RequestMeta): Promise<CreatedCallTokenView> {
    return this.callTokens.mint(principal, dto, meta);
  }

  @Post('redeem')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a call token for a session, exactly once (the token is the credential)' })
  @ApiOkResponse({ type: RedeemedCallTokenView })
  @ApiUnauthorizedResponse({ description: 'TOKEN_REDEEMED, TOKEN_EXPIRED, TOKEN_REVOKED, TOKEN_INVALID' })
  redeem(@Body() dto: RedeemCallTokenDto, @RequestContext() meta: RequestMeta): Promise<RedeemedCallTokenView> {
    return this.callTokens.redeem(dto.token, meta);
  }

  @Get(':id')
  @RequireFeature('webrtc')
  @RequireScopes('READ_CALL_TOKEN')
  @ApiOperation({ summary: "A call token's state (never the token itself)" })
  @ApiOkResponse({ type: CallTokenView })
  @ApiNotFoundResponse()
  get(@CurrentPrincipal() principal: TenantPrincipal, @Param('id', ParseIdPipe) id: string): Promise<CallTokenView> {
    return this.callTokens.get(principal.orgId, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireFeature('webrtc')
  @RequireScopes('CREATE_CALL_TOKEN')
  @ApiOperation({ summary: 'Revoke a call token that has not been redeemed' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'TOKEN_REDEEMED' })
  async revoke(@CurrentPrincipal() principal: TenantPrincipal, @Param('id', ParseIdPipe) id: string, @RequestContext() meta: RequestMeta): Promise<void> {
    await this.callTokens.revoke(principal, id, meta);
  }
}
