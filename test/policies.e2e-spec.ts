import jwt from 'jsonwebtoken';
import twilio from 'twilio';
import { decodeJwt, expectError, expectStatus, expectValidation, ISO_PATTERN } from './support/assertions';
import { allAuditPages } from './support/audit';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { client, Client } from './support/http';
import { createApiKey, mintEntryOf, newRequestId, putSinchVoice, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET, twilioCredentials, verifySinchToken } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Token policies (API.md, "Token policies"): an org narrows what each provider may mint, per provider —
 * the subject's role, the room, publish rights and the lifetime. Managed over HTTP (MANAGE_CREDENTIALS to
 * change, READ_AUDIT or MANAGE_CREDENTIALS to read), each change a configuration event; judged inside the
 * mint pipeline before the provider is asked, a refusal 403 POLICY_DENIED audited as denied. The providers
 * with rooms (LiveKit, Agora, Twilio Video) are judged in token-policy-rooms.e2e-spec.ts.
 */

let app: TestApp;
let org: OrgFixture;
let agent: { id: string; client: Client };
let auditor: { id: string; client: Client };
let otherOrg: OrgFixture;
const twilioCreds = twilioCredentials();

const TWILIO = '/api/calls/token/twilio';
const SINCH = '/api/calls/token/sinch';

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Policy Co');
  const a = await createUser(app, org, 'agent');
  agent = { id: a.id, client: a.client };
  const b = await createUser(app, org, 'auditor');
  auditor = { id: b.id, client: b.client };
  otherOrg = await createOrgWithAdmin(app, 'Other Policy Co');
  expectStatus(await org.admin.put('/api/credentials/twilio', twilioCreds), 200);
  await putSinchVoice(org.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
});

afterAll(async () => {
  await app?.close();
});

afterEach(async () => {
  // Each test starts from an org without policies.
  const list = await org.admin.get('/api/policies');
  for (const policy of list.body.items ?? []) expectStatus(await org.admin.delete(`/api/policies/${policy.provider}`), 204);
});

async function mint(as: Client, path: string) {
  const requestId = newRequestId('policy');
  const response = await as.get(path, { headers: { 'x-request-id': requestId } });
  return { response, requestId };
}

