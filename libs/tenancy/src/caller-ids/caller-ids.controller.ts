import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { CurrentPrincipal, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { ParseIdPipe } from '@mintline/common/http/parse-id.pipe';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { CallerIdsService } from './caller-ids.service';
import { CreatePhoneNumberDto, PhoneNumberView } from './phone-number.dto';

@ApiTags('Users')
@Controller('users/:id/phone-numbers')
@RequireScopes('MANAGE_USERS')
export class CallerIdsController {
  constructor(private readonly callerIds: CallerIdsService) {}

  @Post()
  @ApiOperation({ summary: "Add a caller ID (E.164) to a user; a new default clears the user's previous default for that provider" })
  @ApiCreatedResponse({ type: PhoneNumberView })
  @ApiNotFoundResponse({ description: 'No such user in your org' })
  @ApiConflictResponse({ description: 'PHONE_NUMBER_TAKEN' })
  @ApiUnprocessableEntityResponse({ description: "NUMBER_NOT_ON_TRUNK: a sinch number that is not on the org's SIP trunk" })
  @ApiErrorResponse(502, 'PROVIDER_AUTH_FAILED, PROVIDER_UNAVAILABLE, PROVIDER_ERROR: the SIP trunk could not be checked with Sinch')
  add(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('id', ParseIdPipe) userId: string,
    @Body() dto: CreatePhoneNumberDto,
    @RequestContext() meta: RequestMeta,
  ): Promise<PhoneNumberView> {
    return this.callerIds.add(principal, userId, dto, meta.requestId);
  }

  @Get()
  @ApiOperation({ summary: "List a user's caller IDs" })
  @ApiOkResponse({ type: PhoneNumberView, isArray: true })
  @ApiNotFoundResponse({ description: 'No such user in your org' })
  list(@CurrentPrincipal() principal: TenantPrincipal, @Param('id', ParseIdPipe) userId: string): Promise<PhoneNumberView[]> {
    return this.callerIds.list(principal.orgId, userId);
  }

  @Delete(':numberId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a caller ID' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async remove(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('id', ParseIdPipe) userId: string,
    @Param('numberId', ParseIdPipe) numberId: string,
    @RequestContext() meta: RequestMeta,
  ): Promise<void> {
    await this.callerIds.remove(principal, userId, numberId, meta.requestId);
  }
}
