import { randomUUID } from 'node:crypto';
import { parseTrustProxy } from '../libs/common/src/config';
import { expectError, expectStatus } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD, uniqueEmail } from './support/fixtures';
import { client, http, HttpResult } from './support/http';
import { mintEntryOf, newRequestId, putSinchVoice, randomSinchSecret } from './support/minting';
import { startSecondInstance } from './support/call-tokens';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Client addresses behind proxies (API.md): TRUST_PROXY is `false` (X-Forwarded-For ignored), a number
 * of trusted hops (`true` = 1), or a list of proxy addresses/CIDRs. The address so derived is the audit
 * entry's `ip` and the per-address login bucket; the client's own leftmost X-Forwarded-For entry never is.
 *
 * Every instance here listens on 127.0.0.1 and the test connects directly, so the socket address (the
 * "proxy" nearest the service) is 127.0.0.1 and the header plays the rest of the chain.
 */

const SINCH_PATH = '/api/calls/token/sinch';
/** What a client behind one proxy sends: its forged claim `6.6.6.6`, then the proxy appends the real peer. */
const CHAIN = '6.6.6.6, 198.51.100.7';

let base: TestApp;
let org: OrgFixture;
const instances: TestApp[] = [];

async function instance(trustProxy: string): Promise<TestApp> {
  const started = await startSecondInstance(base, { config: { trustProxy: parseTrustProxy(trustProxy), loginConcurrency: 64 } });
  instances.push(started);
  return started;
}

beforeAll(async () => {
  base = await startTestApp();
  org = await createOrgWithAdmin(base, 'Trust Proxy Org');
  await putSinchVoice(org.admin, randomUUID(), randomSinchSecret());
});

afterAll(async () => {
  for (const started of instances) await started.close();
  await base?.close();
});

/** Mints through `target` with this X-Forwarded-For and returns the `ip` its audit entry records. */
async function auditedIp(target: TestApp, forwardedFor: string): Promise<string | null> {
  const requestId = newRequestId('xff');
  const minted = await client(target.url, org.adminToken).get(SINCH_PATH, { headers: { 'x-forwarded-for': forwardedFor, 'x-request-id': requestId } });
  expectStatus(minted, 200);
  const entry = await mintEntryOf(org.admin, minted.headers.get('x-request-id'));
  expect(entry).toMatchObject({ outcome: 'issued', requestId });
  return entry.ip;
}

describe('the audit ip', () => {
  it('TRUST_PROXY unset or false: X-Forwarded-For is ignored, the socket address is recorded', async () => {
    expect(await auditedIp(base, CHAIN)).toBe('127.0.0.1');
    expect(await auditedIp(await instance('false'), CHAIN)).toBe('127.0.0.1');
  });

  it('TRUST_PROXY=1 and TRUST_PROXY=true: the address one hop in, never the client-chosen leftmost', async () => {
    for (const setting of ['1', 'true']) {
      const target = await instance(setting);
      expect(await auditedIp(target, CHAIN)).toBe('198.51.100.7');
      // Without the header the peer itself is the client.
      expect(await auditedIp(target, '198.51.100.8')).toBe('198.51.100.8');
    }
  });

  it('TRUST_PROXY=2 trusts two hops: the entry two in', async () => {
    expect(await auditedIp(await instance('2'), '6.6.6.6, 203.0.113.9, 198.51.100.7')).toBe('203.0.113.9');
  });

  it('a list of proxies: the rightmost address that is not a listed proxy', async () => {
    expect(await auditedIp(await instance('127.0.0.1'), CHAIN)).toBe('198.51.100.7');
    // With 198.51.100.0/24 a proxy too, the next one out is the client.
    expect(await auditedIp(await instance('127.0.0.1, 198.51.100.0/24'), CHAIN)).toBe('6.6.6.6');
    // A peer that is not a listed proxy is the client itself, whatever it forwards.
    expect(await auditedIp(await instance('10.0.0.1,192.168.0.0/16'), CHAIN)).toBe('127.0.0.1');
  });
});

describe('the per-address login bucket', () => {
  it("with TRUST_PROXY=1, failures under a forged leftmost address fill the sender's bucket, not the forged one", async () => {
    const target = await instance('1');
    const victim = await createUser(base, org, 'agent');
    const login = (email: string, password: string, forwardedFor: string): Promise<HttpResult> =>
      http(target.url, 'POST', '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': forwardedFor } });

    // The attacker at 203.0.113.66 claims to be the victim's office (198.51.100.20) in every request.
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, index) => login(uniqueEmail(`spoof${round}-${index}`), 'a password nobody has', '198.51.100.20, 203.0.113.66')),
      );
      for (const answer of answers) expectError(answer, 401, 'INVALID_CREDENTIALS');
    }
    // The attacker's own address is now closed, whatever it claims next ...
    expectError(await login(uniqueEmail('spoof-more'), 'a password nobody has', '192.0.2.1, 203.0.113.66'), 429, 'RATE_LIMITED');
    expectError(await login(victim.email, PASSWORD, '203.0.113.66'), 429, 'RATE_LIMITED');
    // ... while the office it named logs in as usual.
    expectStatus(await login(victim.email, PASSWORD, '198.51.100.20'), 200);
  }, 180_000);
});
