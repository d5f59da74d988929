import { randomBytes, randomUUID } from 'node:crypto';
import { expectError, expectStatus, expectValidation, UUID_PATTERN } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { client } from './support/http';
import { createApiKey, putSinchVoice, randomSinchSecret, verifySinchToken } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

const SINCH_PATH = '/api/calls/token/sinch';
const TWILIO_PATH = '/api/calls/token/twilio';

let app: TestApp;
let org: OrgFixture;
let other: OrgFixture;
const sinch = { key: randomUUID(), secret: randomSinchSecret() };
const twilio = {
  accountSid: `AC${randomBytes(16).toString('hex')}`,
  apiKeySid: `SK${randomBytes(16).toString('hex')}`,
  apiKeySecret: randomBytes(16).toString('hex'),
  twimlAppSid: `AP${randomBytes(16).toString('hex')}`,
};

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Caller ID Co');
  other = await createOrgWithAdmin(app, 'Other Caller ID Co');
  await putSinchVoice(org.admin, sinch.key, sinch.secret);
  expectStatus(await org.admin.put('/api/credentials/twilio', twilio), 200);
});

afterAll(async () => {
  await app?.close();
});

const numbersPath = (userId: string) => `/api/users/${userId}/phone-numbers`;

describe('adding caller IDs', () => {
  it('POST → 201 {id, provider, phoneNumber, isDefault, label}', async () => {
    const agent = await createUser(app, org, 'agent');
    const plain = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550100' });
    expectStatus(plain, 201);
    // The user's first sinch number, isDefault omitted: it becomes the sinch default.
    expect(plain.body).toEqual({ id: expect.stringMatching(UUID_PATTERN), provider: 'sinch', phoneNumber: '+14165550100', isDefault: true, label: null });

    const labelled = await org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber: '+442079460000', isDefault: true, label: 'London desk' });
    expectStatus(labelled, 201);
    expect(labelled.body).toEqual({ id: expect.stringMatching(UUID_PATTERN), provider: 'twilio', phoneNumber: '+442079460000', isDefault: true, label: 'London desk' });

    const list = await org.admin.get(numbersPath(agent.id));
    expectStatus(list, 200);
    expect(list.body).toEqual([plain.body, labelled.body]);

    // An API key with MANAGE_USERS may manage them too.
    const key = await createApiKey(org.admin, ['MANAGE_USERS'], 'provisioning');
    const byKey = await client(app.url, key.token).post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+33612345678', isDefault: false });
    expectStatus(byKey, 201);
    expect(byKey.body.isDefault).toBe(false);
  });

  it('refuses numbers that are not valid E.164 with 400 VALIDATION_FAILED naming phoneNumber', async () => {
    const agent = await createUser(app, org, 'agent');
    const invalid: unknown[] = [
      '14165550100', // no plus
      '+1416555ABCD', // letters
      '+1-416-555-0100',
      '+1 416 555 0100',
      ' +14165550100',
      '+14165550100 ',
      '+123', // too short
      '+1416555010', // one digit short
      '+1416555010012345', // too long
      '+10005550100', // looks right, area code 000 does not exist
      '+14160000000', // looks right, not a valid line
      '+99912345678', // no such country code
      '+014165550100',
      '00 14165550100',
      '',
      '+',
      14165550100,
      null,
      ['+14165550100'],
    ];
    for (const phoneNumber of invalid) {
      const response = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber });
      expect({ phoneNumber, status: response.status }).toEqual({ phoneNumber, status: 400 });
      expectValidation(response, 'phoneNumber');
    }
    expectValidation(await org.admin.post(numbersPath(agent.id), { provider: 'sinch' }), 'phoneNumber');
    expectValidation(await org.admin.post(numbersPath(agent.id), { provider: 'plivo', phoneNumber: '+14165550100' }), 'provider');
    expectValidation(await org.admin.post(numbersPath(agent.id), { phoneNumber: '+14165550100' }), 'provider');
    expectValidation(await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550100', isDefault: 'yes' }), 'isDefault');
    expectValidation(await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550100', label: '' }), 'label');
    expectValidation(await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550100', label: 'x'.repeat(101) }), 'label');
    const unknownField = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550100', carrier: 'x' });
    expectError(unknownField, 400, 'VALIDATION_FAILED');
    // Nothing was stored by any refused request.
    expect((await org.admin.get(numbersPath(agent.id))).body).toEqual([]);
  });

  it('accepts valid E.164 numbers of several countries', async () => {
    const agent = await createUser(app, org, 'agent');
    for (const phoneNumber of ['+14165550101', '+442079460001', '+4915112345678', '+33612345678', '+61412345678']) {
      const response = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber });
      expectStatus(response, 201);
      expect(response.body.phoneNumber).toBe(phoneNumber);
    }
    expect((await org.admin.get(numbersPath(agent.id))).body).toHaveLength(5);
  });

  it('the same number twice for a user and provider → 409 PHONE_NUMBER_TAKEN; other provider or user is fine', async () => {
    const agent = await createUser(app, org, 'agent');
    expectStatus(await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550120' }), 201);
    expectError(await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550120' }), 409, 'PHONE_NUMBER_TAKEN');
    expectError(await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550120', isDefault: true, label: 'again' }), 409, 'PHONE_NUMBER_TAKEN');
    // A refused default did not clear anything or add anything (the first number stays the default).
    const list = await org.admin.get(numbersPath(agent.id));
    expect(list.body).toEqual([expect.objectContaining({ phoneNumber: '+14165550120', isDefault: true })]);
    expectStatus(await org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber: '+14165550120' }), 201);
    const colleague = await createUser(app, org, 'agent');
    expectStatus(await org.admin.post(numbersPath(colleague.id), { provider: 'sinch', phoneNumber: '+14165550120' }), 201);
  });

  it('concurrent duplicates: exactly one wins, the others are 409', async () => {
    const agent = await createUser(app, org, 'agent');
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550130', isDefault: true })),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const response of responses.filter((r) => r.status === 409)) expectError(response, 409, 'PHONE_NUMBER_TAKEN');
  });
});

