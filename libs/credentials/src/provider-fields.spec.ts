import { generateKeyPairSync } from 'node:crypto';
import { ApiError, ErrorDetail } from '@mintline/common/errors/api-error';
import {
  CREDENTIAL_PROVIDERS,
  CredentialProvider,
  credentialFields,
  isCredentialProvider,
  NOT_CONFIGURED_CODES,
  PROVIDER_REGISTRY,
} from '@mintline/providers/provider-registry';
import { MAX_FIELD_LENGTH } from '@mintline/providers/registry/credential-field-rules';
import { isSecretField, maskFields, maskSecret, secretFieldNames, validateCredentialFields } from './provider-fields';

const hex32 = '0123456789abcdef0123456789abcdef';

const valid: Record<CredentialProvider, Record<string, string>> = {
  'sinch-voice': { applicationKey: '5b7a5a1c-0d6f-4b8e-9a47-3c1f2e4d5a6b', applicationSecret: 'c2VjcmV0LXNlY3JldA==' },
  'sinch-project': { projectId: 'proj-1', keyId: 'key-1', keySecret: 'ks_0123456789', trunkId: 'trunk-1' },
  signalwire: { spaceUrl: 'https://example.signalwire.com', projectId: 'p-1', apiToken: 'PTabcdef0123456789' },
  twilio: { accountSid: `AC${hex32}`, apiKeySid: `SK${hex32}`, apiKeySecret: 'twilio-secret-1234', twimlAppSid: `AP${hex32}` },
  livekit: { url: 'wss://example.livekit.cloud', apiKey: 'APIa1b2c3d4', apiSecret: 'livekit-secret-0123456789abcdef' },
  agora: { appId: hex32, appCertificate: 'fedcba9876543210fedcba9876543210' },
  vonage: { applicationId: '5b7a5a1c-0d6f-4b8e-9a47-3c1f2e4d5a6b', privateKey: rsaPem() },
  telnyx: { apiKey: 'KEY0123456789ABCDEF', connectionId: '1684641123236054244', baseUrl: 'https://api.telnyx.com' },
};

function rsaPem(type: 'pkcs1' | 'pkcs8' = 'pkcs8'): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type, format: 'pem' }).toString();
}

const secure = { allowInsecureUrls: false };
const insecure = { allowInsecureUrls: true };

