import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ExecutionContext, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import passport from 'passport';
import { MINT_ROUTE } from '@mintline/access/mint-route';
import { ApiError } from '@mintline/common/errors/api-error';
import { AccessRefusal } from '@mintline/access/access-refusal';
import { AnyPrincipal, OperatorOnly, Public, RequireFeature, RequireScopes } from '@mintline/access/access.decorators';
import type { OrgFeature, OrgFeatures } from '@mintline/access/org-features';
import { AccessGuard } from './access.guard';
import { BearerStrategy } from './bearer.strategy';
import type { Principal } from '@mintline/access/principal';
import type { PrincipalResolver } from './principal-resolver.service';
import { ROLE_SCOPES } from '@mintline/access/scopes';

const ORG = '0b9f3c1e-3f4a-4c55-9a57-2f1f7c1d2e3a';
const admin: Principal = { kind: 'user', orgId: ORG, userId: 'u-admin', role: 'admin', scopes: ROLE_SCOPES.admin };
const agent: Principal = { kind: 'user', orgId: ORG, userId: 'u-agent', role: 'agent', scopes: ROLE_SCOPES.agent };
const operator: Principal = { kind: 'operator', orgId: null, scopes: [] };

class Handlers {
  @Public()
  open(): void {}

  undeclared(): void {}

  @RequireScopes('MANAGE_USERS')
  users(): void {}

  @OperatorOnly()
  orgs(): void {}

  @AnyPrincipal()
  me(): void {}

  @RequireScopes('CREATE_CALL_TOKEN')
  @RequireFeature('webrtc')
  @SetMetadata(MINT_ROUTE, 'call-token')
  mint(): void {}
}

@RequireScopes('READ_AUDIT')
class ScopedClass {
  inherits(): void {}

  @Public()
  overridden(): void {}
}

class UndeclaredClass {
  handler(): void {}
}

type Request = { headers: Record<string, string>; user?: Principal; id?: string; ip?: string };

function contextFor(cls: { prototype: object }, handlerName: string, headers: Record<string, string> = {}) {
  const request: Request = { headers, id: 'req-1', ip: '127.0.0.1' };
  const handler = (cls.prototype as Record<string, unknown>)[handlerName] as () => void;
  const context = {
    getHandler: () => handler,
    getClass: () => cls,
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}), getNext: () => undefined }),
  } as unknown as ExecutionContext;
  return { context, request };
}

function setUp(options: { resolves?: Principal | Error; webrtc?: boolean | Error; synced?: boolean } = {}) {
  const resolve = jest.fn(async () => {
    if (options.resolves instanceof Error) throw options.resolves;
    return options.resolves ?? admin;
  });
  const bearer = new BearerStrategy({ resolve } as unknown as PrincipalResolver);
  const isEnabled = jest.fn(async (_orgId: string, feature: OrgFeature) => {
    if (options.webrtc instanceof Error) throw options.webrtc;
    return feature === 'webrtc' && options.webrtc === true;
  });
  const sync = jest.fn().mockResolvedValue(undefined);
  const guard = new AccessGuard(new Reflector(), { isEnabled } satisfies OrgFeatures, bearer, {
    sync,
    synced: options.synced ?? false,
    version: 7,
  } as unknown as InvalidationBus);
  return { guard, resolve, features: isEnabled, sync };
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('the guard let the request through');
}

afterEach(() => jest.restoreAllMocks());

describe('AccessGuard: deny by default', () => {
  it('refuses a handler with no access rule with 403 ROUTE_NOT_DECLARED before reading any credential', async () => {
    const { guard, resolve } = setUp();
    const authenticate = jest.spyOn(passport, 'authenticate');
    const { context, request } = contextFor(Handlers, 'undeclared', { authorization: 'Bearer op' });
    expect(await refusal(guard.canActivate(context))).toMatchObject({ status: 403, code: 'ROUTE_NOT_DECLARED' });
    expect(authenticate).not.toHaveBeenCalled();
    expect(resolve).not.toHaveBeenCalled();
    expect(request.user).toBeUndefined();
  });

  it('refuses it also when the controller declares nothing', async () => {
    const { guard, resolve } = setUp();
    const { context } = contextFor(UndeclaredClass, 'handler', { authorization: 'Bearer op' });
    expect(await refusal(guard.canActivate(context))).toMatchObject({ code: 'ROUTE_NOT_DECLARED' });
    expect(resolve).not.toHaveBeenCalled();
  });
});

