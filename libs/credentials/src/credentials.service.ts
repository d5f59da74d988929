import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { actorOf, TenantPrincipal } from '@mintline/access/principal';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ReadThroughCache } from '@mintline/common/cache/read-through-cache';
import { Clock } from '@mintline/common/clock';
import { AppConfig } from '@mintline/common/config';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { CredentialView } from './credential.dto';
import { CredentialRecord, CredentialsRepository } from './credentials.repository';
import { CREDENTIALS_CHANGED, CredentialsChangedListener } from './credentials-changed';
import { DecryptionError, EnvelopeCipher } from './envelope-cipher';
import { CREDENTIAL_PROVIDERS, credentialFields, CredentialProvider, FieldsOf, isCredentialProvider, MintCredentialProvider } from '@mintline/providers/provider-registry';
import { maskFields, notConfigured, validateCredentialFields } from './provider-fields';

/** How long decrypted credentials may stay in memory; any change drops them at once on every instance. */
const CACHE_TTL_MS = 30_000;

@Injectable()
export class CredentialsService {
  private readonly logger = new Logger('Credentials');
  private readonly cache: ReadThroughCache<Record<string, string> | null>;

  constructor(
    private readonly db: Db,
    private readonly cipher: EnvelopeCipher,
    private readonly events: ConfigEventsService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly bus: InvalidationBus,
    @Inject(CREDENTIALS_CHANGED) changed: CredentialsChangedListener,
  ) {
    this.cache = new ReadThroughCache(bus, 'credentials', { ttlMs: CACHE_TTL_MS, maxEntries: 20_000, now: () => clock.nowMs() });
    // Every change is published on the bus (see put and remove), so every instance hears of it.
    bus.on('credentials', (key) => {
      const [orgId, provider] = key.split('/');
      if (orgId && isCredentialProvider(provider)) changed.credentialsChanged(orgId, provider);
    });
  }

  async put(principal: TenantPrincipal, providerName: string, body: unknown, requestId: string): Promise<CredentialView> {
    const provider = parseProvider(providerName);
    const { fields } = validateCredentialFields(provider, body, { allowInsecureUrls: this.config.allowInsecureProviderUrls });
    const plain: Record<string, string> = {};
    const secrets: CredentialRecord['secrets'] = {};
    for (const spec of credentialFields(provider)) {
      const value = fields[spec.name];
      if (value === undefined) continue;
      if (spec.secret) secrets[spec.name] = this.cipher.encrypt(value, { orgId: principal.orgId, provider, field: spec.name });
      else plain[spec.name] = value;
    }
    const actor = actorOf(principal);
    const updatedAt = this.clock.now();
    await this.db.forOrg(principal.orgId).transaction(async (tx) => {
      const existed = await CredentialsRepository.exists(tx, provider);
      await CredentialsRepository.upsert(tx, { provider, fields: plain, secrets, updatedAt, updatedByKind: actor.kind, updatedById: actor.id });
      await this.bus.publish('credentials', cacheKey(principal.orgId, provider), tx);
      await this.events.record(tx, {
        actor,
        action: existed ? 'credentials.replaced' : 'credentials.created',
        targetType: 'credentials',
        targetId: provider,
        // Which fields were set, and the non-secret values; secret values never.
        details: { provider, fields: plain, secretFields: Object.keys(secrets) },
        requestId,
      });
    });
    return { provider, fields: maskFields(provider, fields), updatedAt: updatedAt.toISOString(), updatedBy: actor };
  }

  async list(orgId: string): Promise<CredentialView[]> {
    const rows = await CredentialsRepository.list(this.db.forOrg(orgId));
    return rows.map((row) => this.toView(row));
  }

  async get(orgId: string, providerName: string): Promise<CredentialView> {
    const provider = parseProvider(providerName);
    const row = await CredentialsRepository.find(this.db.forOrg(orgId), provider);
    if (!row) throw ApiError.notFound(`No ${provider} credentials are configured`, 'NOT_CONFIGURED');
    return this.toView(row);
  }

  async remove(principal: TenantPrincipal, providerName: string, requestId: string): Promise<void> {
    const provider = parseProvider(providerName);
    await this.db.forOrg(principal.orgId).transaction(async (tx) => {
      if (!(await CredentialsRepository.delete(tx, provider))) throw ApiError.notFound(`No ${provider} credentials are configured`, 'NOT_CONFIGURED');
      await this.bus.publish('credentials', cacheKey(principal.orgId, provider), tx);
      await this.events.record(tx, {
        actor: actorOf(principal),
        action: 'credentials.deleted',
        targetType: 'credentials',
        targetId: provider,
        details: { provider },
        requestId,
      });
    });
  }

  /**
   * The org's fields of a mint's provider, typed from the provider's table, or its 400
   * `{PROVIDER}_NOT_CONFIGURED` when the org has none.
   */
  async require<P extends MintCredentialProvider>(provider: P, orgId: string): Promise<FieldsOf<P>> {
    const fields = await this.find(provider, orgId);
    if (!fields) throw notConfigured(provider);
    return fields;
  }

  /** The org's fields of the provider, typed from the provider's table, or undefined when it has none. */
  async find<P extends CredentialProvider>(provider: P, orgId: string): Promise<FieldsOf<P> | undefined> {
    // Stored fields were checked against the same table when they were put (validateCredentialFields).
    return (await this.decrypted(orgId, provider)) as FieldsOf<P> | undefined;
  }

  /**
   * The decrypted fields, or undefined when the org has none for this provider. Served from a short
   * in-memory cache; a ciphertext that fails to decrypt is an error, never a silent miss.
   */
  private async decrypted(orgId: string, provider: CredentialProvider): Promise<Record<string, string> | undefined> {
    const fields = await this.cache.get(cacheKey(orgId, provider), async () => {
      const row = await CredentialsRepository.find(this.db.forOrg(orgId), provider);
      return row ? this.decryptRow(row) : null;
    });
    return fields ?? undefined;
  }

  private decryptRow(row: CredentialRecord): Record<string, string> {
    const fields: Record<string, string> = { ...row.fields };
    for (const [field, secret] of Object.entries(row.secrets)) {
      try {
        fields[field] = this.cipher.decrypt(secret, { orgId: row.orgId, provider: row.provider, field });
      } catch (error) {
        if (error instanceof DecryptionError) {
          // Tampering, a swapped row or a missing master key: an integrity incident worth an alert.
          this.logger.error({ orgId: row.orgId, provider: row.provider, field, reason: error.reason }, 'stored credentials failed to decrypt');
          throw new ApiError(500, 'CREDENTIALS_UNREADABLE', `Stored ${row.provider} credentials cannot be decrypted; store them again`);
        }
        throw error;
      }
    }
    return fields;
  }

  private toView(row: CredentialRecord): CredentialView {
    return {
      provider: row.provider,
      fields: maskFields(row.provider, this.decryptRow(row)),
      updatedAt: row.updatedAt.toISOString(),
      updatedBy: { kind: row.updatedByKind, id: row.updatedById },
    };
  }
}

function cacheKey(orgId: string, provider: CredentialProvider): string {
  return `${orgId}/${provider}`;
}

function parseProvider(value: string): CredentialProvider {
  if (!isCredentialProvider(value)) {
    throw ApiError.validation([{ field: 'provider', message: `must be one of ${CREDENTIAL_PROVIDERS.join(', ')}` }]);
  }
  return value;
}
