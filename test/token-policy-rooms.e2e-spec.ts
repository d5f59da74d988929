import { TokenVerifier } from 'livekit-server-sdk';
import twilio from 'twilio';
import { LiveKitFake, startLiveKitFake } from './fakes/livekit.fake';
import { startTelnyxFake, TelnyxFake } from './fakes/telnyx.fake';
import { parseAgoraToken } from './support/agora-reference';
import { decodeJwt, expectError, expectStatus } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { client, Client } from './support/http';
import { allMintEntries, createApiKey, fingerprintOf, mintEntryOf, newRequestId, randomHex, twilioCredentials } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Token policies on the providers whose tokens name a room: every rule at its edge, each token checked
 * by the vendor's own library (LiveKit's TokenVerifier; agora-token, which parses and verifies Agora's
 * AccessToken2; Twilio's AccessToken builder, which must build the very same token), and the story the issue is done by: an admin confines agents to their own rooms,
 * without publish rights and to 15-minute tokens, and every mint that would break that is refused and
 * audited.
 */

let app: TestApp;
let livekit: LiveKitFake;
let telnyx: TelnyxFake;
let org: OrgFixture;
let agent: { id: string; client: Client };
let otherAgent: { id: string; client: Client };
/** A backend key of the org, minting for its users. */
let backend: Client;
const twilioCreds = twilioCredentials();
const agora = { appId: randomHex(16), appCertificate: randomHex(16) };

const STORY = { roles: ['agent'], rooms: ['agent-{userId}-*'], publish: false, maxTtlSeconds: 900 };

beforeAll(async () => {
  livekit = await startLiveKitFake();
  telnyx = await startTelnyxFake();
  app = await startTestApp({ config: { allowInsecureProviderUrls: true } });
  org = await createOrgWithAdmin(app, 'Rooms Co');
  const a = await createUser(app, org, 'agent');
  agent = { id: a.id, client: a.client };
  const b = await createUser(app, org, 'agent');
  otherAgent = { id: b.id, client: b.client };
  backend = client(app.url, (await createApiKey(org.admin, ['CREATE_CALL_TOKEN'])).token);
  expectStatus(await org.admin.put('/api/credentials/livekit', { url: livekit.wsUrl, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret }), 200);
  expectStatus(await org.admin.put('/api/credentials/twilio', twilioCreds), 200);
  expectStatus(await org.admin.put('/api/credentials/agora', agora), 200);
  expectStatus(await org.admin.put('/api/credentials/telnyx', { apiKey: telnyx.apiKey, connectionId: telnyx.connectionId, baseUrl: telnyx.url }), 200);
});

afterAll(async () => {
  await app?.close();
  await livekit?.close();
  await telnyx?.close();
});

afterEach(async () => {
  for (const policy of (await org.admin.get('/api/policies')).body.items ?? []) expectStatus(await org.admin.delete(`/api/policies/${policy.provider}`), 204);
});

async function mint(as: Client, provider: string, body: Record<string, unknown>) {
  const requestId = newRequestId(provider);
  const response = await as.post(`/api/tokens/${provider}`, body, { headers: { 'x-request-id': requestId } });
  return { response, requestId };
}

/** A LiveKit token as LiveKit's own library reads it (signature, issuer, lifetime), with its grant and lifetime. */
async function liveKitClaims(token: string) {
  const claims = (await new TokenVerifier(livekit.apiKey, livekit.apiSecret).verify(token)) as {
    sub: string;
    nbf: number;
    exp: number;
    video: { roomJoin: boolean; room: string; canPublish: boolean; canSubscribe: boolean; canPublishData: boolean };
  };
  return { ...claims, ttl: claims.exp - claims.nbf };
}

/** A refusal by the policy: 403 POLICY_DENIED naming exactly these rules, and a denied audit entry of the provider. */
async function expectPolicyDenied(result: { response: Awaited<ReturnType<Client['post']>>; requestId: string }, provider: string, rules: string[]) {
  const body = expectError(result.response, 403, 'POLICY_DENIED');
  expect(body.details?.map((detail) => detail.field)).toEqual(rules);
  const entry = await mintEntryOf(org.admin, result.requestId);
  expect(entry).toEqual(expect.objectContaining({ provider, outcome: 'denied', code: 'POLICY_DENIED', tokenFingerprint: null, expiresAt: null }));
  return entry;
}