describe('AccessGuard: public routes', () => {
  it('lets a request without a credential through and reads nothing', async () => {
    const { guard, resolve } = setUp();
    const authenticate = jest.spyOn(passport, 'authenticate');
    const { context, request } = contextFor(Handlers, 'open');
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(authenticate).not.toHaveBeenCalled();
    expect(resolve).not.toHaveBeenCalled();
    expect(request.user).toBeUndefined();
  });

  it('ignores even a malformed credential on a public route', async () => {
    const { guard, resolve } = setUp({ resolves: ApiError.unauthorized() });
    const { context } = contextFor(Handlers, 'open', { authorization: 'Basic nonsense' });
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(resolve).not.toHaveBeenCalled();
  });

  it('lets a method-level @Public override a class-level rule', async () => {
    const { guard } = setUp();
    await expect(guard.canActivate(contextFor(ScopedClass, 'overridden').context)).resolves.toBe(true);
  });
});

describe('AccessGuard: authenticated routes', () => {
  it('answers 401 UNAUTHORIZED without a credential', async () => {
    const { guard, resolve } = setUp();
    for (const name of ['users', 'orgs', 'me', 'mint']) {
      expect(await refusal(guard.canActivate(contextFor(Handlers, name).context))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
    expect(resolve).not.toHaveBeenCalled();
  });

  it('answers 401 for a malformed Authorization header', async () => {
    const { guard } = setUp();
    expect(await refusal(guard.canActivate(contextFor(Handlers, 'me', { authorization: 'Token x' }).context))).toMatchObject({ status: 401 });
  });

  it('passes on the resolver refusal of a bad credential', async () => {
    const { guard } = setUp({ resolves: ApiError.unauthorized('Invalid or expired access token') });
    const error = await refusal(guard.canActivate(contextFor(Handlers, 'me', { authorization: 'Bearer expired' }).context));
    expect(error).toMatchObject({ status: 401, message: 'Invalid or expired access token' });
  });

  it('sets the principal on the request and lets a holder of the scope through', async () => {
    const { guard, resolve } = setUp({ resolves: admin });
    const { context, request } = contextFor(Handlers, 'users', { authorization: 'Bearer token' });
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(resolve).toHaveBeenCalledWith({ value: 'token', via: 'bearer' });
    expect(request.user).toBe(admin);
  });

  it('reads X-API-Key too', async () => {
    const { guard, resolve } = setUp({ resolves: admin });
    await expect(guard.canActivate(contextFor(Handlers, 'users', { 'x-api-key': 'mlk_key' }).context)).resolves.toBe(true);
    expect(resolve).toHaveBeenCalledWith({ value: 'mlk_key', via: 'x-api-key' });
  });

  it('refuses a principal without the scope with 403 MISSING_SCOPE', async () => {
    const { guard } = setUp({ resolves: agent });
    expect(await refusal(guard.canActivate(contextFor(Handlers, 'users', { authorization: 'Bearer t' }).context))).toMatchObject({ status: 403, code: 'MISSING_SCOPE' });
  });

  it('applies a class-level rule to undecorated handlers', async () => {
    expect(await refusal(setUp({ resolves: agent }).guard.canActivate(contextFor(ScopedClass, 'inherits', { authorization: 'Bearer t' }).context))).toMatchObject({
      code: 'MISSING_SCOPE',
    });
    await expect(setUp({ resolves: admin }).guard.canActivate(contextFor(ScopedClass, 'inherits', { authorization: 'Bearer t' }).context)).resolves.toBe(true);
  });

  it('keeps operator routes to the operator (403 OPERATOR_ONLY) and tenant routes from it (403 MISSING_SCOPE)', async () => {
    expect(await refusal(setUp({ resolves: admin }).guard.canActivate(contextFor(Handlers, 'orgs', { authorization: 'Bearer t' }).context))).toMatchObject({
      code: 'OPERATOR_ONLY',
    });
    await expect(setUp({ resolves: operator }).guard.canActivate(contextFor(Handlers, 'orgs', { authorization: 'Bearer op' }).context)).resolves.toBe(true);
    expect(await refusal(setUp({ resolves: operator }).guard.canActivate(contextFor(Handlers, 'users', { authorization: 'Bearer op' }).context))).toMatchObject({
      code: 'MISSING_SCOPE',
    });
  });

  it('lets any principal use an any-principal route', async () => {
    for (const principal of [admin, agent, operator]) {
      await expect(setUp({ resolves: principal }).guard.canActivate(contextFor(Handlers, 'me', { authorization: 'Bearer t' }).context)).resolves.toBe(true);
    }
  });
});

describe('AccessGuard: features, and refusals that name who and where', () => {
  it('answers 403 FEATURE_DISABLED when the org feature is off, whatever the scopes', async () => {
    const { guard, features } = setUp({ resolves: admin, webrtc: false });
    expect(await refusal(guard.canActivate(contextFor(Handlers, 'mint', { authorization: 'Bearer t' }).context))).toMatchObject({ status: 403, code: 'FEATURE_DISABLED' });
    expect(features).toHaveBeenCalledWith(ORG, 'webrtc');
  });

  it('checks scopes once the feature is on', async () => {
    const auditor: Principal = { kind: 'user', orgId: ORG, userId: 'u-auditor', role: 'auditor', scopes: ROLE_SCOPES.auditor };
    expect(await refusal(setUp({ resolves: auditor, webrtc: true }).guard.canActivate(contextFor(Handlers, 'mint', { authorization: 'Bearer t' }).context))).toMatchObject({
      code: 'MISSING_SCOPE',
    });
    await expect(setUp({ resolves: agent, webrtc: true }).guard.canActivate(contextFor(Handlers, 'mint', { authorization: 'Bearer t' }).context)).resolves.toBe(true);
  });

  it('lets a mint through on caches the bus has synced once, without reading the epochs, and hands the pipeline a recheck', async () => {
    const { guard, sync, resolve } = setUp({ resolves: agent, webrtc: true, synced: true });
    const { context, request } = contextFor(Handlers, 'mint', { authorization: 'Bearer t' });
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(sync).not.toHaveBeenCalled();
    const freshness = (request as unknown as { freshness: { version: number; recheck(): Promise<void> } }).freshness;
    expect(freshness.version).toBe(7);
    // The recheck reads the epochs and authenticates again.
    await freshness.recheck();
    expect(sync).toHaveBeenCalledTimes(1);
    expect(resolve).toHaveBeenCalledTimes(2);
  });

  it('decides a mint refused on caches that may be stale again from fresh ones, and only that decision is an AccessRefusal', async () => {
    const { guard, sync, features } = setUp({ resolves: admin, webrtc: false, synced: true });
    const refused = await refusal(guard.canActivate(contextFor(Handlers, 'mint', { authorization: 'Bearer t' }).context));
    expect(refused).toBeInstanceOf(AccessRefusal);
    expect(refused).toMatchObject({ status: 403, code: 'FEATURE_DISABLED' });
    expect(sync).toHaveBeenCalledTimes(1);
    // Asked twice: once from the synced caches, once after reading the epochs.
    expect(features).toHaveBeenCalledTimes(2);
  });

  it('reads the epochs first on routes that are not mints, and before the bus has ever synced', async () => {
    const synced = setUp({ resolves: admin, synced: true });
    await expect(synced.guard.canActivate(contextFor(Handlers, 'users', { authorization: 'Bearer t' }).context)).resolves.toBe(true);
    expect(synced.sync).toHaveBeenCalledTimes(1);
    const fresh = setUp({ resolves: agent, webrtc: true });
    await expect(fresh.guard.canActivate(contextFor(Handlers, 'mint', { authorization: 'Bearer t' }).context)).resolves.toBe(true);
    expect(fresh.sync).toHaveBeenCalledTimes(1);
  });

  it('does not ask for features on routes that need none, nor for the operator', async () => {
    const { guard, features } = setUp({ resolves: admin });
    await expect(guard.canActivate(contextFor(Handlers, 'users', { authorization: 'Bearer t' }).context)).resolves.toBe(true);
    expect(await refusal(setUp({ resolves: operator }).guard.canActivate(contextFor(Handlers, 'mint', { authorization: 'Bearer op' }).context))).toMatchObject({
      code: 'MISSING_SCOPE',
    });
    expect(features).not.toHaveBeenCalled();
  });

  it.each([
    ['a disabled feature', admin, 'mint', 'FEATURE_DISABLED'],
    ['a missing scope', agent, 'users', 'MISSING_SCOPE'],
    ['an operator route', admin, 'orgs', 'OPERATOR_ONLY'],
  ] as const)('refuses %s with an AccessRefusal naming the principal and the handler, for the route owner to record', async (_label, principal, handler, code) => {
    const { guard } = setUp({ resolves: principal, webrtc: false });
    const error = await refusal(guard.canActivate(contextFor(Handlers, handler, { authorization: 'Bearer t' }).context));
    expect(error).toBeInstanceOf(AccessRefusal);
    expect(error).toMatchObject({ status: 403, code, principal, handler: Handlers.prototype[handler] });
  });

  it('refuses before authentication with a plain error: nobody to name', async () => {
    for (const handler of ['undeclared', 'mint'] as const) {
      const error = await refusal(setUp().guard.canActivate(contextFor(Handlers, handler).context));
      expect(error).not.toBeInstanceOf(AccessRefusal);
    }
  });

  it('passes on a failure to read the feature switch as it is, not as a refusal', async () => {
    const { guard } = setUp({ resolves: admin, webrtc: ApiError.unavailable() });
    const error = await refusal(guard.canActivate(contextFor(Handlers, 'mint', { authorization: 'Bearer t' }).context));
    expect(error).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(error).not.toBeInstanceOf(AccessRefusal);
  });
});
