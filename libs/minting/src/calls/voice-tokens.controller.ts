import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { CurrentPrincipal, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { MintRoute } from '../mint-route.decorator';
import { MintForUserQuery, SinchTokenView, TwilioTokenView } from './voice-token.dto';
import { VoiceTokensService } from './voice-tokens.service';

@ApiTags('Minting')
@Controller('calls/token')
export class VoiceTokensController {
  constructor(private readonly calls: VoiceTokensService) {}

  @Get('sinch')
  @RequireScopes('CREATE_CALL_TOKEN')
  @MintRoute('sinch')
  @ApiOperation({
    summary: 'Mint a Sinch Voice SDK registration token',
    description:
      "A 10-minute Sinch RTC JWT for the user, the application key and the user's default sinch caller ID. " +
      "The org's sinch token policy applies: its lifetime is fixed, so a maxTtlSeconds under 600 refuses it, as a rooms rule does (it names no room).",
  })
  @ApiOkResponse({ type: SinchTokenView })
  @ApiErrorResponse(404, 'NOT_FOUND: userId names no user of your org')
  @ApiErrorResponse(422, 'USER_DISABLED: no token is minted for a disabled user')
  @ApiBadRequestResponse({ description: 'SINCH_NOT_CONFIGURED, VALIDATION_FAILED' })
  @ApiServiceUnavailableResponse({ description: 'UNAVAILABLE: the audit entry could not be written, so no token' })
  sinch(@CurrentPrincipal() principal: TenantPrincipal, @Query() query: MintForUserQuery, @RequestContext() meta: RequestMeta): Promise<SinchTokenView> {
    return this.calls.sinch(principal, query.userId, meta);
  }

  @Get('twilio')
  @RequireScopes('CREATE_CALL_TOKEN')
  @MintRoute('twilio')
  @ApiOperation({
    summary: 'Mint a Twilio Voice access token',
    description:
      'A Twilio AccessToken with a voice grant (outgoing: the TwiML app; incoming allowed) for the user, for an hour. ' +
      "The org's twilio token policy applies: its maxTtlSeconds shortens the lifetime (expiresIn and the token's exp say so), publish: false takes the outgoing grant, and a rooms rule refuses it (it names no room).",
  })
  @ApiOkResponse({ type: TwilioTokenView })
  @ApiErrorResponse(404, 'NOT_FOUND: userId names no user of your org')
  @ApiErrorResponse(422, 'USER_DISABLED: no token is minted for a disabled user')
  @ApiBadRequestResponse({ description: 'TWILIO_NOT_CONFIGURED, VALIDATION_FAILED' })
  @ApiServiceUnavailableResponse({ description: 'UNAVAILABLE: the audit entry could not be written, so no token' })
  twilio(@CurrentPrincipal() principal: TenantPrincipal, @Query() query: MintForUserQuery, @RequestContext() meta: RequestMeta): Promise<TwilioTokenView> {
    return this.calls.twilio(principal, query.userId, meta);
  }
}
