import { JwtService } from '@nestjs/jwt';
import { randomBytes, randomUUID } from 'node:crypto';
import * as jwt from 'jsonwebtoken';
import type { Db } from '@mintline/common/database/db';
import type { CacheTopic, InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ManualClock } from '@mintline/common/clock';
import { AppConfig } from '@mintline/common/config';
import { ApiError } from '@mintline/common/errors/api-error';
import { AccessTokensService } from './access-tokens.service';
import type { ApiKeysService } from './api-keys/api-keys.service';
import type { Principal } from '@mintline/access/principal';
import { PrincipalResolver } from './principal-resolver.service';
import { ROLE_SCOPES } from '@mintline/access/scopes';

const SECRET = randomBytes(32).toString('base64url');
const OPERATOR_TOKEN = `op_${randomBytes(24).toString('base64url')}`;
const ORG = randomUUID();
const USER = randomUUID();

/** The bus as the cache sees it: live or not, and a way to deliver an invalidation. */
class FakeBus {
  live = true;
  private readonly listeners = new Map<CacheTopic, Array<(key: string) => void>>();
  on(topic: CacheTopic, listener: (key: string) => void): void {
    this.listeners.set(topic, [...(this.listeners.get(topic) ?? []), listener]);
  }
  onReset(): void {}
  deliver(topic: CacheTopic, key: string): void {
    for (const listener of this.listeners.get(topic) ?? []) listener(key);
  }
}

interface UserRow {
  org_id: string;
  role: 'admin' | 'agent' | 'auditor';
  disabled: boolean;
}

function setUp(options: { operatorToken?: string | null; live?: boolean } = {}) {
  const config = new AppConfig({ operatorToken: options.operatorToken === null ? undefined : (options.operatorToken ?? OPERATOR_TOKEN), jwtSecret: SECRET } as never);
  const accessTokens = new AccessTokensService(config, new JwtService({ secret: SECRET, signOptions: { algorithm: 'HS256' } }));
  const apiKeyPrincipal: Principal = { kind: 'api_key', orgId: ORG, apiKeyId: 'k1', ownerOrgId: ORG, scopes: ['READ_AUDIT'] };
  const authenticate = jest.fn().mockResolvedValue(apiKeyPrincipal);
  const rows = new Map<string, UserRow>([[USER, { org_id: ORG, role: 'agent', disabled: false }]]);
  const query = jest.fn(async (_sql: unknown, params: unknown[]) => {
    const row = rows.get(params[0] as string);
    return row ? [{ ...row }] : [];
  });
  const bus = new FakeBus();
  bus.live = options.live ?? false;
  const resolver = new PrincipalResolver(
    config,
    accessTokens,
    { authenticate } as unknown as ApiKeysService,
    new ManualClock(),
    { system: () => ({ query }) } as unknown as Db,
    bus as unknown as InvalidationBus,
  );
  return { resolver, accessTokens, authenticate, query, rows, bus, apiKeyPrincipal };
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('accepted');
}

const bearer = (value: string) => ({ value, via: 'bearer' as const });