describe('managing policies', () => {
  it('PUT creates a policy and answers it; GET one and GET the list show it', async () => {
    const put = await org.admin.put('/api/policies/livekit', { maxTtlSeconds: 900, roles: ['agent'], rooms: ['agent-{userId}-*'], publish: false });
    expectStatus(put, 200);
    const expected = {
      provider: 'livekit',
      maxTtlSeconds: 900,
      roles: ['agent'],
      rooms: ['agent-{userId}-*'],
      publish: false,
      updatedAt: expect.stringMatching(ISO_PATTERN),
      updatedBy: { kind: 'user', id: org.adminId },
    };
    expect(put.body).toStrictEqual(expected);
    expect((await org.admin.get('/api/policies/livekit')).body).toStrictEqual({ ...expected, updatedAt: put.body.updatedAt });
    expectStatus(await org.admin.put('/api/policies/agora', { publish: false }), 200);
    const list = await org.admin.get('/api/policies');
    expectStatus(list, 200);
    expect(list.body).toStrictEqual({
      items: [
        {
          provider: 'agora',
          maxTtlSeconds: null,
          roles: null,
          rooms: null,
          publish: false,
          updatedAt: expect.stringMatching(ISO_PATTERN),
          updatedBy: { kind: 'user', id: org.adminId },
        },
        { ...expected, updatedAt: put.body.updatedAt },
      ],
    });
  });

  it('PUT replaces the whole policy: a rule left out (or null) is gone', async () => {
    expectStatus(await org.admin.put('/api/policies/twilio', { maxTtlSeconds: 900, roles: ['agent'], publish: false }), 200);
    const replaced = await org.admin.put('/api/policies/twilio', { rooms: ['lobby'], publish: null });
    expectStatus(replaced, 200);
    expect(replaced.body).toEqual(expect.objectContaining({ maxTtlSeconds: null, roles: null, rooms: ['lobby'], publish: null }));
    expect((await org.admin.get('/api/policies/twilio')).body).toEqual(expect.objectContaining({ maxTtlSeconds: null, roles: null, rooms: ['lobby'], publish: null }));
    // An empty body is a policy of no rules.
    expect((await org.admin.put('/api/policies/twilio', {})).body).toEqual(expect.objectContaining({ maxTtlSeconds: null, roles: null, rooms: null, publish: null }));
  });

  it('DELETE removes it (204); then GET and DELETE answer 404 NOT_FOUND', async () => {
    expectStatus(await org.admin.put('/api/policies/vonage', { maxTtlSeconds: 600 }), 200);
    expectStatus(await org.admin.delete('/api/policies/vonage'), 204);
    expectError(await org.admin.get('/api/policies/vonage'), 404, 'NOT_FOUND');
    expectError(await org.admin.delete('/api/policies/vonage'), 404, 'NOT_FOUND');
    expect((await org.admin.get('/api/policies')).body).toEqual({ items: [] });
  });

  it('every provider of POST /api/tokens/{provider} takes a policy; any other name is 404 on every route', async () => {
    for (const provider of ['sinch', 'twilio', 'livekit', 'agora', 'vonage', 'telnyx']) {
      expectStatus(await org.admin.put(`/api/policies/${provider}`, { maxTtlSeconds: 3600 }), 200);
    }
    expect((await org.admin.get('/api/policies')).body.items.map((policy: { provider: string }) => policy.provider)).toEqual([
      'agora',
      'livekit',
      'sinch',
      'telnyx',
      'twilio',
      'vonage',
    ]);
    for (const provider of ['sinch-voice', 'signalwire', 'call-token', 'LIVEKIT', 'nope', '%2e%2e']) {
      expectError(await org.admin.put(`/api/policies/${provider}`, { maxTtlSeconds: 3600 }), 404, 'NOT_FOUND');
      expectError(await org.admin.get(`/api/policies/${provider}`), 404, 'NOT_FOUND');
      expectError(await org.admin.delete(`/api/policies/${provider}`), 404, 'NOT_FOUND');
      expectError(await org.admin.get(`/api/policies/${provider}/evaluate`), 404, 'NOT_FOUND');
    }
  });

  it.each([
    ['maxTtlSeconds below 60', { maxTtlSeconds: 59 }, 'maxTtlSeconds'],
    ['maxTtlSeconds above 86400', { maxTtlSeconds: 86_401 }, 'maxTtlSeconds'],
    ['maxTtlSeconds not an integer', { maxTtlSeconds: 900.5 }, 'maxTtlSeconds'],
    ['maxTtlSeconds as a string', { maxTtlSeconds: '900' }, 'maxTtlSeconds'],
    ['no roles', { roles: [] }, 'roles'],
    ['an unknown role', { roles: ['agent', 'root'] }, 'roles'],
    ['a role twice', { roles: ['agent', 'agent'] }, 'roles'],
    ['roles as a string', { roles: 'agent' }, 'roles'],
    ['no room patterns', { rooms: [] }, 'rooms'],
    ['101 room patterns', { rooms: Array.from({ length: 101 }, (_, i) => `room-${i}`) }, 'rooms'],
    ['an empty pattern', { rooms: ['lobby', ''] }, 'rooms'],
    ['a pattern of 257 characters', { rooms: ['x'.repeat(257)] }, 'rooms'],
    ['a pattern that is no string', { rooms: [42] }, 'rooms'],
    ['publish as a string', { publish: 'false' }, 'publish'],
    ['an unknown field', { maxTtlSeconds: 900, canPublish: false }, 'canPublish'],
  ])('refuses %s with 400 VALIDATION_FAILED naming the field, and stores nothing', async (_label, body, field) => {
    const answer = expectValidation(await org.admin.put('/api/policies/livekit', body), field);
    expect(answer.details?.every((detail) => detail.message.length > 0)).toBe(true);
    expectError(await org.admin.get('/api/policies/livekit'), 404, 'NOT_FOUND');
  });

  it('takes the rules at their edges', async () => {
    const edges = { maxTtlSeconds: 60, roles: ['admin', 'agent', 'auditor'], rooms: Array.from({ length: 100 }, (_, i) => `${'x'.repeat(250)}-${i}`), publish: true };
    expect((await org.admin.put('/api/policies/livekit', edges)).body).toEqual(expect.objectContaining(edges));
    expect((await org.admin.put('/api/policies/livekit', { maxTtlSeconds: 86_400, rooms: ['y'.repeat(256)] })).body).toEqual(
      expect.objectContaining({ maxTtlSeconds: 86_400, rooms: ['y'.repeat(256)] }),
    );
  });
});