describe('LiveKit under a policy, every rule at its edge', () => {
  it('roles: a listed role mints, another is refused — the role of the user the token is for, whoever mints', async () => {
    expectStatus(await org.admin.put('/api/policies/livekit', { roles: ['agent'] }), 200);
    expectStatus((await mint(agent.client, 'livekit', { room: 'r' })).response, 200);
    await expectPolicyDenied(await mint(org.admin, 'livekit', { room: 'r' }), 'livekit', ['roles']);
    expectStatus((await mint(backend, 'livekit', { room: 'r', userId: agent.id })).response, 200);
    await expectPolicyDenied(await mint(backend, 'livekit', { room: 'r', userId: org.adminId }), 'livekit', ['roles']);
  });

  it("rooms: the agent's own rooms, and nothing that merely looks like one", async () => {
    expectStatus(await org.admin.put('/api/policies/livekit', { rooms: ['agent-{userId}-*', 'support-*', 'desk.?', 'q(1)+[a]$^\\'] }), 200);
    const allowed = [`agent-${agent.id}-1`, `agent-${agent.id}-`, `agent-${agent.id}-a.b*c`, 'support-1', 'support-', 'desk.7', 'q(1)+[a]$^\\'];
    for (const room of allowed) {
      const { response } = await mint(agent.client, 'livekit', { room });
      expectStatus(response, 200);
      expect((await liveKitClaims(response.body.token)).video.room).toBe(room);
    }
    const refused = [
      `agent-${otherAgent.id}-1`,
      `agent-${agent.id}`,
      `agent-${agent.id.toUpperCase()}-1`,
      'support',
      'xsupport-1',
      'deskx7',
      'desk.77',
      'q1+[a]$^\\',
      'q(1)[a]$^\\',
      'a',
    ];
    for (const room of refused) {
      const result = await mint(agent.client, 'livekit', { room });
      const entry = await expectPolicyDenied(result, 'livekit', ['rooms']);
      expect(entry).toEqual(expect.objectContaining({ subjectUserId: agent.id, target: `livekit:${room}` }));
    }
    // The other agent's own room is its own, not this agent's.
    expectStatus((await mint(otherAgent.client, 'livekit', { room: `agent-${otherAgent.id}-1` })).response, 200);
  });

  it('publish: false takes the default publish rights (canPublish and canPublishData false) and refuses them asked for', async () => {
    expectStatus(await org.admin.put('/api/policies/livekit', { publish: false }), 200);
    const { response } = await mint(agent.client, 'livekit', { room: 'r' });
    expectStatus(response, 200);
    expect((await liveKitClaims(response.body.token)).video).toEqual({ roomJoin: true, room: 'r', canPublish: false, canSubscribe: true, canPublishData: false });
    const declined = await mint(agent.client, 'livekit', { room: 'r', canPublish: false, canPublishData: false });
    expect((await liveKitClaims(declined.response.body.token)).video).toEqual(expect.objectContaining({ canPublish: false, canPublishData: false }));
    await expectPolicyDenied(await mint(agent.client, 'livekit', { room: 'r', canPublish: true }), 'livekit', ['publish']);
  });

  it('maxTtlSeconds: a longer lifetime is shortened (expiresIn, exp and the audit entry follow), one at or under it kept', async () => {
    expectStatus(await org.admin.put('/api/policies/livekit', { maxTtlSeconds: 900 }), 200);
    for (const [asked, granted] of [
      [undefined, 900],
      [901, 900],
      [86_400, 900],
      [900, 900],
      [899, 899],
      [60, 60],
    ] as Array<[number | undefined, number]>) {
      const { response, requestId } = await mint(agent.client, 'livekit', { room: 'r', ...(asked ? { ttlSeconds: asked } : {}) });
      expectStatus(response, 200);
      expect(response.body.expiresIn).toBe(granted);
      const claims = await liveKitClaims(response.body.token);
      expect({ asked, ttl: claims.ttl }).toEqual({ asked, ttl: granted });
      const entry = await mintEntryOf(org.admin, requestId);
      expect(Date.parse(entry.expiresAt)).toBe(claims.exp * 1000);
    }
  });
});

