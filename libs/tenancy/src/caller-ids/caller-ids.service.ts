import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { actorOf, TenantPrincipal } from '@mintline/access/principal';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ReadThroughCache } from '@mintline/common/cache/read-through-cache';
import { Clock } from '@mintline/common/clock';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { UsersRepository } from '../users/users.repository';
import { CallerIdProvider, PhoneNumberRow, PhoneNumbersRepository } from './phone-numbers.repository';
import { CALLER_ID_POLICY, CallerIdPolicy } from './caller-id-policy';
import { CreatePhoneNumberDto, PhoneNumberView } from './phone-number.dto';

export function toPhoneNumberView(number: PhoneNumberRow): PhoneNumberView {
  return { id: number.id, provider: number.provider, phoneNumber: number.phone_number, isDefault: number.is_default, label: number.label };
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
    return this.db.forOrg(principal.orgId).transaction(async (tx) => {
      // Lock the user row so concurrent additions for one user take turns over the default flag.
      if (!(await UsersRepository.lock(tx, userId))) throw ApiError.notFound('User not found');
      const duplicate = await PhoneNumbersRepository.has(tx, userId, dto.provider, dto.phoneNumber);
      if (duplicate) throw ApiError.conflict('PHONE_NUMBER_TAKEN', 'This user already has this number for this provider');
      // Omitted isDefault: the user's first number for this provider becomes its default, later ones do
      // not; false never does. Read under the user-row lock above, so of two concurrent first numbers
      // the second sees the first (the partial unique index phone_numbers_one_default_key backs this up).
      const isDefault = dto.isDefault ?? !(await PhoneNumbersRepository.has(tx, userId, dto.provider));
      if (isDefault) await PhoneNumbersRepository.clearDefault(tx, userId, dto.provider);
      const number = await PhoneNumbersRepository.insert(tx, {
        id: randomUUID(),
        user_id: userId,
        provider: dto.provider,
        phone_number: dto.phoneNumber,
        is_default: isDefault,
        label: dto.label ?? null,
      });
      await this.bus.publish('caller-id', userId, tx);
      await this.events.record(tx, {
        actor: actorOf(principal),
        action: 'caller_id.added',
        targetType: 'user',
        targetId: userId,
        details: { phoneNumberId: number.id, provider: number.provider, phoneNumber: number.phone_number, isDefault },
        requestId,
      });
      return toPhoneNumberView(number);
    });
  }

  async list(orgId: string, userId: string): Promise<PhoneNumberView[]> {
    await this.assertUser(orgId, userId);
    return (await PhoneNumbersRepository.ofUser(this.db.forOrg(orgId), userId)).map(toPhoneNumberView);
  }

  async remove(principal: TenantPrincipal, userId: string, numberId: string, requestId: string): Promise<void> {
    await this.db.forOrg(principal.orgId).transaction(async (tx) => {
      const number = await PhoneNumbersRepository.findOfUser(tx, numberId, userId);
      if (!number) throw ApiError.notFound('Phone number not found');
      await PhoneNumbersRepository.delete(tx, numberId);
      await this.bus.publish('caller-id', userId, tx);
      await this.events.record(tx, {
        actor: actorOf(principal),
        action: 'caller_id.removed',
        targetType: 'user',
        targetId: userId,
        details: { phoneNumberId: numberId, provider: number.provider, phoneNumber: number.phone_number },
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