describe('who may read and change policies', () => {
  it('an auditor reads (list, one, evaluate) but may not change them', async () => {
    expectStatus(await org.admin.put('/api/policies/twilio', { maxTtlSeconds: 900 }), 200);
    expectStatus(await auditor.client.get('/api/policies'), 200);
    expectStatus(await auditor.client.get('/api/policies/twilio'), 200);
    expectStatus(await auditor.client.get(`/api/policies/twilio/evaluate?userId=${agent.id}`), 200);
    expectError(await auditor.client.put('/api/policies/twilio', {}), 403, 'MISSING_SCOPE');
    expectError(await auditor.client.delete('/api/policies/twilio'), 403, 'MISSING_SCOPE');
  });

  it('an agent may do none of it', async () => {
    expectError(await agent.client.get('/api/policies'), 403, 'MISSING_SCOPE');
    expectError(await agent.client.get('/api/policies/twilio/evaluate'), 403, 'MISSING_SCOPE');
    expectError(await agent.client.put('/api/policies/twilio', { maxTtlSeconds: 60 }), 403, 'MISSING_SCOPE');
  });

  it('API keys: READ_AUDIT reads, MANAGE_CREDENTIALS reads and changes (updatedBy names the key)', async () => {
    const reader = client(app.url, (await createApiKey(org.admin, ['READ_AUDIT'])).token);
    const manager = await createApiKey(org.admin, ['MANAGE_CREDENTIALS']);
    const managing = client(app.url, manager.token);
    const put = await managing.put('/api/policies/agora', { roles: ['agent'] });
    expectStatus(put, 200);
    expect(put.body.updatedBy).toEqual({ kind: 'api_key', id: manager.id });
    expectStatus(await managing.get('/api/policies/agora'), 200);
    expectStatus(await reader.get('/api/policies/agora'), 200);
    expectError(await reader.put('/api/policies/agora', {}), 403, 'MISSING_SCOPE');
    expectStatus(await managing.delete('/api/policies/agora'), 204);
  });

  it("another org never sees or changes this org's policies", async () => {
    expectStatus(await org.admin.put('/api/policies/livekit', { maxTtlSeconds: 900 }), 200);
    expect((await otherOrg.admin.get('/api/policies')).body).toEqual({ items: [] });
    expectError(await otherOrg.admin.get('/api/policies/livekit'), 404, 'NOT_FOUND');
    expectError(await otherOrg.admin.delete('/api/policies/livekit'), 404, 'NOT_FOUND');
    expect((await org.admin.get('/api/policies/livekit')).body.maxTtlSeconds).toBe(900);
  });
});

describe('configuration events', () => {
  it('records who changed which policy, with the policy before and after', async () => {
    const requestIds = [newRequestId('p1'), newRequestId('p2'), newRequestId('p3')];
    expectStatus(await org.admin.put('/api/policies/telnyx', { maxTtlSeconds: 900 }, { headers: { 'x-request-id': requestIds[0] } }), 200);
    expectStatus(await org.admin.put('/api/policies/telnyx', { roles: ['agent'], publish: false }, { headers: { 'x-request-id': requestIds[1] } }), 200);
    expectStatus(await org.admin.delete('/api/policies/telnyx', { headers: { 'x-request-id': requestIds[2] } }), 204);
    const events = (await allAuditPages(auditor.client, '/api/audit/events?targetType=policy')).filter((event) => requestIds.includes(event.requestId));
    const none = { maxTtlSeconds: null, roles: null, rooms: null, publish: null };
    const common = {
      orgId: org.orgId,
      actor: { kind: 'user', id: org.adminId },
      targetType: 'policy',
      targetId: 'telnyx',
      id: expect.any(String),
      at: expect.stringMatching(ISO_PATTERN),
    };
    // Newest first.
    expect(events).toStrictEqual([
      {
        ...common,
        action: 'policy.deleted',
        requestId: requestIds[2],
        details: { provider: 'telnyx', before: { ...none, roles: ['agent'], publish: false }, after: null },
      },
      {
        ...common,
        action: 'policy.replaced',
        requestId: requestIds[1],
        details: { provider: 'telnyx', before: { ...none, maxTtlSeconds: 900 }, after: { ...none, roles: ['agent'], publish: false } },
      },
      { ...common, action: 'policy.created', requestId: requestIds[0], details: { provider: 'telnyx', before: null, after: { ...none, maxTtlSeconds: 900 } } },
    ]);
    const filtered = await auditor.client.get('/api/audit/events?action=policy.created');
    expect(filtered.body.items.map((event: { requestId: string }) => event.requestId)).toContain(requestIds[0]);
  });

  it('a refused change records nothing', async () => {
    const requestId = newRequestId('refused');
    expectValidation(await org.admin.put('/api/policies/telnyx', { maxTtlSeconds: 1 }, { headers: { 'x-request-id': requestId } }), 'maxTtlSeconds');
    expectError(await auditor.client.put('/api/policies/telnyx', {}, { headers: { 'x-request-id': requestId } }), 403, 'MISSING_SCOPE');
    const events = await allAuditPages(auditor.client, '/api/audit/events?targetType=policy');
    expect(events.filter((event) => event.requestId === requestId)).toEqual([]);
  });
});