describe('Agora under a policy', () => {
  /** The token as agora-token reads it, its signature checked with the org's App Certificate. */
  function agoraToken(token: string) {
    const parsed = parseAgoraToken(token, agora.appCertificate);
    expect(parsed.verified).toBe(true);
    expect(parsed.services).toHaveLength(1);
    return { expire: parsed.expire, ...parsed.services[0] };
  }
  const JOIN = 1;
  const PUBLISH = [2, 3, 4];

  it('channels by pattern; publish: false makes a subscriber and refuses a publisher asked for; the lifetime capped', async () => {
    expectStatus(await org.admin.put('/api/policies/agora', STORY), 200);
    const own = `agent-${agent.id}-desk`;
    const subscriber = await mint(agent.client, 'agora', { channel: own, ttlSeconds: 3600 });
    expectStatus(subscriber.response, 200);
    expect(subscriber.response.body.expiresIn).toBe(900);
    expect(agoraToken(subscriber.response.body.token)).toEqual({ expire: 900, type: 1, channel: own, account: agent.id, privileges: { [JOIN]: 900 } });
    const asSubscriber = await mint(agent.client, 'agora', { channel: own, role: 'subscriber', ttlSeconds: 600 });
    expect(agoraToken(asSubscriber.response.body.token)).toEqual(expect.objectContaining({ expire: 600, privileges: { [JOIN]: 600 } }));

    await expectPolicyDenied(await mint(agent.client, 'agora', { channel: own, role: 'publisher' }), 'agora', ['publish']);
    await expectPolicyDenied(await mint(agent.client, 'agora', { channel: `agent-${otherAgent.id}-desk` }), 'agora', ['rooms']);
    await expectPolicyDenied(await mint(agent.client, 'agora', { channel: `agent-${agent.id}` }), 'agora', ['rooms']);
    await expectPolicyDenied(await mint(org.admin, 'agora', { channel: `agent-${org.adminId}-desk` }), 'agora', ['roles']);
    // An RTM login names no channel: refused under a rooms rule.
    await expectPolicyDenied(await mint(agent.client, 'agora', { service: 'rtm' }), 'agora', ['rooms']);
  });

  it('without publish: false a publisher keeps its publish privileges, for the capped lifetime', async () => {
    expectStatus(await org.admin.put('/api/policies/agora', { maxTtlSeconds: 120 }), 200);
    const publisher = await mint(agent.client, 'agora', { channel: 'open' });
    expect(agoraToken(publisher.response.body.token)).toEqual(
      expect.objectContaining({ expire: 120, privileges: Object.fromEntries([JOIN, ...PUBLISH].map((privilege) => [privilege, 120])) }),
    );
  });
});

describe('Twilio Video under a policy', () => {
  /** The token's grants, after checking that Twilio's own AccessToken builder makes the very same token. */
  function twilioGrants(token: string, ttl: number, build: (token: InstanceType<typeof twilio.jwt.AccessToken>) => void): Record<string, unknown> {
    const { payload } = decodeJwt(token);
    const iat = payload.iat as number;
    expect(payload.exp).toBe(iat + ttl);
    const now = jest.spyOn(Date, 'now').mockReturnValue(iat * 1000);
    try {
      const reference = new twilio.jwt.AccessToken(twilioCreds.accountSid, twilioCreds.apiKeySid, twilioCreds.apiKeySecret, {
        identity: (payload.grants as { identity: string }).identity,
        ttl,
      });
      build(reference);
      expect(reference.toJwt()).toBe(token);
    } finally {
      now.mockRestore();
    }
    return payload.grants as Record<string, unknown>;
  }

  it('confines the video room, takes the outgoing voice grant, caps the lifetime', async () => {
    expectStatus(await org.admin.put('/api/policies/twilio', STORY), 200);
    const room = `agent-${agent.id}-standup`;
    const videoOnly = await mint(agent.client, 'twilio', { voice: false, video: { room }, ttlSeconds: 3600 });
    expectStatus(videoOnly.response, 200);
    expect(videoOnly.response.body.expiresIn).toBe(900);
    expect(twilioGrants(videoOnly.response.body.token, 900, (token) => token.addGrant(new twilio.jwt.AccessToken.VideoGrant({ room })))).toEqual({
      identity: agent.id.replace(/-/g, '_'),
      video: { room },
    });

    // Voice by default with video: the voice grant only receives calls.
    const both = await mint(agent.client, 'twilio', { video: { room } });
    expectStatus(both.response, 200);
    expect(
      twilioGrants(both.response.body.token, 900, (token) => {
        token.addGrant(new twilio.jwt.AccessToken.VoiceGrant({ incomingAllow: true }));
        token.addGrant(new twilio.jwt.AccessToken.VideoGrant({ room }));
      }),
    ).toEqual({ identity: agent.id.replace(/-/g, '_'), voice: { incoming: { allow: true } }, video: { room } });

    await expectPolicyDenied(await mint(agent.client, 'twilio', { voice: true, video: { room } }), 'twilio', ['publish']);
    await expectPolicyDenied(await mint(agent.client, 'twilio', { voice: false, video: { room: `agent-${otherAgent.id}-standup` } }), 'twilio', ['rooms']);
    // A video grant for any room names no room: refused under a rooms rule, as a voice-only token is.
    await expectPolicyDenied(await mint(agent.client, 'twilio', { voice: false, video: {} }), 'twilio', ['rooms']);
    await expectPolicyDenied(await mint(agent.client, 'twilio', {}), 'twilio', ['rooms']);
    await expectPolicyDenied(await mint(org.admin, 'twilio', { voice: false, video: { room: `agent-${org.adminId}-standup` } }), 'twilio', ['roles']);
  });
});

