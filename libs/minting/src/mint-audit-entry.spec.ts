import { ApiError } from '@mintline/common/errors/api-error';
import { MintAuditFacts, mintActorOf, mintAuditEntry, SYSTEM_ACTOR } from './mint-audit-entry';

const facts: MintAuditFacts = {
  orgId: '7f0c3a52-2f0e-4c53-9a55-1c2b8a7d6e01',
  provider: 'call-token',
  actor: { kind: 'api_key', id: 'd5e3f4a6-7b82-4c9d-8e1f-2a3b4c5d6e7f' },
  subjectUserId: null,
  target: 'endpoint:e1',
  meta: { requestId: 'req-9', ip: '198.51.100.4', userAgent: 'browser-sdk/1.0' },
};
const expiresAt = new Date('2026-11-26T15:00:00.000Z');

describe('mintAuditEntry', () => {
  it('writes an issued entry with the request’s facts; the action defaults to mint', () => {
    expect(mintAuditEntry(facts, { outcome: 'issued', token: 'mct_x', expiresAt })).toEqual({
      orgId: facts.orgId,
      provider: 'call-token',
      action: 'mint',
      actor: facts.actor,
      subjectUserId: null,
      target: 'endpoint:e1',
      outcome: 'issued',
      code: null,
      token: 'mct_x',
      expiresAt,
      ip: '198.51.100.4',
      userAgent: 'browser-sdk/1.0',
      requestId: 'req-9',
    });
  });

  it('calls a refusal of the caller denied and ours or upstream’s failed, with its code', () => {
    const redeem = { ...facts, action: 'redeem' as const };
    expect(mintAuditEntry(redeem, { outcome: 'refused', error: ApiError.unauthorized('Expired', 'TOKEN_EXPIRED'), token: 'mct_x', expiresAt })).toMatchObject({
      action: 'redeem',
      outcome: 'denied',
      code: 'TOKEN_EXPIRED',
      token: 'mct_x',
      expiresAt,
    });
    expect(mintAuditEntry(facts, { outcome: 'refused', error: ApiError.provider('PROVIDER_ERROR', 'bad answer') })).toMatchObject({
      outcome: 'failed',
      code: 'PROVIDER_ERROR',
      expiresAt: null,
    });
    // Anything that is not an ApiError is answered as a 500 INTERNAL, and audited so.
    expect(mintAuditEntry(facts, { outcome: 'refused', error: new TypeError('bug') })).toMatchObject({ outcome: 'failed', code: 'INTERNAL' });
  });

  it('leaves the request fields empty for what the service does on its own', () => {
    const entry = mintAuditEntry({ ...facts, provider: 'sinch-oauth', actor: SYSTEM_ACTOR, meta: null }, { outcome: 'issued', token: 't', expiresAt });
    expect(entry).toMatchObject({ actor: { kind: 'system', id: null }, ip: null, userAgent: null, requestId: null });
  });

  it('names a principal as its user or its API key', () => {
    expect(mintActorOf({ kind: 'user', userId: 'u1' })).toEqual({ kind: 'user', id: 'u1' });
    expect(mintActorOf({ kind: 'api_key', apiKeyId: 'k1' })).toEqual({ kind: 'api_key', id: 'k1' });
  });
});
