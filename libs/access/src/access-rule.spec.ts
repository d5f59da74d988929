import { ApiError } from '@mintline/common/errors/api-error';
import type { AccessRule } from './access.decorators';
import { enforceAccessRule } from './access-rule';
import type { Principal } from './principal';
import { missingScopes, ROLE_SCOPES, SCOPES, Scope } from './scopes';

const ORG = '0b9f3c1e-3f4a-4c55-9a57-2f1f7c1d2e3a';
const user = (scopes: readonly Scope[] = ROLE_SCOPES.admin): Principal => ({ kind: 'user', orgId: ORG, userId: 'u1', role: 'admin', scopes });
const apiKey = (scopes: readonly Scope[]): Principal => ({ kind: 'api_key', orgId: ORG, apiKeyId: 'k1', ownerOrgId: ORG, scopes });
const operator: Principal = { kind: 'operator', orgId: null, scopes: [] };

function refusal(rule: AccessRule, principal: Principal): ApiError | undefined {
  try {
    enforceAccessRule(rule, principal);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
}

describe('enforceAccessRule', () => {
  describe('public', () => {
    it.each([
      ['a user', user()],
      ['an API key', apiKey([])],
      ['the operator', operator],
    ])('lets %s through', (_label, principal) => {
      expect(refusal({ kind: 'public' }, principal)).toBeUndefined();
    });
  });

  describe('any-principal', () => {
    it.each([
      ['a user with every scope', user()],
      ['a user with no scope', user([])],
      ['an API key with no scope', apiKey([])],
      ['the operator', operator],
    ])('lets %s through', (_label, principal) => {
      expect(refusal({ kind: 'any-principal' }, principal)).toBeUndefined();
    });
  });

  describe('operator', () => {
    it('lets the operator through', () => {
      expect(refusal({ kind: 'operator' }, operator)).toBeUndefined();
    });

    it.each([
      ['an admin holding every scope', user()],
      ['an API key holding every scope', apiKey(SCOPES)],
    ])('refuses %s with 403 OPERATOR_ONLY', (_label, principal) => {
      const error = refusal({ kind: 'operator' }, principal);
      expect(error).toMatchObject({ status: 403, code: 'OPERATOR_ONLY' });
    });
  });

  describe('scopes', () => {
    const rule: AccessRule = { kind: 'scopes', scopes: ['MANAGE_USERS', 'READ_AUDIT'] };

    it('lets through a principal holding every required scope, whatever else it holds', () => {
      expect(refusal(rule, user())).toBeUndefined();
      expect(refusal(rule, apiKey(['READ_AUDIT', 'MANAGE_USERS']))).toBeUndefined();
      expect(refusal(rule, apiKey(['CREATE_CALL_TOKEN', 'MANAGE_USERS', 'READ_AUDIT']))).toBeUndefined();
    });

    it('refuses a principal missing one required scope with 403 MISSING_SCOPE naming it', () => {
      const error = refusal(rule, apiKey(['MANAGE_USERS']));
      expect(error).toMatchObject({ status: 403, code: 'MISSING_SCOPE' });
      expect(error?.message).toContain('READ_AUDIT');
      expect(error?.message).not.toContain('MANAGE_USERS');
    });

    it('names every missing scope', () => {
      const error = refusal(rule, user([]));
      expect(error?.message).toContain('MANAGE_USERS');
      expect(error?.message).toContain('READ_AUDIT');
    });

    it('refuses the operator (it holds none of the tenant scopes)', () => {
      expect(refusal(rule, operator)).toMatchObject({ status: 403, code: 'MISSING_SCOPE' });
      expect(refusal({ kind: 'scopes', scopes: ['CREATE_CALL_TOKEN'] }, operator)).toMatchObject({ status: 403, code: 'MISSING_SCOPE' });
    });

    it.each(SCOPES.map((scope) => [scope]))('refuses an agent or auditor %s exactly when its role lacks it', (scope) => {
      const single: AccessRule = { kind: 'scopes', scopes: [scope] };
      for (const role of ['agent', 'auditor'] as const) {
        const principal: Principal = { kind: 'user', orgId: ORG, userId: 'u', role, scopes: ROLE_SCOPES[role] };
        const error = refusal(single, principal);
        if (ROLE_SCOPES[role].includes(scope)) expect(error).toBeUndefined();
        else expect(error).toMatchObject({ status: 403, code: 'MISSING_SCOPE' });
      }
    });

    it('does not match scopes by prefix or case', () => {
      expect(refusal({ kind: 'scopes', scopes: ['READ_AUDIT'] }, apiKey(['read_audit' as Scope]))).toMatchObject({ code: 'MISSING_SCOPE' });
      expect(refusal({ kind: 'scopes', scopes: ['READ_CALL_TOKEN'] }, apiKey(['READ_CALL' as Scope]))).toMatchObject({ code: 'MISSING_SCOPE' });
    });
  });
});

describe('scopes, any one of them (anyOf)', () => {
  const rule: AccessRule = { kind: 'scopes', scopes: ['MANAGE_CREDENTIALS', 'READ_AUDIT'], anyOf: true };

  it('lets through a principal holding either scope, or both', () => {
    expect(refusal(rule, apiKey(['READ_AUDIT']))).toBeUndefined();
    expect(refusal(rule, apiKey(['MANAGE_CREDENTIALS']))).toBeUndefined();
    expect(refusal(rule, apiKey(['MANAGE_CREDENTIALS', 'READ_AUDIT']))).toBeUndefined();
    expect(refusal(rule, { kind: 'user', orgId: ORG, userId: 'u', role: 'auditor', scopes: ROLE_SCOPES.auditor })).toBeUndefined();
  });

  it('refuses a principal holding neither with 403 MISSING_SCOPE naming the alternatives', () => {
    const error = refusal(rule, apiKey(['CREATE_CALL_TOKEN', 'MANAGE_USERS']));
    expect(error).toMatchObject({ status: 403, code: 'MISSING_SCOPE' });
    expect(error?.message).toContain('one of MANAGE_CREDENTIALS, READ_AUDIT');
    expect(refusal(rule, { kind: 'user', orgId: ORG, userId: 'u', role: 'agent', scopes: ROLE_SCOPES.agent })).toMatchObject({ code: 'MISSING_SCOPE' });
    expect(refusal(rule, operator)).toMatchObject({ code: 'MISSING_SCOPE' });
    expect(refusal(rule, apiKey([]))).toMatchObject({ code: 'MISSING_SCOPE' });
  });

  it('does not match by prefix or case', () => {
    expect(refusal(rule, apiKey(['read_audit' as Scope, 'MANAGE_CREDENTIAL' as Scope]))).toMatchObject({ code: 'MISSING_SCOPE' });
  });
});

describe('scopes and roles', () => {
  it('gives admin all eight scopes, agent the three minting ones, auditor READ_AUDIT', () => {
    expect([...ROLE_SCOPES.admin].sort()).toEqual([...SCOPES].sort());
    expect(SCOPES).toHaveLength(8);
    expect([...ROLE_SCOPES.agent].sort()).toEqual(['CREATE_CALL_TOKEN', 'CREATE_CHAT_TOKEN', 'READ_CALL_TOKEN']);
    expect(ROLE_SCOPES.auditor).toEqual(['READ_AUDIT']);
  });

  it('missingScopes answers what is wanted and not held', () => {
    expect(missingScopes(['A', 'B', 'C'], ['B'])).toEqual(['A', 'C']);
    expect(missingScopes([], [])).toEqual([]);
    expect(missingScopes(['A'], ['A', 'B'])).toEqual([]);
  });
});

describe('enforceAccessRule with scopes decided by the request', () => {
  // As a token route decides: chat scope for a chat-only body, call scope otherwise.
  const rule: AccessRule = {
    kind: 'scopes',
    scopes: ['CREATE_CALL_TOKEN'],
    byRequest: ({ body }) => ((body as { chat?: unknown } | undefined)?.chat === true ? ['CREATE_CHAT_TOKEN'] : ['CREATE_CALL_TOKEN']),
  };
  const judged = (principal: Principal, body: unknown, params = {}) => {
    try {
      enforceAccessRule(rule, principal, { params, body });
      return 'allowed';
    } catch (error) {
      return (error as ApiError).code;
    }
  };

  it('asks for the scopes the request needs, both ways', () => {
    expect(judged(apiKey(['CREATE_CHAT_TOKEN']), { chat: true })).toBe('allowed');
    expect(judged(apiKey(['CREATE_CHAT_TOKEN']), {})).toBe('MISSING_SCOPE');
    expect(judged(apiKey(['CREATE_CALL_TOKEN']), { chat: true })).toBe('MISSING_SCOPE');
    expect(judged(apiKey(['CREATE_CALL_TOKEN']), 'not even an object')).toBe('allowed');
    expect(judged(operator, { chat: true })).toBe('MISSING_SCOPE');
  });

  it('falls back on its usual scopes without a request, and refuses a decision that names no scope', () => {
    expect(refusal(rule, apiKey(['CREATE_CHAT_TOKEN']))).toMatchObject({ code: 'MISSING_SCOPE' });
    expect(refusal(rule, apiKey(['CREATE_CALL_TOKEN']))).toBeUndefined();
    const empty: AccessRule = { kind: 'scopes', scopes: ['CREATE_CALL_TOKEN'], byRequest: () => [] };
    expect(() => enforceAccessRule(empty, user(), { params: {}, body: {} })).toThrow(expect.objectContaining({ code: 'MISSING_SCOPE' }));
  });
});