describe('defaults', () => {
  it('a new default clears the old one; exactly one default per provider', async () => {
    const agent = await createUser(app, org, 'agent');
    const a = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550140', isDefault: true });
    const t = await org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber: '+14165550141', isDefault: true });
    const b = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550142', isDefault: true });
    const c = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550143' });
    for (const response of [a, t, b, c]) expectStatus(response, 201);

    const list = (await org.admin.get(numbersPath(agent.id))).body as Array<{ id: string; provider: string; isDefault: boolean }>;
    expect(list).toHaveLength(4);
    const defaults = list.filter((n) => n.isDefault);
    expect(defaults.filter((n) => n.provider === 'sinch').map((n) => n.id)).toEqual([b.body.id]);
    expect(defaults.filter((n) => n.provider === 'twilio').map((n) => n.id)).toEqual([t.body.id]);
    expect(list.find((n) => n.id === a.body.id)?.isDefault).toBe(false);
    expect(list.find((n) => n.id === c.body.id)?.isDefault).toBe(false);
  });

  it('concurrent defaults for one user leave exactly one default', async () => {
    const agent = await createUser(app, org, 'agent');
    const responses = await Promise.all(
      ['+14165550150', '+14165550151', '+14165550152', '+14165550153', '+14165550154', '+14165550155'].map((phoneNumber) =>
        org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber, isDefault: true }),
      ),
    );
    for (const response of responses) expectStatus(response, 201);
    const list = (await org.admin.get(numbersPath(agent.id))).body as Array<{ isDefault: boolean }>;
    expect(list).toHaveLength(6);
    expect(list.filter((n) => n.isDefault)).toHaveLength(1);
  });

  it('the default sinch number is the callerIdentifier of the mint; deleting it makes it ""', async () => {
    const agent = await createUser(app, org, 'agent');
    const mint = async () => {
      const response = await agent.client.get(SINCH_PATH);
      expectStatus(response, 200);
      verifySinchToken(response.body.token, sinch.key, sinch.secret, agent.id);
      return response.body.callerIdentifier as string;
    };
    expect(await mint()).toBe('');

    const first = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550160', isDefault: true });
    expectStatus(first, 201);
    expect(await mint()).toBe('+14165550160');

    // A twilio default and a non-default sinch number change nothing.
    expectStatus(await org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber: '+14165550161', isDefault: true }), 201);
    expectStatus(await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550162' }), 201);
    expect(await mint()).toBe('+14165550160');

    const second = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550163', isDefault: true });
    expectStatus(second, 201);
    expect(await mint()).toBe('+14165550163');

    // Deleting the default leaves no default (the old one is not revived).
    expectStatus(await org.admin.delete(`${numbersPath(agent.id)}/${second.body.id}`), 204);
    expect(await mint()).toBe('');
    const left = (await org.admin.get(numbersPath(agent.id))).body as Array<{ phoneNumber: string; isDefault: boolean }>;
    expect(left.map((n) => n.phoneNumber).sort()).toEqual(['+14165550160', '+14165550161', '+14165550162']);
    expect(left.filter((n) => n.isDefault).map((n) => n.phoneNumber)).toEqual(['+14165550161']);

    // An API key minting for the agent sees the same caller ID.
    expectStatus(await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550164', isDefault: true }), 201);
    const key = await createApiKey(org.admin, ['CREATE_CALL_TOKEN'], 'dialer');
    const byKey = await client(app.url, key.token).get(`${SINCH_PATH}?userId=${agent.id}`);
    expectStatus(byKey, 200);
    expect(byKey.body.callerIdentifier).toBe('+14165550164');
  });
});

