import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireFeature, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { ParseIdPipe } from '@mintline/common/http/parse-id.pipe';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { CreateEndpointDto, EndpointView, UpdateEndpointDto } from './endpoint.dto';
import { EndpointsService } from './endpoints.service';

@ApiTags('WebRTC')
@Controller('endpoints')
@RequireFeature('webrtc')
@RequireScopes('MANAGE_ENDPOINTS')
export class EndpointsController {
  constructor(private readonly endpoints: EndpointsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a WebRTC endpoint' })
  @ApiCreatedResponse({ type: EndpointView })
  create(@CurrentPrincipal() principal: TenantPrincipal, @Body() dto: CreateEndpointDto, @RequestContext() meta: RequestMeta): Promise<EndpointView> {
    return this.endpoints.create(principal, dto, meta.requestId);
  }

  @Get()
  @ApiOperation({ summary: "List your org's endpoints" })
  @ApiOkResponse({ type: EndpointView, isArray: true })
  list(@CurrentPrincipal() principal: TenantPrincipal): Promise<EndpointView[]> {
    return this.endpoints.list(principal.orgId);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read one endpoint' })
  @ApiOkResponse({ type: EndpointView })
  @ApiNotFoundResponse()
  get(@CurrentPrincipal() principal: TenantPrincipal, @Param('id', ParseIdPipe) id: string): Promise<EndpointView> {
    return this.endpoints.get(principal.orgId, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename, switch WebRTC, archive or re-activate an endpoint' })
  @ApiOkResponse({ type: EndpointView })
  @ApiNotFoundResponse()
  update(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: UpdateEndpointDto,
    @RequestContext() meta: RequestMeta,
  ): Promise<EndpointView> {
    return this.endpoints.update(principal, id, dto, meta.requestId);
  }
}