function problems(provider: CredentialProvider, body: unknown, options = secure): ErrorDetail[] {
  try {
    validateCredentialFields(provider, body, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('VALIDATION_FAILED');
    return (error as ApiError).details ?? [];
  }
  throw new Error('expected a validation error');
}

function accepts(provider: CredentialProvider, overrides: Record<string, unknown>, options = secure) {
  return validateCredentialFields(provider, { ...valid[provider], ...overrides }, options).fields;
}

function refuses(provider: CredentialProvider, overrides: Record<string, unknown>, options = secure) {
  return problems(provider, { ...valid[provider], ...overrides }, options);
}

describe('provider credential fields', () => {
  it('lists the providers of the registry and their secret fields', () => {
    expect([...CREDENTIAL_PROVIDERS]).toEqual(['sinch-voice', 'sinch-project', 'signalwire', 'twilio', 'livekit', 'agora', 'vonage', 'telnyx']);
    for (const [name, entry] of Object.entries(PROVIDER_REGISTRY)) expect(entry.credentials).toBe(name);
    expect(NOT_CONFIGURED_CODES).toEqual({
      'sinch-voice': 'SINCH_NOT_CONFIGURED',
      signalwire: 'SIGNALWIRE_NOT_CONFIGURED',
      twilio: 'TWILIO_NOT_CONFIGURED',
      livekit: 'LIVEKIT_NOT_CONFIGURED',
      agora: 'AGORA_NOT_CONFIGURED',
      vonage: 'VONAGE_NOT_CONFIGURED',
      telnyx: 'TELNYX_NOT_CONFIGURED',
    });
    expect(secretFieldNames('livekit')).toEqual(['apiSecret']);
    expect(secretFieldNames('agora')).toEqual(['appCertificate']);
    expect(secretFieldNames('vonage')).toEqual(['privateKey']);
    expect(secretFieldNames('telnyx')).toEqual(['apiKey']);
    expect(secretFieldNames('sinch-voice')).toEqual(['applicationSecret']);
    expect(secretFieldNames('sinch-project')).toEqual(['keySecret']);
    expect(secretFieldNames('signalwire')).toEqual(['apiToken']);
    expect(secretFieldNames('twilio')).toEqual(['apiKeySecret']);
    expect(isSecretField('twilio', 'apiKeySecret')).toBe(true);
    expect(isSecretField('twilio', 'accountSid')).toBe(false);
    expect(credentialFields('sinch-project').find((spec) => spec.name === 'trunkId')).toEqual({
      name: 'trunkId',
      secret: false,
      optional: true,
      maxLength: MAX_FIELD_LENGTH,
      multiline: false,
    });
    expect(isCredentialProvider('twilio')).toBe(true);
    expect(isCredentialProvider('sinch')).toBe(false);
  });

  it.each(CREDENTIAL_PROVIDERS)('accepts valid %s credentials as they are', (provider) => {
    expect(validateCredentialFields(provider, valid[provider], secure)).toEqual({ fields: valid[provider] });
  });

  describe('rules shared by every field', () => {
    it('trims non-secret values but keeps secrets exactly as sent', () => {
      const fields = accepts('sinch-project', { projectId: '  proj-1 \n', keySecret: ' ks with spaces ' });
      expect(fields.projectId).toBe('proj-1');
      expect(fields.keySecret).toBe(' ks with spaces ');
    });

    it(`accepts values of ${MAX_FIELD_LENGTH} characters and refuses ${MAX_FIELD_LENGTH + 1}`, () => {
      const at = 'x'.repeat(MAX_FIELD_LENGTH);
      const past = 'x'.repeat(MAX_FIELD_LENGTH + 1);
      expect(accepts('sinch-project', { projectId: at, keySecret: at })).toMatchObject({ projectId: at, keySecret: at });
      expect(refuses('sinch-project', { projectId: past, keySecret: past })).toEqual([
        { field: 'projectId', message: 'must be at most 2048 characters' },
        { field: 'keySecret', message: 'must be at most 2048 characters' },
      ]);
    });

    it('accepts a one-character value and refuses empty or blank ones', () => {
      expect(accepts('sinch-project', { keyId: 'k', keySecret: 's' })).toMatchObject({ keyId: 'k', keySecret: 's' });
      expect(refuses('sinch-project', { projectId: '', keyId: '   ', keySecret: '', trunkId: ' ' })).toEqual([
        { field: 'projectId', message: 'must not be empty' },
        { field: 'keyId', message: 'must not be empty' },
        { field: 'keySecret', message: 'must not be empty' },
        { field: 'trunkId', message: 'must not be empty' },
      ]);
      expect(refuses('twilio', { apiKeySecret: ' \t ' })).toEqual([{ field: 'apiKeySecret', message: 'must not be empty' }]);
    });

    it.each<[string, unknown]>([
      ['null', null],
      ['a number', 42],
      ['a boolean', true],
      ['an object', { value: 'x' }],
      ['an array', ['x']],
    ])('refuses %s where a string belongs', (_name, value) => {
      expect(refuses('signalwire', { projectId: value })).toEqual([{ field: 'projectId', message: 'must be a string' }]);
    });

    it('refuses control characters, also inside a secret', () => {
      expect(refuses('signalwire', { projectId: 'p\u00001', apiToken: 'token\n' })).toEqual([
        { field: 'projectId', message: 'must not contain control characters' },
        { field: 'apiToken', message: 'must not contain control characters' },
      ]);
    });

    it('lists every problem at once: missing, unknown and malformed fields', () => {
      expect(problems('twilio', { accountSid: 'AC1', apiKeySecret: 7, region: 'us1', __proto__x: 'y' })).toEqual([
        { field: 'accountSid', message: 'must be "AC" followed by 32 hexadecimal characters' },
        { field: 'apiKeySid', message: 'is required' },
        { field: 'apiKeySecret', message: 'must be a string' },
        { field: 'twimlAppSid', message: 'is required' },
        { field: 'region', message: 'is not a twilio credential field' },
        { field: '__proto__x', message: 'is not a twilio credential field' },
      ]);
    });

    it('refuses a field of another provider', () => {
      expect(refuses('sinch-voice', { apiToken: 'x' })).toEqual([{ field: 'apiToken', message: 'is not a sinch-voice credential field' }]);
    });

    it('refuses a "__proto__" key from parsed JSON', () => {
      const body = JSON.parse(JSON.stringify(valid.signalwire).replace('{', '{"__proto__":{"admin":true},'));
      expect(problems('signalwire', body)).toEqual([{ field: '__proto__', message: 'is not a signalwire credential field' }]);
    });

    it.each<[string, unknown]>([
      ['null', null],
      ['an array', [valid.twilio]],
      ['a string', JSON.stringify(valid.twilio)],
    ])('refuses a body that is %s', (_name, body) => {
      expect(problems('twilio', body)).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    });

    it('refuses an unknown provider', () => {
      expect(problems('sinch' as CredentialProvider, {})).toEqual([
        { field: 'provider', message: 'must be one of sinch-voice, sinch-project, signalwire, twilio, livekit, agora, vonage, telnyx' },
      ]);
    });

    it('never repeats a value in a problem', () => {
      const secret = 'not base64 at all: s3cr3t!';
      const details = refuses('sinch-voice', { applicationSecret: secret });
      expect(JSON.stringify(details)).not.toContain('s3cr3t');
    });
  });

  describe('sinch-voice applicationSecret (standard base64, as Sinch issues it)', () => {
    it.each(['QQ==', 'QUI=', 'QUJD', 'AAAA', '+/+/', 'c2VjcmV0LXNlY3JldA=='])('accepts %s', (applicationSecret) => {
      expect(accepts('sinch-voice', { applicationSecret }).applicationSecret).toBe(applicationSecret);
    });

    it.each([
      ['no padding', 'QQ'],
      ['short padding', 'QQ='],
      ['too much padding', 'Q==='],
      ['padding only', '===='],
      ['base64url characters', 'QU-_'],
      ['a space inside', 'QU JD'],
      ['surrounding spaces', ' QUJD '],
      ['a trailing newline', 'QUJD\n'],
      ['non-zero padding bits', 'QR=='],
      ['a period', 'QUJ.'],
    ])('refuses %s', (_name, applicationSecret) => {
      expect(refuses('sinch-voice', { applicationSecret })).toEqual([
        {
          field: 'applicationSecret',
          message: expect.stringMatching(/must (be standard base64|not contain control characters)/),
        },
      ]);
    });
  });

  describe('sinch-project trunkId (optional)', () => {
    it('may be left out', () => {
      const { trunkId: _omitted, ...withoutTrunk } = valid['sinch-project'];
      expect(validateCredentialFields('sinch-project', withoutTrunk, secure).fields).toEqual(withoutTrunk);
    });

    it('may not be null or empty when present', () => {
      expect(refuses('sinch-project', { trunkId: null })).toEqual([{ field: 'trunkId', message: 'must be a string' }]);
      expect(refuses('sinch-project', { trunkId: '' })).toEqual([{ field: 'trunkId', message: 'must not be empty' }]);
    });
  });

  describe('signalwire spaceUrl', () => {
    it.each([
      ['https://example.signalwire.com', 'https://example.signalwire.com'],
      ['https://example.signalwire.com/', 'https://example.signalwire.com'],
      ['  HTTPS://Example.SignalWire.com:443/  ', 'https://example.signalwire.com'],
      ['https://example.signalwire.com:8443/base/', 'https://example.signalwire.com:8443/base'],
    ])('accepts %j as %j', (spaceUrl, normalised) => {
      expect(accepts('signalwire', { spaceUrl }).spaceUrl).toBe(normalised);
    });

    it('refuses plain http unless insecure URLs are allowed', () => {
      expect(refuses('signalwire', { spaceUrl: 'http://127.0.0.1:4010' })).toEqual([{ field: 'spaceUrl', message: 'must be an absolute https URL' }]);
      expect(accepts('signalwire', { spaceUrl: 'http://127.0.0.1:4010/' }, insecure).spaceUrl).toBe('http://127.0.0.1:4010');
      expect(accepts('signalwire', { spaceUrl: 'https://example.signalwire.com' }, insecure).spaceUrl).toBe('https://example.signalwire.com');
    });

    it.each([
      'https://2130706433:4010',
      'https://127.1:4010',
      'https://0177.0.0.1:4010',
      'https://0x7f000001:4010',
      'https://[::1]:4010',
      'https://[::ffff:127.0.0.1]:4010',
      'https://0.0.0.0',
      'https://localhost',
      'https://169.254.169.254',
      'https://10.0.0.1',
      'https://192.168.1.1',
      'https://[fd00::1]',
      'https://100.100.100.200',
      'https://metadata.google.internal',
      'https://space.localhost',
      'https://intranet',
    ])('refuses the non-public host of %s; insecure URLs lift that rule', (spaceUrl) => {
      expect(refuses('signalwire', { spaceUrl })).toEqual([{ field: 'spaceUrl', message: expect.stringMatching(/only public addresses/) }]);
      expect(accepts('signalwire', { spaceUrl }, insecure).spaceUrl).toBe(new URL(spaceUrl).origin);
    });

    it('defaults to refusing plain http when no options are given', () => {
      expect(() => validateCredentialFields('signalwire', { ...valid.signalwire, spaceUrl: 'http://a.test' })).toThrow(ApiError);
    });

    it.each([
      ['a host without scheme', 'example.signalwire.com', /absolute https/],
      ['a relative path', '/api', /absolute https/],
      ['"https:" without slashes', 'https:example.signalwire.com', /absolute https/],
      ['another scheme', 'ftp://example.signalwire.com', /absolute https/],
      ['a websocket URL', 'wss://example.signalwire.com', /absolute https/],
      ['a scheme without host', 'https://', /absolute https/],
      ['a space in the host', 'https://exa mple.com', /absolute https/],
      ['a user and password', 'https://user:pass@example.signalwire.com', /credentials/],
      ['a user only', 'https://user@example.signalwire.com', /credentials/],
      ['an empty user', 'https://@example.signalwire.com', /credentials/],
      ['a query', 'https://example.signalwire.com/?a=1', /query or fragment/],
      ['an empty query', 'https://example.signalwire.com?', /query or fragment/],
      ['a fragment', 'https://example.signalwire.com/#top', /query or fragment/],
    ])('refuses %s', (_name, spaceUrl, message) => {
      for (const options of [secure, insecure]) {
        expect(refuses('signalwire', { spaceUrl }, options)).toEqual([{ field: 'spaceUrl', message: expect.stringMatching(message) }]);
      }
    });
  });

  describe('twilio SIDs', () => {
    const sids = [
      ['accountSid', 'AC'],
      ['apiKeySid', 'SK'],
      ['twimlAppSid', 'AP'],
    ] as const;

    it.each(sids)('%s accepts %s and 32 hex characters, normalising the hex to lower case', (name, prefix) => {
      expect(accepts('twilio', { [name]: `${prefix}${hex32}` })[name]).toBe(`${prefix}${hex32}`);
      expect(accepts('twilio', { [name]: `${prefix}${hex32.toUpperCase()}` })[name]).toBe(`${prefix}${hex32}`);
    });

    it.each(sids)('%s refuses 31 or 33 hex characters, non-hex, and another prefix', (name, prefix) => {
      const other = prefix === 'AC' ? 'SK' : 'AC';
      for (const value of [`${prefix}${hex32.slice(1)}`, `${prefix}${hex32}0`, `${prefix}${hex32.slice(1)}g`, `${other}${hex32}`, `${prefix.toLowerCase()}${hex32}`, hex32]) {
        expect(refuses('twilio', { [name]: value })).toEqual([{ field: name, message: `must be "${prefix}" followed by 32 hexadecimal characters` }]);
      }
    });
  });
});

describe('the fields of the providers added on 2026-11-26', () => {
  describe('twilio service SIDs (optional, IS...)', () => {
    it.each(['conversationsServiceSid', 'syncServiceSid'])('%s may be left out, or be IS and 32 hex characters', (name) => {
      expect(accepts('twilio', {})[name]).toBeUndefined();
      expect(accepts('twilio', { [name]: `IS${hex32.toUpperCase()}` })[name]).toBe(`IS${hex32}`);
      expect(refuses('twilio', { [name]: `AC${hex32}` })).toEqual([{ field: name, message: 'must be "IS" followed by 32 hexadecimal characters' }]);
    });
  });

  describe('livekit url (wss or https, outbound-address rules)', () => {
    it.each([
      ['wss://example.livekit.cloud', 'wss://example.livekit.cloud'],
      ['https://example.livekit.cloud/', 'https://example.livekit.cloud'],
      ['wss://rtc.example.com:7880', 'wss://rtc.example.com:7880'],
    ])('accepts %j as %j', (url, normalised) => {
      expect(accepts('livekit', { url }).url).toBe(normalised);
    });

    it.each([
      ['plain ws', 'ws://example.livekit.cloud', /absolute wss or https URL/],
      ['plain http', 'http://example.livekit.cloud', /absolute wss or https URL/],
      ['a loopback address', 'wss://127.0.0.1:7880', /only public addresses/],
      ['a private address in hex', 'https://0x0a000001', /only public addresses/],
      ['credentials', 'wss://key:secret@example.livekit.cloud', /credentials/],
      ['a query', 'wss://example.livekit.cloud?access_token=x', /query or fragment/],
    ])('refuses %s', (_name, url, message) => {
      expect(refuses('livekit', { url })).toEqual([{ field: 'url', message: expect.stringMatching(message) }]);
    });

    it('accepts ws and loopback only when insecure URLs are allowed (test doubles)', () => {
      expect(accepts('livekit', { url: 'ws://127.0.0.1:7880' }, insecure).url).toBe('ws://127.0.0.1:7880');
      expect(accepts('livekit', { url: 'http://127.0.0.1:7880/' }, insecure).url).toBe('http://127.0.0.1:7880');
    });
  });

  describe('vonage', () => {
    it('takes the application id as a UUID, stored lower-case', () => {
      expect(accepts('vonage', { applicationId: '5B7A5A1C-0D6F-4B8E-9A47-3C1F2E4D5A6B' }).applicationId).toBe('5b7a5a1c-0d6f-4b8e-9a47-3c1f2e4d5a6b');
      expect(refuses('vonage', { applicationId: 'not-a-uuid' })).toEqual([{ field: 'applicationId', message: 'must be a UUID' }]);
    });

    it('takes an RSA private key in PEM, PKCS#8 or PKCS#1, line breaks and all, kept exactly', () => {
      const pkcs1 = rsaPem('pkcs1');
      expect(accepts('vonage', { privateKey: pkcs1 }).privateKey).toBe(pkcs1);
      expect(accepts('vonage', { privateKey: valid.vonage.privateKey }).privateKey).toBe(valid.vonage.privateKey);
      const crlf = valid.vonage.privateKey.replace(/\n/g, '\r\n');
      expect(accepts('vonage', { privateKey: crlf }).privateKey).toBe(crlf);
    });

    it('refuses a key that is not RSA, not PEM, encrypted, damaged, or carries other control characters', () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass' })
        .toString();
      const lines = valid.vonage.privateKey.split('\n');
      const damaged = [...lines.slice(0, 5), ...lines.slice(6)].join('\n'); // a line of the key left out
      const publicKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      for (const privateKey of [ec, encrypted, damaged, publicKey, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC']) {
        expect(refuses('vonage', { privateKey })).toEqual([{ field: 'privateKey', message: 'must be an unencrypted RSA private key in PEM form' }]);
      }
      expect(refuses('vonage', { privateKey: `${valid.vonage.privateKey}\u0000` })).toEqual([{ field: 'privateKey', message: 'must not contain control characters' }]);
    });

    it('takes a 4096-bit key (longer than other fields may be) and never repeats the key in a problem', () => {
      const big = generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect(big.length).toBeGreaterThan(MAX_FIELD_LENGTH);
      expect(accepts('vonage', { privateKey: big }).privateKey).toBe(big);
      const details = refuses('vonage', { privateKey: big.slice(0, 1200) });
      expect(JSON.stringify(details)).not.toContain(big.slice(40, 80));
    });
  });

  describe('agora (32 hex each)', () => {
    it('accepts 32 hex characters, stored lower-case, and refuses anything else', () => {
      expect(accepts('agora', { appId: hex32.toUpperCase() }).appId).toBe(hex32);
      for (const value of [hex32.slice(1), `${hex32}0`, `${hex32.slice(1)}g`]) {
        expect(refuses('agora', { appId: value, appCertificate: value })).toEqual([
          { field: 'appId', message: 'must be 32 hexadecimal characters' },
          { field: 'appCertificate', message: 'must be 32 hexadecimal characters' },
        ]);
      }
    });
  });

  describe('telnyx', () => {
    it('takes baseUrl optionally, under the outbound-address rules', () => {
      const { baseUrl: _omitted, ...withoutBaseUrl } = valid.telnyx;
      expect(validateCredentialFields('telnyx', withoutBaseUrl, secure).fields).toEqual(withoutBaseUrl);
      expect(refuses('telnyx', { baseUrl: 'https://10.1.2.3' })).toEqual([{ field: 'baseUrl', message: expect.stringMatching(/only public addresses/) }]);
      expect(refuses('telnyx', { baseUrl: 'http://api.telnyx.com' })).toEqual([{ field: 'baseUrl', message: 'must be an absolute https URL' }]);
    });
  });

  it('masks the new secrets', () => {
    expect(maskFields('vonage', valid.vonage).privateKey).toBe(maskSecret(valid.vonage.privateKey));
    expect(maskFields('vonage', valid.vonage).applicationId).toBe(valid.vonage.applicationId);
    expect(maskFields('livekit', valid.livekit)).toEqual({ ...valid.livekit, apiSecret: '••••cdef' });
    expect(maskFields('telnyx', valid.telnyx)).toEqual({ ...valid.telnyx, apiKey: '••••CDEF' });
  });
});

describe('masking', () => {
  it.each([
    ['', '••••'],
    ['a', '••••'],
    ['abcd', '••••'],
    ['abcde', '••••bcde'],
    ['twilio-secret-1234', '••••1234'],
    ['pässwörd🔑', '••••örd🔑'],
  ])('masks %j as %j', (value, masked) => {
    expect(maskSecret(value)).toBe(masked);
  });

  it('masks only the secret fields of a provider', () => {
    expect(maskFields('twilio', valid.twilio)).toEqual({ ...valid.twilio, apiKeySecret: '••••1234' });
    expect(maskFields('sinch-voice', valid['sinch-voice'])).toEqual({
      applicationKey: valid['sinch-voice'].applicationKey,
      applicationSecret: '••••dA==',
    });
  });

  it('masks a field the provider does not list', () => {
    expect(maskFields('signalwire', { projectId: 'p-1', legacyToken: 'abcdef' })).toEqual({
      projectId: 'p-1',
      legacyToken: '••••cdef',
    });
  });
});
