import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { CurrentPrincipal, OperatorOnly } from '@mintline/access/access.decorators';
import { actorOf, Principal } from '@mintline/access/principal';
import { ParseIdPipe } from '@mintline/common/http/parse-id.pipe';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { CreateUserDto, UserView } from '../users/user.dto';
import { UsersService } from '../users/users.service';
import { CreateOrgDto, OrgView, UpdateOrgDto } from './org.dto';
import { OrgsService, toOrgView } from './orgs.service';

@ApiTags('Operator')
@Controller('orgs')
@OperatorOnly()
export class OrgsController {
  constructor(
    private readonly orgs: OrgsService,
    private readonly users: UsersService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create an org, optionally as the child of another' })
  @ApiCreatedResponse({ type: OrgView })
  @ApiUnprocessableEntityResponse({ description: 'INVALID_PARENT_ORG' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateOrgDto, @RequestContext() meta: RequestMeta): Promise<OrgView> {
    return this.orgs.create(dto, actorOf(principal), meta.requestId);
  }

  @Get(':orgId')
  @ApiOperation({ summary: 'Read an org with its features and limits' })
  @ApiOkResponse({ type: OrgView })
  @ApiNotFoundResponse()
  async get(@Param('orgId', ParseIdPipe) orgId: string): Promise<OrgView> {
    return toOrgView(await this.orgs.get(orgId));
  }

  @Patch(':orgId')
  @ApiOperation({ summary: 'Rename an org, switch features (webrtc) or set limits (mintsPerMinute)' })
  @ApiOkResponse({ type: OrgView })
  @ApiNotFoundResponse()
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', ParseIdPipe) orgId: string,
    @Body() dto: UpdateOrgDto,
    @RequestContext() meta: RequestMeta,
  ): Promise<OrgView> {
    return this.orgs.update(orgId, dto, actorOf(principal), meta.requestId);
  }

  @Post(':orgId/users')
  @ApiOperation({ summary: "Create a user in an org, typically the org's first admin" })
  @ApiCreatedResponse({ type: UserView })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such org' })
  @ApiErrorResponse(409, 'EMAIL_TAKEN')
  createUser(
    @CurrentPrincipal() principal: Principal,
    @Param('orgId', ParseIdPipe) orgId: string,
    @Body() dto: CreateUserDto,
    @RequestContext() meta: RequestMeta,
  ): Promise<UserView> {
    return this.users.create(orgId, dto, principal, meta.requestId);
  }
}
