import { AsyncLocalStorage } from 'node:async_hooks';
import { isUuid } from '../http/uuid';

/**
 * Which rows the database lets the current work see (PostgreSQL row-level security, see the
 * RowLevelSecurity migration): one org's, or — for the few paths that are cross-tenant by nature —
 * every org's. Work with no scope sees no tenant row at all.
 *
 * System scope is for: resolving who a credential belongs to (login by email, an API key or a call
 * token by its hash, a user by id), the operator's routes, the audit writer's multi-org batches, and
 * the CLI's maintenance commands. Everything an org's principal asks for runs in that org's scope.
 */
export type DbScope = { readonly orgId: string } | typeof SYSTEM_SCOPE;

export const SYSTEM_SCOPE = 'system' as const;

/** What the storage holds: a request's holder starts empty and gets its scope once the principal is known. */
interface Holder {
  scope?: DbScope;
  readonly request: boolean;
}

const storage = new AsyncLocalStorage<Holder>();

export const TenantScope = {
  /** Runs `work` (and everything it starts) in `scope`. */
  run<T>(scope: DbScope, work: () => T): T {
    return storage.run({ scope, request: false }, work);
  },

  system<T>(work: () => T): T {
    return TenantScope.run(SYSTEM_SCOPE, work);
  },

  org<T>(orgId: string, work: () => T): T {
    return TenantScope.run({ orgId }, work);
  },

  /**
   * Runs an HTTP request's handling (`handle`, called synchronously) with a holder of its own and no
   * scope yet; `enterRequest` gives it one once the principal is authenticated.
   */
  request<T>(handle: () => T): T {
    return storage.run({ request: true }, handle);
  },

  /** Scopes the rest of the current request (see `request`) to its principal. */
  enterRequest(scope: DbScope): void {
    const holder = storage.getStore();
    if (!holder?.request) throw new Error('TenantScope.enterRequest outside a request');
    holder.scope = scope;
  },

  current(): DbScope | undefined {
    return storage.getStore()?.scope;
  },

  /**
   * The value of the `mintline.tenant` setting for `scope`: an org id or 'system'. It is written into
   * SQL text (a set_config call sent with BEGIN in one round trip), so it is checked to be one of the two.
   */
  settingOf(scope: DbScope): string {
    if (scope === SYSTEM_SCOPE) return SYSTEM_SCOPE;
    if (!isUuid(scope.orgId)) throw new Error('a tenant scope needs an org id');
    return scope.orgId.toLowerCase();
  },
};
