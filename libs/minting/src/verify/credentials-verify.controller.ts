import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { CREDENTIAL_PROVIDERS, PROVIDER_REGISTRY } from '@mintline/providers/provider-registry';
import { CredentialsVerifier } from './credentials-verifier.service';

class VerifyResultView {
  @ApiProperty({ description: 'Whether the credentials work (or, where the provider offers no check, are well-formed)' })
  ok: boolean;

  @ApiProperty({ maxLength: 4096, description: 'What was checked and what was found; never a secret' })
  detail: string;
}

@ApiTags('Provider credentials')
@Controller('credentials')
@RequireScopes('MANAGE_CREDENTIALS')
export class CredentialsVerifyController {
  constructor(private readonly verifier: CredentialsVerifier) {}

  @Post(':provider/verify')
  @HttpCode(200)
  @ApiParam({ name: 'provider', enum: CREDENTIAL_PROVIDERS })
  @ApiOperation({
    summary: 'Check stored credentials against the provider where it can be asked',
    description:
      'sinch-project: an OAuth token (and the trunk when trunkId is set); signalwire: an authenticated request to the space; livekit: RoomService/ListRooms with a roomList token. ' +
      `A format check (the stored fields against their rules) for ${CREDENTIAL_PROVIDERS.filter((provider) => PROVIDER_REGISTRY[provider].verify.kind === 'format').join(', ')}. ` +
      'Every tenant-supplied URL is reached under the outbound-address rules.',
  })
  @ApiOkResponse({ type: VerifyResultView })
  @ApiNotFoundResponse({ description: 'NOT_CONFIGURED' })
  verify(@CurrentPrincipal() principal: TenantPrincipal, @Param('provider') provider: string): Promise<VerifyResultView> {
    return this.verifier.verify(principal.orgId, provider);
  }
}
