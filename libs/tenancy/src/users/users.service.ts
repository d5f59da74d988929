import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ConfigEventInput, ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { Principal, actorOf } from '@mintline/access/principal';
import { assertScopesCover } from '@mintline/access/scope-escalation';
import { ROLE_SCOPES, Role } from '@mintline/access/scopes';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { Db, TenantTx } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { OrgsRepository } from '../orgs/orgs.repository';
import { Passwords } from './passwords';
import { CreateUserDto, UpdateUserDto, UserView } from './user.dto';
import { UserChanges, UserRecord, UsersRepository } from './users.repository';

export function toUserView(user: UserRecord): UserView {
  return { id: user.id, email: user.email, name: user.name, role: user.role, orgId: user.org_id, disabled: user.disabled };
}

const UNIQUE_VIOLATION = '23505';

@Injectable()
export class UsersService {
  constructor(
    private readonly db: Db,
    private readonly events: ConfigEventsService,
    private readonly bus: InvalidationBus,
    private readonly passwords: Passwords,
  ) {}

  async create(orgId: string, dto: CreateUserDto, principal: Principal, requestId: string): Promise<UserView> {
    assertMayManageRole(principal, dto.role, `Creating a user with role ${dto.role}`);
    const passwordHash = await this.passwords.hash(dto.password);
    try {
      return await this.db.forOrg(orgId).transaction(async (tx) => {
        if (!(await OrgsRepository.exists(tx))) throw ApiError.notFound('Org not found');
        const user = await UsersRepository.insert(tx, { id: randomUUID(), email: dto.email, name: dto.name ?? null, role: dto.role, password_hash: passwordHash });
        await this.record(tx, principal, 'user.created', user.id, { email: user.email, role: user.role }, requestId);
        return toUserView(user);
      });
    } catch (error) {
      const failure = error as { code?: string; driverError?: { code?: string } };
      if ((failure.driverError?.code ?? failure.code) === UNIQUE_VIOLATION) {
        throw ApiError.conflict('EMAIL_TAKEN', 'A user with this email already exists');
      }
      throw error;
    }
  }

  async list(orgId: string): Promise<UserView[]> {
    return (await UsersRepository.list(this.db.forOrg(orgId))).map(toUserView);
  }

  /** The role of a user of the org, or undefined when the org has no such user (a token policy judges the subject's role). */
  async roleOf(orgId: string, userId: string): Promise<Role | undefined> {
    return (await UsersRepository.statusInOrg(this.db.forOrg(orgId), userId))?.role;
  }

  async get(orgId: string, id: string): Promise<UserRecord> {
    const user = await UsersRepository.find(this.db.forOrg(orgId), id);
    if (!user) throw ApiError.notFound('User not found');
    return user;
  }

  async update(orgId: string, id: string, dto: UpdateUserDto, principal: Principal, requestId: string): Promise<UserView> {
    const passwordHash = dto.password ? await this.passwords.hash(dto.password) : undefined;
    return this.db.forOrg(orgId).transaction(async (tx) => {
      // Found in this org first (another org's user stays a 404), then the privilege rule: the user's
      // role, and the role it is given, must be within the principal's scopes, whatever the change.
      const user = await this.lockUser(tx, id);
      assertMayManageRole(principal, user.role, `Changing a user with role ${user.role}`);
      if (dto.role !== undefined) assertMayManageRole(principal, dto.role, `Giving role ${dto.role}`);
      const changes: Record<string, unknown> = {};
      if (dto.name !== undefined && dto.name !== user.name) changes.name = user.name = dto.name;
      if (dto.role !== undefined && dto.role !== user.role) changes.role = user.role = dto.role;
      if (dto.disabled !== undefined && dto.disabled !== user.disabled) changes.disabled = user.disabled = dto.disabled;
      if (passwordHash) changes.password = 'changed';
      if (Object.keys(changes).length === 0) return toUserView(user);
      if (user.role !== 'admin' || user.disabled) await this.assertAnotherActiveAdmin(tx, id);
      const update: UserChanges = { name: user.name, role: user.role, disabled: user.disabled, ...(passwordHash ? { password_hash: passwordHash } : {}) };
      await UsersRepository.update(tx, id, update);
      await this.bus.publish('user', id, tx);
      await this.record(tx, principal, 'user.updated', id, changes, requestId);
      return toUserView(user);
    });
  }

  async remove(orgId: string, id: string, principal: Principal, requestId: string): Promise<void> {
    await this.db.forOrg(orgId).transaction(async (tx) => {
      const user = await this.lockUser(tx, id);
      assertMayManageRole(principal, user.role, `Deleting a user with role ${user.role}`);
      await this.assertAnotherActiveAdmin(tx, id);
      await UsersRepository.delete(tx, id);
      await this.bus.publish('user', id, tx);
      await this.bus.publish('caller-id', id, tx);
      await this.record(tx, principal, 'user.deleted', id, { email: user.email }, requestId);
    });
  }

  /**
   * Changes to an org's users take turns: the org row is locked first, so two concurrent demotions of
   * the last two admins cannot both pass the last-admin check (nor deadlock on each other's rows).
   */
  private async lockUser(tx: TenantTx, id: string): Promise<UserRecord> {
    await OrgsRepository.lock(tx);
    const user = await UsersRepository.lock(tx, id);
    if (!user) throw ApiError.notFound('User not found');
    return user;
  }

  /**
   * An org must keep at least one enabled admin, or nobody could manage it again. The org's admins are
   * locked first so that two concurrent demotions cannot both pass.
   */
  private async assertAnotherActiveAdmin(tx: TenantTx, exceptId: string): Promise<void> {
    const admins = await UsersRepository.lockAdmins(tx);
    const wasActiveAdmin = admins.some((admin) => admin.id === exceptId && !admin.disabled);
    const others = admins.filter((admin) => admin.id !== exceptId && !admin.disabled);
    if (wasActiveAdmin && others.length === 0) {
      throw ApiError.conflict('LAST_ADMIN', 'The org must keep at least one enabled admin');
    }
  }

  private record(tx: TenantTx, principal: Principal, action: string, userId: string, details: ConfigEventInput['details'], requestId: string) {
    return this.events.record(tx, { actor: actorOf(principal), action, targetType: 'user', targetId: userId, details, requestId });
  }
}

/**
 * A principal may only create, change or delete a user whose role's scopes it holds itself, and only give
 * roles whose scopes it holds (403 SCOPE_ESCALATION). The operator holds no scopes but creates orgs' first
 * admins through its own route, the only users route it may call.
 */
function assertMayManageRole(principal: Principal, role: Role, action: string): void {
  if (principal.kind === 'operator') return;
  assertScopesCover(principal.scopes, ROLE_SCOPES[role], `${action} needs scopes you do not hold`);
}
