import type { ArgumentsHost } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessRefusal } from '@mintline/access/access-refusal';
import type { Principal } from '@mintline/access/principal';
import { ROLE_SCOPES } from '@mintline/access/scopes';
import { ApiError } from '@mintline/common/errors/api-error';
import type { MintPipeline } from './mint-pipeline.service';
import { MintRefusalFilter } from './mint-refusal.filter';
import { MintRoute } from './mint-route.decorator';

const ORG = '6c1e0f57-2f0b-4a39-9d0e-1f2a3b4c5d6e';
const auditor: Principal = { kind: 'user', orgId: ORG, userId: 'u-auditor', role: 'auditor', scopes: ROLE_SCOPES.auditor };
const operator: Principal = { kind: 'operator', orgId: null, scopes: [] };

class Routes {
  @MintRoute('twilio')
  twilio(): void {}

  notAMint(): void {}
}

interface Sent {
  status?: number;
  headers: Record<string, string>;
  body?: { success: boolean; code: string; requestId: string };
}

function hostFor(sent: Sent): ArgumentsHost {
  const request = { id: 'req-42', ip: '198.51.100.4', headers: { 'user-agent': 'curl/8' } };
  const reply = {
    headers(values: Record<string, string>) {
      Object.assign(sent.headers, values);
      return reply;
    },
    header(name: string, value: string) {
      sent.headers[name] = value;
      return reply;
    },
    status(status: number) {
      sent.status = status;
      return reply;
    },
    send(body: Sent['body']) {
      sent.body = body;
      return reply;
    },
  };
  return { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply, getNext: () => undefined }) } as unknown as ArgumentsHost;
}

function setUp(options: { auditFails?: boolean } = {}) {
  const refused = jest.fn(async () => {
    if (options.auditFails) throw ApiError.unavailable('The audit log is unavailable');
  });
  const filter = new MintRefusalFilter({ refused } as unknown as MintPipeline, new Reflector());
  return { filter, refused };
}

const missingScope = (principal: Principal, handler: () => void) =>
  new AccessRefusal(ApiError.forbidden('MISSING_SCOPE', 'Missing scope: CREATE_CALL_TOKEN'), principal, handler);

describe('MintRefusalFilter', () => {
  it('has the pipeline audit a refusal on a mint route, then answers it in the envelope', async () => {
    const { filter, refused } = setUp();
    const sent: Sent = { headers: {} };
    const refusal = missingScope(auditor, Routes.prototype.twilio);
    await filter.catch(refusal, hostFor(sent));
    expect(refused).toHaveBeenCalledWith('twilio', auditor, { requestId: 'req-42', ip: '198.51.100.4', userAgent: 'curl/8' }, refusal);
    expect(sent).toMatchObject({ status: 403, body: { success: false, code: 'MISSING_SCOPE', requestId: 'req-42' } });
  });

  it('answers 503 instead when the refusal cannot be audited', async () => {
    const { filter } = setUp({ auditFails: true });
    const sent: Sent = { headers: {} };
    await filter.catch(missingScope(auditor, Routes.prototype.twilio), hostFor(sent));
    expect(sent).toMatchObject({ status: 503, body: { code: 'UNAVAILABLE' } });
  });

  it('does not audit the operator (no org to audit in) nor a route that is no mint', async () => {
    const { filter, refused } = setUp();
    for (const refusal of [missingScope(operator, Routes.prototype.twilio), missingScope(auditor, Routes.prototype.notAMint)]) {
      const sent: Sent = { headers: {} };
      await filter.catch(refusal, hostFor(sent));
      expect(sent).toMatchObject({ status: 403, body: { code: 'MISSING_SCOPE' } });
    }
    expect(refused).not.toHaveBeenCalled();
  });
});
