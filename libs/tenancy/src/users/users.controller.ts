import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { CurrentPrincipal, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { ParseIdPipe } from '@mintline/common/http/parse-id.pipe';
import { RequestContext, RequestMeta } from '@mintline/common/http/request-context';
import { CreateUserDto, UpdateUserDto, UserView } from './user.dto';
import { toUserView, UsersService } from './users.service';

@ApiTags('Users')
@Controller('users')
@RequireScopes('MANAGE_USERS')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a user in your org' })
  @ApiCreatedResponse({ type: UserView })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN' })
  @ApiErrorResponse(403, "SCOPE_ESCALATION: the role's scopes are not all among your own")
  create(@CurrentPrincipal() principal: TenantPrincipal, @Body() dto: CreateUserDto, @RequestContext() meta: RequestMeta): Promise<UserView> {
    return this.users.create(principal.orgId, dto, principal, meta.requestId);
  }

  @Get()
  @ApiOperation({ summary: 'List the users of your org' })
  @ApiOkResponse({ type: UserView, isArray: true })
  list(@CurrentPrincipal() principal: TenantPrincipal): Promise<UserView[]> {
    return this.users.list(principal.orgId);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read one user' })
  @ApiOkResponse({ type: UserView })
  @ApiNotFoundResponse({ description: 'No such user in your org' })
  async get(@CurrentPrincipal() principal: TenantPrincipal, @Param('id', ParseIdPipe) id: string): Promise<UserView> {
    return toUserView(await this.users.get(principal.orgId, id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a user: name, role, password, disabled' })
  @ApiOkResponse({ type: UserView })
  @ApiNotFoundResponse({ description: 'No such user in your org' })
  @ApiConflictResponse({ description: 'LAST_ADMIN: the org must keep one enabled admin' })
  @ApiErrorResponse(403, "SCOPE_ESCALATION: the user's role's scopes, or the new role's, are not all among your own")
  update(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: UpdateUserDto,
    @RequestContext() meta: RequestMeta,
  ): Promise<UserView> {
    return this.users.update(principal.orgId, id, dto, principal, meta.requestId);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user; their live access tokens are refused from the next request on' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such user in your org' })
  @ApiErrorResponse(403, "SCOPE_ESCALATION: the user's role's scopes are not all among your own")
  @ApiErrorResponse(409, 'LAST_ADMIN: the org must keep one enabled admin')
  async remove(@CurrentPrincipal() principal: TenantPrincipal, @Param('id', ParseIdPipe) id: string, @RequestContext() meta: RequestMeta): Promise<void> {
    await this.users.remove(principal.orgId, id, principal, meta.requestId);
  }
}
