import { ApiError } from '@mintline/common/errors/api-error';
import { assertScopesCover } from './scope-escalation';
import { ROLE_SCOPES, SCOPES } from './scopes';

function refusal(run: () => void): ApiError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('not refused');
}

describe('assertScopesCover', () => {
  it('passes when every required scope is held, or nothing is required', () => {
    expect(() => assertScopesCover(SCOPES, ROLE_SCOPES.admin, 'x')).not.toThrow();
    expect(() => assertScopesCover(['MANAGE_USERS', ...ROLE_SCOPES.agent], ROLE_SCOPES.agent, 'x')).not.toThrow();
    expect(() => assertScopesCover([], [], 'x')).not.toThrow();
  });

  it('refuses with 403 SCOPE_ESCALATION naming exactly the scopes that are missing', () => {
    const error = refusal(() => assertScopesCover(['MANAGE_USERS', 'READ_AUDIT'], ROLE_SCOPES.agent, 'Changing a user with role agent needs scopes you do not hold'));
    expect(error).toMatchObject({ status: 403, code: 'SCOPE_ESCALATION' });
    expect(error.message).toBe('Changing a user with role agent needs scopes you do not hold: CREATE_CALL_TOKEN, READ_CALL_TOKEN, CREATE_CHAT_TOKEN');
  });

  it('refuses a principal with MANAGE_USERS alone for every role', () => {
    for (const role of ['admin', 'agent', 'auditor'] as const) {
      expect(refusal(() => assertScopesCover(['MANAGE_USERS'], ROLE_SCOPES[role], role))).toMatchObject({ status: 403, code: 'SCOPE_ESCALATION' });
    }
  });
});
