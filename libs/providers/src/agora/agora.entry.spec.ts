import { ManualClock } from '@mintline/common/clock';
import { ApiError } from '@mintline/common/errors/api-error';
import { parseAgoraToken } from '../../../../test/support/agora-reference';
import type { MintGrant } from '../registry/mint-grant';
import { AgoraMintRequest, parseAgoraMintRequest } from './agora-mint-request';
import { AGORA } from './agora.entry';
import { AgoraMinter } from './agora.minter';

const fields = { appId: '970ca35de60c44645bbae8a215061b33', appCertificate: '5cfd2fd1755d40ecb72977518be15d3b' };
const userId = '6f1c2f4e-8a4b-4c1e-9d53-0d2f7c1b9a10';
const route = (() => {
  if (!AGORA.tokens) throw new Error('the agora entry declares no token route');
  return AGORA.tokens;
})();

function problems(body: Record<string, unknown>): Array<{ field: string; message: string }> {
  try {
    parseAgoraMintRequest(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    return (error as ApiError).details ?? [];
  }
  throw new Error('the request was accepted');
}

describe('the agora token request', () => {
  it('defaults to an RTC publisher token for an hour; an explicit role is told from the default', () => {
    expect(parseAgoraMintRequest({ channel: 'desk' })).toEqual({ service: 'rtc', channel: 'desk', role: 'publisher', roleAsked: false, ttlSeconds: 3600 });
    expect(parseAgoraMintRequest({ channel: 'desk', role: 'publisher', ttlSeconds: 60, service: 'rtc' })).toEqual({
      service: 'rtc',
      channel: 'desk',
      role: 'publisher',
      roleAsked: true,
      ttlSeconds: 60,
    });
  });

  it('rtm needs no channel and ignores one', () => {
    expect(parseAgoraMintRequest({ service: 'rtm' })).toEqual({ service: 'rtm', ttlSeconds: 3600 });
    expect(parseAgoraMintRequest({ service: 'rtm', channel: 'a/b', ttlSeconds: 86_400 })).toEqual({ service: 'rtm', ttlSeconds: 86_400 });
  });

  it('names every bad field at once', () => {
    expect(problems({ role: 'host', ttlSeconds: 59, service: 'rtc', extra: 1 }).map((p) => p.field)).toEqual(['role', 'ttlSeconds', 'channel', 'extra']);
    expect(problems({ channel: 'x'.repeat(65) })).toEqual([{ field: 'channel', message: 'must be 1 to 64 characters' }]);
    expect(problems({ channel: 'a/b' })[0]).toEqual({ field: 'channel', message: expect.stringContaining("Agora's channel characters") });
    expect(problems({ service: 'video', channel: 'c' }).map((p) => p.field)).toEqual(['service']);
  });
});

describe('the agora registry entry', () => {
  it('asks CREATE_CHAT_TOKEN for rtm only, whatever else the raw body holds', () => {
    expect(route.scopes?.({ service: 'rtm' })).toEqual(['CREATE_CHAT_TOKEN']);
    for (const body of [{}, { service: 'rtc' }, { service: 'RTM' }, null, 'rtm', [], { service: ['rtm'] }]) expect(route.scopes?.(body)).toEqual(['CREATE_CALL_TOKEN']);
  });

  it('declares the channel as the room, publish as asked, defaulted or none, and names the channel in the audit', () => {
    const grant = (body: Record<string, unknown>) => route.grant(parseAgoraMintRequest(body));
    expect(grant({ channel: 'desk' })).toEqual({ room: 'desk', ttlSeconds: 3600, fixedTtl: false, publish: 'default' });
    expect(grant({ channel: 'desk', role: 'publisher', ttlSeconds: 90 })).toEqual({ room: 'desk', ttlSeconds: 90, fixedTtl: false, publish: 'asked' });
    expect(grant({ channel: 'desk', role: 'subscriber' })).toEqual({ room: 'desk', ttlSeconds: 3600, fixedTtl: false, publish: 'none' });
    expect(grant({ service: 'rtm', channel: 'ignored' })).toEqual({ room: null, ttlSeconds: 3600, fixedTtl: false, publish: 'none' });
    expect(route.target(parseAgoraMintRequest({ channel: 'desk 1' }), fields)).toBe('agora:channel:desk 1');
    expect(route.target(parseAgoraMintRequest({ service: 'rtm' }), fields)).toBe('agora:rtm');
  });
});

describe('AgoraMinter', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 12, 0, 0, 700));
  const minter = new AgoraMinter(clock);
  const subject = { orgId: '11111111-1111-4111-8111-111111111111', userId, name: async () => null, callerId: async () => '' };
  const mint = (request: AgoraMintRequest, grant: MintGrant) => minter.mint({ fields, request, subject, grant });

  it('honours the grant in force: its lifetime, and subscriber when the policy took publishing', async () => {
    const request = parseAgoraMintRequest({ channel: 'desk', ttlSeconds: 3600 });
    const minted = await mint(request, { room: 'desk', ttlSeconds: 300, fixedTtl: false, publish: 'none' });
    const issueTs = Math.floor(clock.nowMs() / 1000);
    expect(minted).toEqual({
      token: expect.stringMatching(/^007/),
      expiresAt: new Date((issueTs + 300) * 1000),
      expiresIn: 300,
      answer: { appId: fields.appId, channel: 'desk', account: userId },
    });
    const token = parseAgoraToken(minted.token, fields.appCertificate);
    expect(token).toMatchObject({ verified: true, issueTs, expire: 300, services: [{ type: 1, privileges: { 1: 300 }, channel: 'desk', account: userId }] });

    const publisher = await mint(request, route.grant(request));
    expect(parseAgoraToken(publisher.token, fields.appCertificate).services[0].privileges).toEqual({ 1: 3600, 2: 3600, 3: 3600, 4: 3600 });
  });

  it('mints RTM login for the user id, with a channel of null, and a fresh salt each time', async () => {
    const request = parseAgoraMintRequest({ service: 'rtm' });
    const one = await mint(request, route.grant(request));
    const two = await mint(request, route.grant(request));
    expect(one.answer).toEqual({ appId: fields.appId, channel: null, account: userId });
    const parsed = parseAgoraToken(one.token, fields.appCertificate);
    expect(parsed.services).toEqual([{ type: 2, privileges: { 1: 3600 }, userId }]);
    expect(parsed.salt).not.toBe(parseAgoraToken(two.token, fields.appCertificate).salt);
  });
});
