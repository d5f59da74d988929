import { randomBytes } from 'node:crypto';
import type { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import type { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ManualClock } from '@mintline/common/clock';
import type { AppConfig } from '@mintline/common/config';
import type { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import type { CredentialsChangedListener } from './credentials-changed';
import type { CredentialRecord } from './credentials.repository';
import { CredentialsService } from './credentials.service';
import { EnvelopeCipher } from './envelope-cipher';
import { parseMasterKeys } from './master-key-ring';
import { CredentialProvider, FieldsOf } from '@mintline/providers/provider-registry';
import { secretFieldNames } from './provider-fields';

/** True only when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const ORG = '7f0c3a52-2f0e-4c53-9a55-1c2b8a7d6e01';
const OTHER_ORG = '0b1e5a3c-9d2f-4e6a-8b7c-1d2e3f4a5b6c';
const hex32 = '0123456789abcdef0123456789abcdef';

const stored = {
  'sinch-voice': { applicationKey: '5b7a5a1c-0d6f-4b8e-9a47-3c1f2e4d5a6b', applicationSecret: 'c2VjcmV0LXNlY3JldA==' },
  'sinch-project': { projectId: 'proj-1', keyId: 'key-1', keySecret: 'ks_0123456789' },
  signalwire: { spaceUrl: 'https://example.signalwire.com', projectId: 'p-1', apiToken: 'PTabcdef0123456789' },
  twilio: { accountSid: `AC${hex32}`, apiKeySid: `SK${hex32}`, apiKeySecret: 'twilio-secret-1234', twimlAppSid: `AP${hex32}` },
  livekit: { url: 'wss://example.livekit.cloud', apiKey: 'APIabc', apiSecret: 'livekit-secret-0123456789' },
  agora: { appId: hex32, appCertificate: hex32 },
  vonage: { applicationId: '5b7a5a1c-0d6f-4b8e-9a47-3c1f2e4d5a6b', privateKey: '-----BEGIN PRIVATE KEY-----\n...' },
  telnyx: { apiKey: 'KEY0123', connectionId: '1234567890' },
} satisfies { [P in CredentialProvider]: FieldsOf<P> };

describe('CredentialsService.require and find', () => {
  const cipher = new EnvelopeCipher(parseMasterKeys(`k1:${randomBytes(32).toString('base64')}`));
  let rows: CredentialRecord[];
  let busListeners: Array<(key: string) => void>;
  let changes: Array<[string, CredentialProvider]>;
  let service: CredentialsService;

  /** A row as `put` stores it: plain fields in the clear, each secret field in its own envelope. */
  function row(orgId: string, provider: CredentialProvider, fields: Record<string, string>): CredentialRecord {
    const secretNames = secretFieldNames(provider);
    const plain = Object.fromEntries(Object.entries(fields).filter(([name]) => !secretNames.includes(name)));
    const secrets = Object.fromEntries(secretNames.map((field) => [field, cipher.encrypt(fields[field], { orgId, provider, field })]));
    return { orgId, provider, fields: plain, secrets, updatedAt: new Date(), updatedByKind: 'user', updatedById: null };
  }

  beforeEach(() => {
    rows = [];
    busListeners = [];
    changes = [];
    // The org's handle answers the repository's one statement (org_id = $1 AND provider = $2).
    const db = {
      forOrg: (orgId: string) => ({
        orgId,
        query: async (_sql: unknown, [org, provider]: [string, CredentialProvider]) => rows.filter((candidate) => candidate.orgId === org && candidate.provider === provider),
      }),
    } as unknown as Db;
    // Not live: every read goes to the (fake) table, as it does while the bus is down.
    const bus = { live: false, on: (_topic: string, listener: (key: string) => void) => busListeners.push(listener), onReset: () => undefined } as unknown as InvalidationBus;
    const listener: CredentialsChangedListener = { credentialsChanged: (orgId, provider) => changes.push([orgId, provider]) };
    service = new CredentialsService(db, cipher, {} as ConfigEventsService, {} as AppConfig, new ManualClock(), bus, listener);
  });

  it('returns the provider’s fields, typed from its table, secrets decrypted', async () => {
    rows.push(row(ORG, 'twilio', stored.twilio), row(ORG, 'sinch-voice', stored['sinch-voice']), row(ORG, 'signalwire', stored.signalwire));

    const twilio = await service.require('twilio', ORG);
    const twilioTyped: Equal<
      typeof twilio,
      { accountSid: string; apiKeySid: string; apiKeySecret: string; twimlAppSid: string; conversationsServiceSid?: string; syncServiceSid?: string }
    > = true;
    expect(twilioTyped).toBe(true);
    expect(twilio).toEqual(stored.twilio);

    const sinch = await service.require('sinch-voice', ORG);
    const sinchTyped: Equal<typeof sinch, { applicationKey: string; applicationSecret: string }> = true;
    expect(sinchTyped).toBe(true);
    expect(sinch).toEqual(stored['sinch-voice']);

    const signalwire = await service.require('signalwire', ORG);
    const signalwireTyped: Equal<typeof signalwire, { spaceUrl: string; projectId: string; apiToken: string }> = true;
    expect(signalwireTyped).toBe(true);
    expect(signalwire).toEqual(stored.signalwire);
    // @ts-expect-error: a field the provider's table does not list is not there to read.
    expect(signalwire.applicationKey).toBeUndefined();
  });

  it.each([
    ['sinch-voice', 'SINCH_NOT_CONFIGURED'],
    ['twilio', 'TWILIO_NOT_CONFIGURED'],
    ['signalwire', 'SIGNALWIRE_NOT_CONFIGURED'],
    ['livekit', 'LIVEKIT_NOT_CONFIGURED'],
    ['agora', 'AGORA_NOT_CONFIGURED'],
    ['vonage', 'VONAGE_NOT_CONFIGURED'],
    ['telnyx', 'TELNYX_NOT_CONFIGURED'],
  ] as const)('throws 400 %s’s %s when the org has none, even if another org has them', async (provider, code) => {
    rows.push(row(OTHER_ORG, provider, stored[provider]));
    const error = await service.require(provider, ORG).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code });
  });

  it('is for the mint providers only: sinch-project is read with find, its trunkId optional', async () => {
    // @ts-expect-error: sinch-project backs no mint, so it has no NOT_CONFIGURED of its own.
    const required = () => service.require('sinch-project', ORG);
    expect(typeof required).toBe('function');

    expect(await service.find('sinch-project', ORG)).toBeUndefined();
    rows.push(row(ORG, 'sinch-project', stored['sinch-project']));
    const project = await service.find('sinch-project', ORG);
    const projectTyped: Equal<typeof project, { projectId: string; keyId: string; keySecret: string; trunkId?: string } | undefined> = true;
    expect(projectTyped).toBe(true);
    expect(project).toEqual(stored['sinch-project']);
    expect(project?.trunkId).toBeUndefined();
  });

  it('tells the injected listener of every change published on the bus', () => {
    for (const deliver of busListeners) {
      deliver(`${ORG}/sinch-project`);
      deliver(`${ORG}/not-a-provider`);
    }
    expect(changes).toEqual([[ORG, 'sinch-project']]);
  });
});
