import { inflateSync } from 'node:zlib';
import { RtcRole, RtcTokenBuilder, RtmTokenBuilder } from 'agora-token';
import { parseAgoraToken, referenceAgoraToken } from '../../../../test/support/agora-reference';
import { AGORA_RTC_SERVICE, AGORA_RTM_SERVICE, buildAgoraAccessToken } from './agora-access-token';
import { createAgoraToken } from './agora-token';

const credentials = { appId: '970ca35de60c44645bbae8a215061b33', appCertificate: '5cfd2fd1755d40ecb72977518be15d3b' };
const issuedAt = new Date('2026-11-26T12:00:00.500Z');
const issueTs = Math.floor(issuedAt.getTime() / 1000);
const account = '6f1c2f4e-8a4b-4c1e-9d53-0d2f7c1b9a10';

describe('createAgoraToken', () => {
  it('builds an RTC publisher token byte for byte as agora-token does for the same inputs', () => {
    const token = createAgoraToken({
      credentials,
      request: { service: 'rtc', channel: 'sales floor #3', account, role: 'publisher' },
      issuedAt,
      ttlSeconds: 3600,
      salt: 12_345,
    });
    expect(token).toBe(
      referenceAgoraToken({ ...credentials, issueTs, expire: 3600, salt: 12_345, service: { kind: 'rtc', channel: 'sales floor #3', account, publisher: true } }),
    );

    const parsed = parseAgoraToken(token, credentials.appCertificate);
    expect(parsed).toEqual({
      verified: true,
      appId: credentials.appId,
      issueTs,
      expire: 3600,
      salt: 12_345,
      services: [{ type: AGORA_RTC_SERVICE, privileges: { 1: 3600, 2: 3600, 3: 3600, 4: 3600 }, channel: 'sales floor #3', account }],
    });
  });

  it('gives a subscriber the join privilege only', () => {
    const token = createAgoraToken({ credentials, request: { service: 'rtc', channel: 'c', account, role: 'subscriber' }, issuedAt, ttlSeconds: 60, salt: 99_999_999 });
    expect(token).toBe(referenceAgoraToken({ ...credentials, issueTs, expire: 60, salt: 99_999_999, service: { kind: 'rtc', channel: 'c', account, publisher: false } }));
    const parsed = parseAgoraToken(token, credentials.appCertificate);
    expect(parsed.verified).toBe(true);
    expect(parsed.services).toEqual([{ type: AGORA_RTC_SERVICE, privileges: { 1: 60 }, channel: 'c', account }]);
  });

  it('builds an RTM login token byte for byte as agora-token does', () => {
    const token = createAgoraToken({ credentials, request: { service: 'rtm', userId: account }, issuedAt, ttlSeconds: 86_400, salt: 1 });
    expect(token).toBe(referenceAgoraToken({ ...credentials, issueTs, expire: 86_400, salt: 1, service: { kind: 'rtm', userId: account } }));
    const parsed = parseAgoraToken(token, credentials.appCertificate);
    expect(parsed.verified).toBe(true);
    expect(parsed.services).toEqual([{ type: AGORA_RTM_SERVICE, privileges: { 1: 86_400 }, userId: account }]);
  });

  it("has the structure of agora-token's own builders (buildTokenWithUserAccount, RTM buildToken)", () => {
    const ours = parseAgoraToken(
      createAgoraToken({ credentials, request: { service: 'rtc', channel: 'room', account, role: 'publisher' }, issuedAt: new Date(), ttlSeconds: 600, salt: 7 }),
      credentials.appCertificate,
    );
    const theirs = parseAgoraToken(
      RtcTokenBuilder.buildTokenWithUserAccount(credentials.appId, credentials.appCertificate, 'room', account, RtcRole.PUBLISHER, 600, 600),
      credentials.appCertificate,
    );
    expect(theirs.verified).toBe(true);
    expect(ours.services).toEqual(theirs.services);
    expect(ours.expire).toBe(theirs.expire);

    const theirSubscriber = parseAgoraToken(
      RtcTokenBuilder.buildTokenWithUserAccount(credentials.appId, credentials.appCertificate, 'room', account, RtcRole.SUBSCRIBER, 600, 600),
      credentials.appCertificate,
    );
    const ourSubscriber = parseAgoraToken(
      createAgoraToken({ credentials, request: { service: 'rtc', channel: 'room', account, role: 'subscriber' }, issuedAt: new Date(), ttlSeconds: 600, salt: 7 }),
      credentials.appCertificate,
    );
    expect(ourSubscriber.services).toEqual(theirSubscriber.services);

    const theirRtm = parseAgoraToken(RtmTokenBuilder.buildToken(credentials.appId, credentials.appCertificate, account, 600), credentials.appCertificate);
    const ourRtm = parseAgoraToken(
      createAgoraToken({ credentials, request: { service: 'rtm', userId: account }, issuedAt: new Date(), ttlSeconds: 600, salt: 7 }),
      credentials.appCertificate,
    );
    expect(ourRtm.services).toEqual(theirRtm.services);
  });

  it('is "007" + base64 of zlib-deflated content, and does not verify with another certificate', () => {
    const token = createAgoraToken({ credentials, request: { service: 'rtm', userId: account }, issuedAt, ttlSeconds: 600, salt: 42 });
    expect(token.startsWith('007')).toBe(true);
    const content = inflateSync(Buffer.from(token.slice(3), 'base64'));
    // A 32-byte HMAC-SHA256 signature, length-prefixed (u16 LE), then the signed fields starting with the app id.
    expect(content.readUInt16LE(0)).toBe(32);
    expect(content.readUInt16LE(34)).toBe(32);
    expect(content.subarray(36, 68).toString()).toBe(credentials.appId);
    expect(content.readUInt32LE(68)).toBe(issueTs);
    expect(content.readUInt32LE(72)).toBe(600);
    expect(content.readUInt32LE(76)).toBe(42);
    expect(parseAgoraToken(token, 'ffffffffffffffffffffffffffffffff').verified).toBe(false);
  });

  it('signs each token with its own salt', () => {
    const request = { service: 'rtm', userId: account } as const;
    const one = createAgoraToken({ credentials, request, issuedAt, ttlSeconds: 600, salt: 1 });
    const two = createAgoraToken({ credentials, request, issuedAt, ttlSeconds: 600, salt: 2 });
    expect(one).not.toBe(two);
    expect(parseAgoraToken(two, credentials.appCertificate).verified).toBe(true);
  });

  it('refuses what the reference would not build', () => {
    const base = { ...credentials, issueTs, expireSeconds: 60, salt: 5, services: [{ type: AGORA_RTM_SERVICE, privileges: new Map([[1, 60]]), userId: 'u' }] as const };
    expect(() => buildAgoraAccessToken({ ...base, appId: 'not-hex' })).toThrow(/appId/);
    expect(() => buildAgoraAccessToken({ ...base, appCertificate: '1234' })).toThrow(/appCertificate/);
    expect(() => buildAgoraAccessToken({ ...base, services: [] })).toThrow(/service/);
    expect(() => buildAgoraAccessToken({ ...base, salt: 0 })).toThrow(/salt/);
    expect(() => buildAgoraAccessToken({ ...base, salt: 100_000_000 })).toThrow(/salt/);
    expect(() => buildAgoraAccessToken({ ...base, expireSeconds: -1 })).toThrow(/expireSeconds/);
    expect(() => createAgoraToken({ credentials, request: { service: 'rtm', userId: 'u' }, issuedAt: new Date(NaN), ttlSeconds: 60, salt: 1 })).toThrow(/issuedAt/);
  });
});