describe('the first number is the default when isDefault is omitted', () => {
  type Agent = Awaited<ReturnType<typeof createUser>>;
  /** The callerIdentifier of a real mint by the agent itself. */
  const callerIdOf = async (agent: Agent, path: string) => {
    const response = await agent.client.get(path);
    expectStatus(response, 200);
    expect(response.body.userId).toBe(agent.id);
    return response.body.callerIdentifier as string;
  };
  const defaultsOf = async (agent: Agent) =>
    ((await org.admin.get(numbersPath(agent.id))).body as Array<{ provider: string; phoneNumber: string; isDefault: boolean }>)
      .filter((n) => n.isDefault)
      .map((n) => `${n.provider} ${n.phoneNumber}`)
      .sort();

  it("a user's single twilio number, added without isDefault, is the twilio mint's callerIdentifier", async () => {
    const agent = await createUser(app, org, 'agent');
    expect(await callerIdOf(agent, TWILIO_PATH)).toBe('');
    const added = await org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber: '+14165550200' });
    expectStatus(added, 201);
    expect(added.body.isDefault).toBe(true);
    expect(await callerIdOf(agent, TWILIO_PATH)).toBe('+14165550200');
    // It is the twilio default only: the sinch mint still has no caller ID.
    expect(await callerIdOf(agent, SINCH_PATH)).toBe('');
  });

  it("a user's single sinch number, added without isDefault, is the sinch mint's callerIdentifier", async () => {
    const agent = await createUser(app, org, 'agent');
    expect(await callerIdOf(agent, SINCH_PATH)).toBe('');
    const added = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550201' });
    expectStatus(added, 201);
    expect(added.body.isDefault).toBe(true);
    expect(await callerIdOf(agent, SINCH_PATH)).toBe('+14165550201');
    expect(await callerIdOf(agent, TWILIO_PATH)).toBe('');
  });

  it('a second number without isDefault is not the default; isDefault: true still takes over', async () => {
    const agent = await createUser(app, org, 'agent');
    expectStatus(await org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber: '+14165550202' }), 201);
    const second = await org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber: '+14165550203' });
    expectStatus(second, 201);
    expect(second.body.isDefault).toBe(false);
    expect(await callerIdOf(agent, TWILIO_PATH)).toBe('+14165550202');
    expect(await defaultsOf(agent)).toEqual(['twilio +14165550202']);

    // Each provider has its own first number.
    expectStatus(await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550204' }), 201);
    expect(await defaultsOf(agent)).toEqual(['sinch +14165550204', 'twilio +14165550202']);

    const third = await org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber: '+14165550205', isDefault: true });
    expect(third.body.isDefault).toBe(true);
    expect(await callerIdOf(agent, TWILIO_PATH)).toBe('+14165550205');
    expect(await defaultsOf(agent)).toEqual(['sinch +14165550204', 'twilio +14165550205']);
  });

  it('isDefault: false on the first number makes no default, and the mint has ""', async () => {
    const agent = await createUser(app, org, 'agent');
    const first = await org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber: '+14165550206', isDefault: false });
    expectStatus(first, 201);
    expect(first.body.isDefault).toBe(false);
    expect(await callerIdOf(agent, TWILIO_PATH)).toBe('');
    // The next number is not the user's first for the provider, so it is no default either.
    const next = await org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber: '+14165550207' });
    expect(next.body.isDefault).toBe(false);
    expect(await callerIdOf(agent, TWILIO_PATH)).toBe('');
    expect(await defaultsOf(agent)).toEqual([]);
  });

  it('concurrent first numbers without isDefault: exactly one becomes the default, per provider', async () => {
    const agent = await createUser(app, org, 'agent');
    const sinchNumbers = ['+14165550210', '+14165550211', '+14165550212', '+14165550213'];
    const twilioNumbers = ['+14165550214', '+14165550215', '+14165550216', '+14165550217'];
    const responses = await Promise.all([
      ...sinchNumbers.map((phoneNumber) => org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber })),
      ...twilioNumbers.map((phoneNumber) => org.admin.post(numbersPath(agent.id), { provider: 'twilio', phoneNumber })),
    ]);
    for (const response of responses) expectStatus(response, 201);
    const answeredDefault = responses
      .filter((r) => r.body.isDefault)
      .map((r) => `${r.body.provider} ${r.body.phoneNumber}`)
      .sort();
    expect(answeredDefault).toHaveLength(2);
    // What the answers said is what is stored, and what the mints carry.
    expect(await defaultsOf(agent)).toEqual(answeredDefault);
    const [sinchDefault, twilioDefault] = answeredDefault.map((entry) => entry.split(' ')[1]);
    expect(sinchNumbers).toContain(sinchDefault);
    expect(twilioNumbers).toContain(twilioDefault);
    expect(await callerIdOf(agent, SINCH_PATH)).toBe(sinchDefault);
    expect(await callerIdOf(agent, TWILIO_PATH)).toBe(twilioDefault);
  });
});

