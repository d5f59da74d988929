import { runInThisContext } from 'node:vm';
import { verify } from 'jsonwebtoken';
import { createSinchRegistrationToken, deriveSinchSigningKey, sinchKeyDate } from '@mintline/providers/sinch-voice/sinch-registration-token';

// Inputs and expected output from Sinch's reference test, sinch/sinch-rtc-api-auth-examples python/test.sh
// (the same token is asserted in java/src/test/java/com/sinch/rtc/examples/ocra/auth/UserRegistrationTokenTest.java).
const REFERENCE = {
  applicationKey: 'a32e5a8d-f7d8-411c-9645-9038e8dd051d',
  applicationSecret: 'ax8hTTQJF0OPXL32r1LHMA==',
  userId: 'foo',
  nonce: '6b438bda-2d5c-4e8c-92b0-39f20a94b34e',
  issuedAt: new Date('2018-01-02T03:04:05Z'),
};
const REFERENCE_TOKEN =
  'eyJhbGciOiJIUzI1NiIsImtpZCI6ImhrZGZ2MS0yMDE4MDEwMiJ9' +
  '.eyJleHAiOjE1MTQ4NjI4NDUsImlhdCI6MTUxNDg2MjI0NSwiaXNzIjoiLy9ydGMuc2luY2guY29tL2FwcGxpY2F0aW9ucy9hMzJlNWE4ZC1mN2Q4LTQxMWMtOTY0NS05MDM4ZThkZDA1MWQiLCJub25jZSI6IjZiNDM4YmRhLTJkNWMtNGU4Yy05MmIwLTM5ZjIwYTk0YjM0ZSIsInN1YiI6Ii8vcnRjLnNpbmNoLmNvbS9hcHBsaWNhdGlvbnMvYTMyZTVhOGQtZjdkOC00MTFjLTk2NDUtOTAzOGU4ZGQwNTFkL3VzZXJzL2ZvbyJ9' +
  '.10N-QAvRK0-dacox5X5YusK7C0AWb-kZLiNNTKLQw8I';

// Jest hands each spec a copied process.env, so assigning TZ there never reaches Node's env setter that
// makes V8 re-read the zone. The real process object lives in the outer context, which vm can reach.
const realProcess = runInThisContext('process') as NodeJS.Process;
const originalTimezone = realProcess.env.TZ;

function setTimezone(zone: string | undefined): void {
  if (zone === undefined) delete realProcess.env.TZ;
  else realProcess.env.TZ = zone;
}

// A zone far from UTC before any Date is built: the kid date must still follow UTC.
setTimezone('Pacific/Kiritimati');

afterAll(() => setTimezone(originalTimezone));

function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('createSinchRegistrationToken', () => {
  it('reproduces the Sinch reference token byte for byte', () => {
    expect(createSinchRegistrationToken(REFERENCE)).toBe(REFERENCE_TOKEN);
  });

  it('encodes the header as {alg, kid} without typ and the claims in sorted order', () => {
    const token = createSinchRegistrationToken(REFERENCE);
    expect(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')).toBe('{"alg":"HS256","kid":"hkdfv1-20180102"}');
    expect(Object.keys(decodePart(token, 1))).toEqual(['exp', 'iat', 'iss', 'nonce', 'sub']);
    expect(decodePart(token, 1)).toEqual({
      exp: 1514862245 + 600,
      iat: 1514862245,
      iss: '//rtc.sinch.com/applications/a32e5a8d-f7d8-411c-9645-9038e8dd051d',
      nonce: REFERENCE.nonce,
      sub: '//rtc.sinch.com/applications/a32e5a8d-f7d8-411c-9645-9038e8dd051d/users/foo',
    });
  });

  it('truncates milliseconds of issuedAt to whole seconds', () => {
    const token = createSinchRegistrationToken({ ...REFERENCE, issuedAt: new Date('2018-01-02T03:04:05.999Z') });
    expect(token).toBe(REFERENCE_TOKEN);
  });

  describe.each([
    // UTC+14: at 2024-12-31T23:59:59Z it is already 2025-01-01 locally.
    ['Pacific/Kiritimati', '2024-12-31T23:59:59Z'],
    // UTC-8: at 2025-01-01T00:00:00Z it is still 2024-12-31 locally.
    ['America/Los_Angeles', '2025-01-01T00:00:00Z'],
  ])('with TZ=%s', (zone, localDateDiffersAt) => {
    beforeEach(() => setTimezone(zone));

    it(`really runs in that zone: the local date differs from UTC at ${localDateDiffersAt}`, () => {
      const instant = new Date(localDateDiffersAt);
      expect(instant.getTimezoneOffset()).not.toBe(0);
      expect(instant.getDate()).not.toBe(instant.getUTCDate());
    });

    it.each([
      ['2024-12-31T23:59:59Z', '20241231', '20250101'],
      ['2025-01-01T00:00:00Z', '20250101', '20241231'],
    ])('at %s uses the UTC date %s for kid and key', (instant, utcDate, otherDate) => {
      const issuedAt = new Date(instant);
      const token = createSinchRegistrationToken({ ...REFERENCE, issuedAt });
      const iat = issuedAt.getTime() / 1000;

      expect(decodePart(token, 0)).toEqual({ alg: 'HS256', kid: `hkdfv1-${utcDate}` });
      expect(decodePart(token, 1)).toMatchObject({ iat, exp: iat + 600 });

      const key = deriveSinchSigningKey(REFERENCE.applicationSecret, utcDate);
      expect(verify(token, key, { algorithms: ['HS256'], clockTimestamp: iat })).toMatchObject({ iat });

      const wrongKey = deriveSinchSigningKey(REFERENCE.applicationSecret, otherDate);
      expect(() => verify(token, wrongKey, { algorithms: ['HS256'], clockTimestamp: iat })).toThrow('invalid signature');
    });
  });
});

describe('sinchKeyDate', () => {
  it('formats the UTC calendar date as YYYYMMDD', () => {
    setTimezone('America/Los_Angeles');
    expect(sinchKeyDate(new Date('2025-01-01T00:00:00Z'))).toBe('20250101');
    expect(sinchKeyDate(new Date('2024-02-29T23:59:59Z'))).toBe('20240229');
  });
});

describe('deriveSinchSigningKey', () => {
  it('is HMAC-SHA256 of the date text keyed with the decoded secret', () => {
    const key = deriveSinchSigningKey(REFERENCE.applicationSecret, '20180102');
    expect(key).toHaveLength(32);
  });

  it.each(['', 'not base64!', 'ax8h-TTQJ', 'abcde'])('rejects the malformed secret %p', (secret) => {
    expect(() => deriveSinchSigningKey(secret, '20180102')).toThrow('base64');
  });
});