describe('PrincipalResolver', () => {
  describe('the operator token', () => {
    it('resolves to the operator, without touching the database', async () => {
      const { resolver, query, authenticate } = setUp();
      await expect(resolver.resolve(bearer(OPERATOR_TOKEN))).resolves.toEqual({ kind: 'operator', orgId: null, scopes: [] });
      expect(query).not.toHaveBeenCalled();
      expect(authenticate).not.toHaveBeenCalled();
    });

    it('is not accepted as X-API-Key', async () => {
      const { resolver, authenticate } = setUp();
      authenticate.mockRejectedValue(ApiError.unauthorized('Invalid API key'));
      expect(await refusal(resolver.resolve({ value: OPERATOR_TOKEN, via: 'x-api-key' }))).toMatchObject({ status: 401 });
      expect(authenticate).toHaveBeenCalledWith(OPERATOR_TOKEN);
    });

    it('does not match a near miss', async () => {
      const { resolver } = setUp();
      expect(await refusal(resolver.resolve(bearer(OPERATOR_TOKEN.slice(0, -1))))).toMatchObject({ status: 401 });
      expect(await refusal(resolver.resolve(bearer(`${OPERATOR_TOKEN}x`)))).toMatchObject({ status: 401 });
    });

    it('does not exist when OPERATOR_TOKEN is unset: no value, not even an empty one, is the operator', async () => {
      const { resolver } = setUp({ operatorToken: null });
      for (const value of ['', 'undefined', 'null', OPERATOR_TOKEN]) {
        expect(await refusal(resolver.resolve(bearer(value)))).toMatchObject({ status: 401 });
      }
    });
  });

  describe('API keys', () => {
    it('hands X-API-Key and Bearer mlk_ credentials to the API key service', async () => {
      const { resolver, authenticate, apiKeyPrincipal } = setUp();
      await expect(resolver.resolve({ value: 'mlk_abc', via: 'x-api-key' })).resolves.toBe(apiKeyPrincipal);
      await expect(resolver.resolve(bearer('mlk_def'))).resolves.toBe(apiKeyPrincipal);
      expect(authenticate.mock.calls).toEqual([['mlk_abc'], ['mlk_def']]);
    });
  });

  describe('access tokens', () => {
    it('resolves a valid token to the user, with the scopes of the role held now', async () => {
      const { resolver, accessTokens, rows } = setUp();
      const token = await accessTokens.issue(USER, ORG);
      await expect(resolver.resolve(bearer(token))).resolves.toEqual({ kind: 'user', orgId: ORG, userId: USER, role: 'agent', scopes: ROLE_SCOPES.agent });
      rows.set(USER, { org_id: ORG, role: 'admin', disabled: false });
      await expect(resolver.resolve(bearer(token))).resolves.toMatchObject({ role: 'admin', scopes: ROLE_SCOPES.admin });
    });

    it('refuses a disabled or deleted user from the next request on', async () => {
      const { resolver, accessTokens, rows } = setUp();
      const token = await accessTokens.issue(USER, ORG);
      await resolver.resolve(bearer(token));
      rows.set(USER, { org_id: ORG, role: 'agent', disabled: true });
      expect(await refusal(resolver.resolve(bearer(token)))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
      rows.delete(USER);
      expect(await refusal(resolver.resolve(bearer(token)))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    });

    it('with a live cache, refuses a disabled user once the change is published', async () => {
      const { resolver, accessTokens, rows, bus, query } = setUp({ live: true });
      const token = await accessTokens.issue(USER, ORG);
      await resolver.resolve(bearer(token));
      await resolver.resolve(bearer(token));
      expect(query).toHaveBeenCalledTimes(1);
      rows.set(USER, { org_id: ORG, role: 'agent', disabled: true });
      bus.deliver('user', USER);
      expect(await refusal(resolver.resolve(bearer(token)))).toMatchObject({ status: 401 });
    });

    it('refuses a token whose user moved to another org', async () => {
      const { resolver, accessTokens, rows } = setUp();
      const token = await accessTokens.issue(USER, ORG);
      rows.set(USER, { org_id: randomUUID(), role: 'admin', disabled: false });
      expect(await refusal(resolver.resolve(bearer(token)))).toMatchObject({ status: 401 });
    });

    it.each([
      ['garbage', () => 'not-a-jwt'],
      [
        'another secret',
        () => jwt.sign({ sub: USER, org: ORG, typ: 'access' }, 'other-secret', { algorithm: 'HS256', issuer: 'mintline', audience: 'mintline-api', expiresIn: 60 }),
      ],
      [
        'an expired token',
        () => jwt.sign({ sub: USER, org: ORG, typ: 'access', iat: 1000, exp: 2000 }, SECRET, { algorithm: 'HS256', issuer: 'mintline', audience: 'mintline-api' }),
      ],
      ['a token without exp', () => jwt.sign({ sub: USER, org: ORG, typ: 'access' }, SECRET, { algorithm: 'HS256', issuer: 'mintline', audience: 'mintline-api' })],
      [
        'alg none',
        () =>
          `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: USER, org: ORG, typ: 'access', iss: 'mintline', aud: 'mintline-api', exp: 9e9 })).toString('base64url')}.`,
      ],
      ['HS512', () => jwt.sign({ sub: USER, org: ORG, typ: 'access' }, SECRET, { algorithm: 'HS512', issuer: 'mintline', audience: 'mintline-api', expiresIn: 60 })],
      ['no issuer', () => jwt.sign({ sub: USER, org: ORG, typ: 'access' }, SECRET, { algorithm: 'HS256', audience: 'mintline-api', expiresIn: 60 })],
      ['another audience', () => jwt.sign({ sub: USER, org: ORG, typ: 'access' }, SECRET, { algorithm: 'HS256', issuer: 'mintline', audience: 'x', expiresIn: 60 })],
      ['another type', () => jwt.sign({ sub: USER, org: ORG, typ: 'refresh' }, SECRET, { algorithm: 'HS256', issuer: 'mintline', audience: 'mintline-api', expiresIn: 60 })],
      [
        'a subject that is not a UUID',
        () => jwt.sign({ sub: 'admin', org: ORG, typ: 'access' }, SECRET, { algorithm: 'HS256', issuer: 'mintline', audience: 'mintline-api', expiresIn: 60 }),
      ],
      [
        'an org that is not a UUID',
        () => jwt.sign({ sub: USER, org: 42, typ: 'access' }, SECRET, { algorithm: 'HS256', issuer: 'mintline', audience: 'mintline-api', expiresIn: 60 }),
      ],
    ])('refuses %s with 401 without querying the database', async (_label, make) => {
      const { resolver, query } = setUp();
      expect(await refusal(resolver.resolve(bearer(make())))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
      expect(query).not.toHaveBeenCalled();
    });

    it('accepts a hand-signed token with the same claims the service issues (control)', async () => {
      const { resolver } = setUp();
      const token = jwt.sign({ sub: USER, org: ORG, typ: 'access' }, SECRET, { algorithm: 'HS256', issuer: 'mintline', audience: 'mintline-api', expiresIn: 60 });
      await expect(resolver.resolve(bearer(token))).resolves.toMatchObject({ kind: 'user', userId: USER });
    });
  });
});