describe('deleting', () => {
  it('DELETE → 204, then the number is gone and a second DELETE is 404', async () => {
    const agent = await createUser(app, org, 'agent');
    const keep = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550170' });
    const drop = await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550171' });
    const removed = await org.admin.delete(`${numbersPath(agent.id)}/${drop.body.id}`);
    expectStatus(removed, 204);
    expect(removed.text).toBe('');
    expect((await org.admin.get(numbersPath(agent.id))).body).toEqual([keep.body]);
    expectError(await org.admin.delete(`${numbersPath(agent.id)}/${drop.body.id}`), 404, 'NOT_FOUND');
    expectError(await org.admin.delete(`${numbersPath(agent.id)}/${randomUUID()}`), 404, 'NOT_FOUND');
    // The number may be added again after deletion.
    expectStatus(await org.admin.post(numbersPath(agent.id), { provider: 'sinch', phoneNumber: '+14165550171' }), 201);
  });

  it("a number is deleted only through its own user's path", async () => {
    const owner = await createUser(app, org, 'agent');
    const colleague = await createUser(app, org, 'agent');
    const number = await org.admin.post(numbersPath(owner.id), { provider: 'sinch', phoneNumber: '+14165550175', isDefault: true });
    expectError(await org.admin.delete(`${numbersPath(colleague.id)}/${number.body.id}`), 404, 'NOT_FOUND');
    expect((await org.admin.get(numbersPath(owner.id))).body).toEqual([number.body]);
  });

  it("deleting the user removes the user's numbers", async () => {
    const leaver = await createUser(app, org, 'agent');
    expectStatus(await org.admin.post(numbersPath(leaver.id), { provider: 'sinch', phoneNumber: '+14165550176', isDefault: true }), 201);
    expectStatus(await org.admin.delete(`/api/users/${leaver.id}`), 204);
    expectError(await org.admin.get(numbersPath(leaver.id)), 404, 'NOT_FOUND');
    expect(await app.db.query('SELECT id FROM phone_numbers WHERE user_id = $1', [leaver.id])).toEqual([]);
  });
});