describe('GET /api/policies/{provider}/evaluate', () => {
  const story = { roles: ['agent'], rooms: ['agent-{userId}-*'], publish: false, maxTtlSeconds: 900 };

  it('without a policy: allowed as asked, at the provider’s own lifetime', async () => {
    expect((await org.admin.get(`/api/policies/livekit/evaluate?userId=${agent.id}&room=anything`)).body).toStrictEqual({
      allowed: true,
      effectiveTtlSeconds: 3600,
      reasons: [],
    });
    expect((await org.admin.get(`/api/policies/livekit/evaluate?userId=${agent.id}&ttlSeconds=120`)).body.effectiveTtlSeconds).toBe(120);
    // A provider with a fixed lifetime keeps it, whatever is asked.
    expect((await org.admin.get(`/api/policies/sinch/evaluate?userId=${agent.id}&ttlSeconds=120`)).body.effectiveTtlSeconds).toBe(600);
    expect((await org.admin.get('/api/policies/telnyx/evaluate')).body.effectiveTtlSeconds).toBe(86_400);
  });

  it("judges the agent's own room allowed (shortened, without publish rights) and everything else refused, naming the rule", async () => {
    expectStatus(await org.admin.put('/api/policies/livekit', story), 200);
    const evaluate = (query: string) => org.admin.get(`/api/policies/livekit/evaluate?${query}`);

    const own = await evaluate(`userId=${agent.id}&room=agent-${agent.id}-call&ttlSeconds=3600`);
    expectStatus(own, 200);
    expect(own.body).toStrictEqual({
      allowed: true,
      effectiveTtlSeconds: 900,
      reasons: [
        { field: 'publish', effect: 'withheld', message: expect.any(String) },
        { field: 'maxTtlSeconds', effect: 'shortened', message: expect.stringContaining('900') },
      ],
    });
    expect((await evaluate(`userId=${agent.id}&room=agent-${agent.id}-call&ttlSeconds=600&publish=false`)).body).toStrictEqual({
      allowed: true,
      effectiveTtlSeconds: 600,
      reasons: [],
    });

    const refusedBy = async (query: string) => {
      const answer = await evaluate(query);
      expectStatus(answer, 200);
      expect(answer.body.allowed).toBe(false);
      expect(answer.body.effectiveTtlSeconds).toBeNull();
      return answer.body.reasons.filter((reason: { effect: string }) => reason.effect === 'denied').map((reason: { field: string }) => reason.field);
    };
    expect(await refusedBy(`userId=${agent.id}&room=agent-${org.adminId}-call`)).toEqual(['rooms']);
    expect(await refusedBy(`userId=${agent.id}&room=agent-${agent.id}`)).toEqual(['rooms']);
    expect(await refusedBy(`userId=${agent.id}`)).toEqual(['rooms']);
    expect(await refusedBy(`userId=${agent.id}&room=agent-${agent.id}-call&publish=true`)).toEqual(['publish']);
    // The admin's own room, by its own pattern: its role is what refuses it.
    expect(await refusedBy(`userId=${org.adminId}&room=agent-${org.adminId}-call`)).toEqual(['roles']);
    // Without userId an admin asks about itself.
    expect(await refusedBy(`room=agent-${org.adminId}-call`)).toEqual(['roles']);
  });

  it('refuses a fixed lifetime above the cap (sinch: 600 s)', async () => {
    expectStatus(await org.admin.put('/api/policies/sinch', { maxTtlSeconds: 599 }), 200);
    const answer = await org.admin.get(`/api/policies/sinch/evaluate?userId=${agent.id}`);
    expect(answer.body).toStrictEqual({
      allowed: false,
      effectiveTtlSeconds: null,
      reasons: [{ field: 'maxTtlSeconds', effect: 'denied', message: expect.stringContaining('fixed at 600') }],
    });
  });

  it("answers 404 for another org's user, and 400 for a malformed query or an API key naming no user", async () => {
    expectError(await org.admin.get(`/api/policies/livekit/evaluate?userId=${otherOrg.adminId}`), 404, 'NOT_FOUND');
    expectError(await org.admin.get('/api/policies/livekit/evaluate?userId=3f1c2a9e-7b4d-4e5f-8a6b-1c2d3e4f5a6b'), 404, 'NOT_FOUND');
    expectValidation(await org.admin.get('/api/policies/livekit/evaluate?userId=not-a-uuid'), 'userId');
    expectValidation(await org.admin.get('/api/policies/livekit/evaluate?ttlSeconds=59'), 'ttlSeconds');
    expectValidation(await org.admin.get('/api/policies/livekit/evaluate?ttlSeconds=86401'), 'ttlSeconds');
    expectValidation(await org.admin.get('/api/policies/livekit/evaluate?ttlSeconds=soon'), 'ttlSeconds');
    expectValidation(await org.admin.get(`/api/policies/livekit/evaluate?room=${'r'.repeat(257)}`), 'room');
    expectValidation(await org.admin.get('/api/policies/livekit/evaluate?publish=yes'), 'publish');
    expectValidation(await org.admin.get('/api/policies/livekit/evaluate?extra=1'), 'extra');
    const key = client(app.url, (await createApiKey(org.admin, ['READ_AUDIT'])).token);
    expectValidation(await key.get('/api/policies/livekit/evaluate'), 'userId');
    expectStatus(await key.get(`/api/policies/livekit/evaluate?userId=${agent.id}`), 200);
  });
});

