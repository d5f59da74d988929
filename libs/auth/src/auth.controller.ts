import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AnyPrincipal, CurrentPrincipal, Public } from '@mintline/access/access.decorators';
import { LoginDto, LoginView, PrincipalView } from './auth.dto';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { AuthService } from './auth.service';
import { describePrincipal, Principal } from '@mintline/access/principal';

@ApiTags('Auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange email and password for a 15-minute access token' })
  @ApiOkResponse({ type: LoginView })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS (same for unknown email and wrong password), USER_DISABLED' })
  @ApiTooManyRequestsResponse({
    description:
      'RATE_LIMITED (with Retry-After): too many failed attempts for this account or from this address, or this instance is already checking LOGIN_CONCURRENCY passwords',
  })
  login(@Body() dto: LoginDto, @RequestContext() meta: RequestMeta): Promise<LoginView> {
    return this.auth.login(dto, meta.ip);
  }

  @Get('me')
  @AnyPrincipal()
  @ApiOperation({ summary: 'Who the presented credential is' })
  @ApiOkResponse({ type: PrincipalView })
  me(@CurrentPrincipal() principal: Principal): Record<string, unknown> {
    return describePrincipal(principal);
  }
}
