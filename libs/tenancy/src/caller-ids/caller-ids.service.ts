import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { actorOf, TenantPrincipal } from '@mintline/access/principal';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ReadThroughCache } from '@mintline/common/cache/read-through-cache';
import { Clock } from '@mintline/common/clock';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { UserEntity } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { PhoneNumbersRepository } from './phone-numbers.repository';
import { CALLER_ID_POLICY, CallerIdPolicy } from './caller-id-policy';
import { CreatePhoneNumberDto, PhoneNumberView } from './phone-number.dto';
import { CallerIdProvider, PhoneNumberEntity } from './phone-number.entity';

export function toPhoneNumberView(number: PhoneNumberEntity): PhoneNumberView {
  return { id: number.id, provider: number.provider, phoneNumber: number.phoneNumber, isDefault: number.isDefault, label: number.label };
}

type Defaults = Partial<Record<CallerIdProvider, string>>;

@Injectable()
export class CallerIdsService {
  /** Each user's default number per provider, read on every voice mint; dropped via the bus on change. */
  private readonly defaults: ReadThroughCache<Defaults>;

  constructor(
    private readonly db: Db,
    private readonly events: ConfigEventsService,
    private readonly bus: InvalidationBus,
    clock: Clock,
    @Inject(CALLER_ID_POLICY) private readonly policy: CallerIdPolicy,
  ) {
    this.defaults = new ReadThroughCache(bus, 'caller-id', { ttlMs: 60_000, maxEntries: 100_000, now: () => clock.nowMs() });
  }

  async add(principal: TenantPrincipal, userId: string, dto: CreatePhoneNumberDto, requestId: string): Promise<PhoneNumberView> {
    await this.assertUser(principal.orgId, userId);
    await this.policy.assertAllowed(principal.orgId, dto.provider, dto.phoneNumber);
    return this.db.forOrg(principal.orgId).entities(async (manager) => {
      // Lock the user row so concurrent additions for one user take turns over the default flag.
      const locked = await manager.findOne(UserEntity, { where: { id: userId, orgId: principal.orgId }, lock: { mode: 'pessimistic_write' } });
      if (!locked) throw ApiError.notFound('User not found');
      const duplicate = await manager.existsBy(PhoneNumberEntity, { userId, provider: dto.provider, phoneNumber: dto.phoneNumber });
      if (duplicate) throw ApiError.conflict('PHONE_NUMBER_TAKEN', 'This user already has this number for this provider');
      // Omitted isDefault: the user's first number for this provider becomes its default, later ones do
      // not; false never does. Read under the user-row lock above, so of two concurrent first numbers
      // the second sees the first (the partial unique index phone_numbers_one_default_key backs this up).
      const isDefault = dto.isDefault ?? !(await manager.existsBy(PhoneNumberEntity, { userId, provider: dto.provider }));
      if (isDefault) await manager.update(PhoneNumberEntity, { userId, provider: dto.provider, isDefault: true }, { isDefault: false });
      const number = manager.create(PhoneNumberEntity, {
        id: randomUUID(),
        orgId: principal.orgId,
        userId,
        provider: dto.provider,
        phoneNumber: dto.phoneNumber,
        isDefault,
        label: dto.label ?? null,
      });
      await manager.insert(PhoneNumberEntity, number);
      await this.bus.publish('caller-id', userId, manager);
      await this.events.record(manager, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'caller_id.added',
        targetType: 'user',
        targetId: userId,
        details: { phoneNumberId: number.id, provider: number.provider, phoneNumber: number.phoneNumber, isDefault },
        requestId,
      });
      return toPhoneNumberView(number);
    });
  }

  async list(orgId: string, userId: string): Promise<PhoneNumberView[]> {
    await this.assertUser(orgId, userId);
    const numbers = await this.db.forOrg(orgId).read((manager) => manager.find(PhoneNumberEntity, { where: { orgId, userId }, order: { createdAt: 'ASC', id: 'ASC' } }));
    return numbers.map(toPhoneNumberView);
  }

  async remove(principal: TenantPrincipal, userId: string, numberId: string, requestId: string): Promise<void> {
    await this.db.forOrg(principal.orgId).entities(async (manager) => {
      const number = await manager.findOneBy(PhoneNumberEntity, { id: numberId, userId, orgId: principal.orgId });
      if (!number) throw ApiError.notFound('Phone number not found');
      await manager.delete(PhoneNumberEntity, { id: numberId });
      await this.bus.publish('caller-id', userId, manager);
      await this.events.record(manager, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'caller_id.removed',
        targetType: 'user',
        targetId: userId,
        details: { phoneNumberId: numberId, provider: number.provider, phoneNumber: number.phoneNumber },
        requestId,
      });
    });
  }

  /** The user's default number for the provider, or "" when there is none. */
  async defaultNumber(orgId: string, userId: string, provider: CallerIdProvider): Promise<string> {
    const defaults = await this.defaults.get(userId, async () => {
      const rows = await PhoneNumbersRepository.defaultsOf(this.db.forOrg(orgId), userId);
      return Object.fromEntries(rows.map((row) => [row.provider, row.phone_number])) as Defaults;
    });
    return defaults[provider] ?? '';
  }

  private async assertUser(orgId: string, userId: string): Promise<void> {
    if (!(await UsersRepository.statusInOrg(this.db.forOrg(orgId), userId))) throw ApiError.notFound('User not found');
  }
}