describe('enforcement on the voice token routes', () => {
  it('Twilio: maxTtlSeconds shortens the token, in expiresIn, in its exp, and in its audit entry; Twilio’s own library builds the same token', async () => {
    expectStatus(await org.admin.put('/api/policies/twilio', { maxTtlSeconds: 900 }), 200);
    const { response, requestId } = await mint(agent.client, TWILIO);
    expectStatus(response, 200);
    expect(response.body.expiresIn).toBe(900);
    const { header, payload } = decodeJwt(response.body.token);
    const iat = payload.iat as number;
    expect(payload.exp).toBe(iat + 900);
    jwt.verify(response.body.token, twilioCreds.apiKeySecret, { algorithms: ['HS256'] });
    const now = jest.spyOn(Date, 'now').mockReturnValue(iat * 1000);
    try {
      const reference = new twilio.jwt.AccessToken(twilioCreds.accountSid, twilioCreds.apiKeySid, twilioCreds.apiKeySecret, {
        identity: agent.id.replace(/-/g, '_'),
        ttl: 900,
      });
      reference.addGrant(new twilio.jwt.AccessToken.VoiceGrant({ outgoingApplicationSid: twilioCreds.twimlAppSid, incomingAllow: true }));
      expect(decodeJwt(reference.toJwt())).toStrictEqual({ header, payload });
    } finally {
      now.mockRestore();
    }
    const entry = await mintEntryOf(org.admin, requestId);
    expect(entry).toEqual(expect.objectContaining({ outcome: 'issued', subjectUserId: agent.id }));
    expect(Date.parse(entry.expiresAt)).toBe((iat + 900) * 1000);

    // A cap above the provider's lifetime changes nothing.
    expectStatus(await org.admin.put('/api/policies/twilio', { maxTtlSeconds: 7200 }), 200);
    expect((await mint(agent.client, TWILIO)).response.body.expiresIn).toBe(3600);
  });

  it('Twilio: publish: false mints a voice grant without outgoing calls', async () => {
    expectStatus(await org.admin.put('/api/policies/twilio', { publish: false }), 200);
    const { response } = await mint(agent.client, TWILIO);
    expectStatus(response, 200);
    const grants = decodeJwt(response.body.token).payload.grants as Record<string, unknown>;
    expect(grants).toStrictEqual({ identity: agent.id.replace(/-/g, '_'), voice: { incoming: { allow: true } } });
    const iat = decodeJwt(response.body.token).payload.iat as number;
    const now = jest.spyOn(Date, 'now').mockReturnValue(iat * 1000);
    try {
      const reference = new twilio.jwt.AccessToken(twilioCreds.accountSid, twilioCreds.apiKeySid, twilioCreds.apiKeySecret, {
        identity: agent.id.replace(/-/g, '_'),
        ttl: 3600,
      });
      reference.addGrant(new twilio.jwt.AccessToken.VoiceGrant({ incomingAllow: true }));
      expect(reference.toJwt()).toBe(response.body.token);
    } finally {
      now.mockRestore();
    }
  });

  it("refuses a subject whose role the policy does not list (403 POLICY_DENIED naming roles), audited as denied; an API key minting for the user is judged by the user's role", async () => {
    expectStatus(await org.admin.put('/api/policies/twilio', { roles: ['admin'] }), 200);
    const { response, requestId } = await mint(agent.client, TWILIO);
    const refusal = expectError(response, 403, 'POLICY_DENIED');
    expect(refusal.details).toEqual([{ field: 'roles', message: expect.stringContaining('agent') }]);
    expect(await mintEntryOf(org.admin, requestId)).toEqual(
      expect.objectContaining({
        provider: 'twilio',
        outcome: 'denied',
        code: 'POLICY_DENIED',
        subjectUserId: agent.id,
        target: `twilio:${twilioCreds.accountSid}`,
        tokenFingerprint: null,
        expiresAt: null,
      }),
    );
    // The key was made by an admin, but the token would be the agent's.
    const backend = client(app.url, (await createApiKey(org.admin, ['CREATE_CALL_TOKEN'])).token);
    expectError((await mint(backend, `${TWILIO}?userId=${agent.id}`)).response, 403, 'POLICY_DENIED');
    expectStatus((await mint(backend, `${TWILIO}?userId=${org.adminId}`)).response, 200);
    expectStatus((await mint(org.admin, TWILIO)).response, 200);
  });

  it('refuses a token that names no room when the policy has a rooms rule', async () => {
    expectStatus(await org.admin.put('/api/policies/twilio', { rooms: ['*'] }), 200);
    const refusal = expectError((await mint(agent.client, TWILIO)).response, 403, 'POLICY_DENIED');
    expect(refusal.details).toEqual([{ field: 'rooms', message: expect.stringContaining('no room') }]);
  });

  it('Sinch: its fixed 600 s lifetime passes a cap of 600 and is refused under it; a role rule applies too', async () => {
    expectStatus(await org.admin.put('/api/policies/sinch', { maxTtlSeconds: 600 }), 200);
    const allowed = await mint(agent.client, SINCH);
    expectStatus(allowed.response, 200);
    expect(allowed.response.body.expiresIn).toBe(600);
    verifySinchToken(allowed.response.body.token, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET, agent.id);

    expectStatus(await org.admin.put('/api/policies/sinch', { maxTtlSeconds: 599 }), 200);
    const { response, requestId } = await mint(agent.client, SINCH);
    expect(expectError(response, 403, 'POLICY_DENIED').details).toEqual([{ field: 'maxTtlSeconds', message: expect.stringContaining('600') }]);
    expect(await mintEntryOf(org.admin, requestId)).toEqual(expect.objectContaining({ provider: 'sinch', outcome: 'denied', code: 'POLICY_DENIED' }));

    // publish: false takes nothing from a Sinch token, which carries no publish rights.
    expectStatus(await org.admin.put('/api/policies/sinch', { publish: false, roles: ['agent'] }), 200);
    expectStatus((await mint(agent.client, SINCH)).response, 200);
    expect(expectError((await mint(org.admin, SINCH)).response, 403, 'POLICY_DENIED').details?.map((detail) => detail.field)).toEqual(['roles']);

    expectStatus(await org.admin.delete('/api/policies/sinch'), 204);
    expectStatus((await mint(org.admin, SINCH)).response, 200);
  });

  it("one provider's policy does not touch another's mints", async () => {
    expectStatus(await org.admin.put('/api/policies/sinch', { roles: ['auditor'] }), 200);
    expectStatus((await mint(agent.client, TWILIO)).response, 200);
    expectError((await mint(agent.client, SINCH)).response, 403, 'POLICY_DENIED');
  });

  it('a policy change is seen by the very next mint', async () => {
    for (let i = 0; i < 5; i++) {
      expectStatus(await org.admin.put('/api/policies/twilio', { roles: ['admin'] }), 200);
      expectError((await mint(agent.client, TWILIO)).response, 403, 'POLICY_DENIED');
      expectStatus(await org.admin.put('/api/policies/twilio', { maxTtlSeconds: 60 + i }), 200);
      expect((await mint(agent.client, TWILIO)).response.body.expiresIn).toBe(60 + i);
      expectStatus(await org.admin.delete('/api/policies/twilio'), 204);
      expect((await mint(agent.client, TWILIO)).response.body.expiresIn).toBe(3600);
    }
  });
});