describe('tenancy and access', () => {
  let victim: Awaited<ReturnType<typeof createUser>>;
  let victimNumber: { id: string };

  beforeAll(async () => {
    victim = await createUser(app, org, 'agent');
    const created = await org.admin.post(numbersPath(victim.id), { provider: 'sinch', phoneNumber: '+14165550180', isDefault: true });
    expectStatus(created, 201);
    victimNumber = created.body;
  });

  it("another org's user is 404 on POST, GET and DELETE, and nothing changes", async () => {
    expectError(await other.admin.post(numbersPath(victim.id), { provider: 'sinch', phoneNumber: '+14165550181', isDefault: true }), 404, 'NOT_FOUND');
    expectError(await other.admin.get(numbersPath(victim.id)), 404, 'NOT_FOUND');
    expectError(await other.admin.delete(`${numbersPath(victim.id)}/${victimNumber.id}`), 404, 'NOT_FOUND');
    // Through the other org's own user id, the victim's number id is unknown too.
    expectError(await other.admin.delete(`${numbersPath(other.adminId)}/${victimNumber.id}`), 404, 'NOT_FOUND');
    // An API key of the other org is no different.
    const foreignKey = await createApiKey(other.admin, ['MANAGE_USERS'], 'foreign');
    expectError(await client(app.url, foreignKey.token).get(numbersPath(victim.id)), 404, 'NOT_FOUND');
    // Unknown users look the same.
    const unknown = randomUUID();
    expectError(await org.admin.post(numbersPath(unknown), { provider: 'sinch', phoneNumber: '+14165550182' }), 404, 'NOT_FOUND');
    expectError(await org.admin.get(numbersPath(unknown)), 404, 'NOT_FOUND');
    expectError(await org.admin.delete(`${numbersPath(unknown)}/${victimNumber.id}`), 404, 'NOT_FOUND');

    expect((await org.admin.get(numbersPath(victim.id))).body).toEqual([victimNumber]);
    const minted = await victim.client.get(SINCH_PATH);
    expect(minted.body.callerIdentifier).toBe('+14165550180');
  });

  it('malformed ids → 400 VALIDATION_FAILED', async () => {
    for (const bad of ['not-a-uuid', '123', `${victim.id}x`, victim.id.replace(/-/g, ''), '%20']) {
      expectError(await org.admin.post(numbersPath(bad), { provider: 'sinch', phoneNumber: '+14165550183' }), 400, 'VALIDATION_FAILED');
      expectError(await org.admin.get(numbersPath(bad)), 400, 'VALIDATION_FAILED');
      expectError(await org.admin.delete(`${numbersPath(bad)}/${victimNumber.id}`), 400, 'VALIDATION_FAILED');
      expectError(await org.admin.delete(`${numbersPath(victim.id)}/${bad}`), 400, 'VALIDATION_FAILED');
    }
    expect((await org.admin.get(numbersPath(victim.id))).body).toEqual([victimNumber]);
  });

  it('requires MANAGE_USERS: agents and auditors get 403, no credential 401', async () => {
    const auditor = await createUser(app, org, 'auditor');
    for (const caller of [victim.client, auditor.client, client(app.url, (await createApiKey(org.admin, ['CREATE_CALL_TOKEN'], 'mint only')).token)]) {
      expectError(await caller.post(numbersPath(victim.id), { provider: 'sinch', phoneNumber: '+14165550184' }), 403, 'MISSING_SCOPE');
      expectError(await caller.get(numbersPath(victim.id)), 403, 'MISSING_SCOPE');
      expectError(await caller.delete(`${numbersPath(victim.id)}/${victimNumber.id}`), 403, 'MISSING_SCOPE');
    }
    expectError(await client(app.url).get(numbersPath(victim.id)), 401, 'UNAUTHORIZED');
    expectError(await client(app.url).post(numbersPath(victim.id), { provider: 'sinch', phoneNumber: '+14165550184' }), 401, 'UNAUTHORIZED');
    expect((await org.admin.get(numbersPath(victim.id))).body).toEqual([victimNumber]);
  });
});