describe('the story: agents confined to their own rooms, without publish rights, to 15-minute tokens', () => {
  it('an admin sets it up once; every mint within it is narrowed, every mint that would break it is refused and audited', async () => {
    // The admin sets the same policy for every provider the agents use, and sees what it would make of a
    // mint before anyone mints.
    for (const provider of ['livekit', 'agora', 'twilio', 'telnyx']) expectStatus(await org.admin.put(`/api/policies/${provider}`, STORY), 200);
    const own = `agent-${agent.id}-support`;
    const evaluation = await org.admin.get(`/api/policies/livekit/evaluate?userId=${agent.id}&room=${own}&ttlSeconds=3600`);
    expect(evaluation.body).toEqual({ allowed: true, effectiveTtlSeconds: 900, reasons: expect.any(Array) });

    // The agent joins its own room: a LiveKit token without publish rights, for 15 minutes.
    const joined = await mint(agent.client, 'livekit', { room: own, ttlSeconds: 3600 });
    expectStatus(joined.response, 200);
    expect(joined.response.body).toEqual(expect.objectContaining({ room: own, identity: agent.id, userId: agent.id, expiresIn: 900 }));
    const claims = await liveKitClaims(joined.response.body.token);
    expect(claims.sub).toBe(agent.id);
    expect(claims.ttl).toBe(900);
    expect(claims.video).toEqual({ roomJoin: true, room: own, canPublish: false, canSubscribe: true, canPublishData: false });
    // Its backend mints for it too, within the same bounds.
    const forAgent = await mint(backend, 'livekit', { userId: agent.id, room: `agent-${agent.id}-queue` });
    expectStatus(forAgent.response, 200);
    expect((await liveKitClaims(forAgent.response.body.token)).video.canPublish).toBe(false);

    // The same agent on Agora and Twilio Video, in its own room: subscriber only, no outgoing calls, 15 minutes.
    const onAgora = await mint(agent.client, 'agora', { channel: own });
    expectStatus(onAgora.response, 200);
    const agoraParsed = parseAgoraToken(onAgora.response.body.token, agora.appCertificate);
    expect(agoraParsed).toEqual(expect.objectContaining({ verified: true, expire: 900, services: [{ type: 1, privileges: { 1: 900 }, channel: own, account: agent.id }] }));
    const onTwilio = await mint(agent.client, 'twilio', { video: { room: own } });
    expectStatus(onTwilio.response, 200);
    const twilioToken = decodeJwt(onTwilio.response.body.token).payload;
    expect(twilioToken.exp).toBe((twilioToken.iat as number) + 900);
    expect(twilioToken.grants).toEqual({ identity: agent.id.replace(/-/g, '_'), voice: { incoming: { allow: true } }, video: { room: own } });

    // Every mint that would break it is refused, naming the rule.
    const breaches: Array<[string, string, Client, Record<string, unknown>, string[]]> = [
      ["another agent's room", 'livekit', agent.client, { room: `agent-${otherAgent.id}-support` }, ['rooms']],
      ['a shared room', 'livekit', agent.client, { room: 'all-hands' }, ['rooms']],
      ['a room that only starts like its own', 'livekit', agent.client, { room: `agent-${agent.id}` }, ['rooms']],
      ['publish rights asked for', 'livekit', agent.client, { room: own, canPublish: true }, ['publish']],
      ['data publishing asked for', 'livekit', agent.client, { room: own, canPublishData: true }, ['publish']],
      ['an admin in an agent-style room of its own', 'livekit', org.admin, { room: `agent-${org.adminId}-support` }, ['roles']],
      ['a backend for another agent, in this agent’s room', 'livekit', backend, { userId: otherAgent.id, room: own }, ['rooms']],
      ['a backend for the admin', 'livekit', backend, { userId: org.adminId, room: `agent-${org.adminId}-x`, canPublish: true }, ['roles', 'publish']],
      ['an Agora publisher', 'agora', agent.client, { channel: own, role: 'publisher' }, ['publish']],
      ["another agent's Agora channel", 'agora', agent.client, { channel: `agent-${otherAgent.id}-support` }, ['rooms']],
      ['Twilio outgoing calls asked for', 'twilio', agent.client, { voice: true, video: { room: own } }, ['publish']],
      ["another agent's Twilio video room", 'twilio', agent.client, { voice: false, video: { room: `agent-${otherAgent.id}-support` } }, ['rooms']],
      // Telnyx tokens live 86,400 s, fixed, and name no room.
      ['a day-long Telnyx token', 'telnyx', agent.client, {}, ['rooms', 'maxTtlSeconds']],
    ];
    const refusals: string[] = [];
    for (const [label, provider, as, body, rules] of breaches) {
      const result = await mint(as, provider, body);
      const entry = await expectPolicyDenied(result, provider, rules);
      if (provider === 'livekit') expect(entry.target).toBe(`livekit:${body.room as string}`);
      refusals.push(result.requestId);
      expect({ label, status: result.response.status }).toEqual({ label, status: 403 });
    }
    // The refused Telnyx mint never reached Telnyx: no credential made, no token asked for.
    expect({ created: telnyx.created.length, tokens: telnyx.tokens.length }).toEqual({ created: 0, tokens: 0 });

    // The audit log holds it all: the tokens issued (their fingerprints, 15-minute expiries), every breach denied.
    const issued = [joined, forAgent, onAgora, onTwilio];
    const entries = (await allMintEntries(org.admin)).filter((entry) => [...issued.map((mintResult) => mintResult.requestId), ...refusals].includes(entry.requestId));
    expect(
      entries
        .filter((entry) => entry.outcome === 'issued')
        .map((entry) => entry.tokenFingerprint)
        .sort(),
    ).toEqual(issued.map((mintResult) => fingerprintOf(mintResult.response.body.token)).sort());
    expect(Date.parse(entries.find((entry) => entry.requestId === joined.requestId).expiresAt)).toBe(claims.exp * 1000);
    for (const entry of entries.filter((item) => item.outcome === 'issued')) expect(Date.parse(entry.expiresAt) - Date.parse(entry.at)).toBeLessThanOrEqual(901_000);
    expect(
      entries
        .filter((entry) => entry.outcome === 'denied' && entry.code === 'POLICY_DENIED')
        .map((entry) => entry.requestId)
        .sort(),
    ).toEqual([...refusals].sort());
    expect((await org.admin.get('/api/audit/verify')).body.ok).toBe(true);

    // The policy itself is on record: who set it, and what it says.
    const events = await org.admin.get('/api/audit/events?targetType=policy&action=policy.created');
    expect(events.body.items.map((event: { targetId: string }) => event.targetId).slice(0, 4)).toEqual(['telnyx', 'twilio', 'agora', 'livekit']);
    expect(events.body.items[3]).toEqual(
      expect.objectContaining({ actor: { kind: 'user', id: org.adminId }, targetId: 'livekit', details: { provider: 'livekit', before: null, after: STORY } }),
    );
  });
});
