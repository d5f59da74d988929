import type { LookupAddress, LookupOptions } from 'node:dns';
import type { OutboundLookup } from '@mintline/common/dns-lookup';
import { addressRange, checkOutboundHost, checkOutboundUrl, guardedLookup, isPublicAddress, OutboundAddressError } from './outbound-address';

describe('outbound addresses', () => {
  describe('isPublicAddress / addressRange (ipaddr.js ranges)', () => {
    it.each([
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['10.0.0.1', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'linkLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['100.100.100.200', 'carrierGradeNat'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['192.0.2.1', 'reserved'],
      ['198.18.0.1', 'reserved'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['fe80::1', 'linkLocal'],
      ['fe80::1%eth0', 'linkLocal'],
      ['fd00::1', 'uniqueLocal'],
      ['fc00::1', 'uniqueLocal'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'reserved'],
      ['64:ff9b::7f00:1', 'rfc6052'],
      ['2002:7f00:1::', '6to4'],
      ['::7f00:1', 'ipv4Compatible'],
      // IPv4-mapped IPv6 is judged as the IPv4 address it carries.
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:a00:1', 'private'],
      ['[::ffff:169.254.169.254]', 'linkLocal'],
      // Every IPv4 spelling ipaddr.js reads, for lookups that hand back odd forms.
      ['2130706433', 'loopback'],
      ['0x7f000001', 'loopback'],
      ['0177.0.0.1', 'loopback'],
      ['127.1', 'loopback'],
    ])('%s is %s, not public', (address, range) => {
      expect(addressRange(address)).toBe(range);
      expect(isPublicAddress(address)).toBe(false);
    });

    it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2001:4860:4860::8888', '[2606:4700:4700::1111]', '::ffff:8.8.8.8'])('%s is public unicast', (address) => {
      expect(addressRange(address)).toBe('unicast');
      expect(isPublicAddress(address)).toBe(true);
    });

    it.each(['', 'example.com', '256.1.1.1', '1.2.3.4.5', 'not an address', '[::1'])('%j is not an address, so not public', (value) => {
      expect(addressRange(value)).toBeUndefined();
      expect(isPublicAddress(value)).toBe(false);
    });
  });

  describe('checkOutboundHost (hosts as the URL parser leaves them)', () => {
    it.each([
      ['localhost', /internal/],
      ['localhost.', /internal/],
      ['space.localhost', /internal/],
      ['metadata.google.internal', /internal/],
      ['printer.local', /internal/],
      ['router.home.arpa', /internal/],
      ['intranet', /single-label/],
      ['intranet.', /single-label/],
      ['127.0.0.1', /loopback/],
      ['10.1.2.3', /private/],
      ['169.254.169.254', /link-local/],
      ['100.100.100.200', /carrier-grade NAT/],
      ['0.0.0.0', /unspecified/],
      ['[::1]', /loopback/],
      ['[fd00::1]', /unique-local/],
      ['[::ffff:7f00:1]', /loopback/],
      ['[64:ff9b::7f00:1]', /non-public/],
      ['127.1', /non-public/],
    ])('refuses %s', (host, reason) => {
      const verdict = checkOutboundHost(host);
      expect(verdict).toEqual({ allowed: false, reason: expect.stringMatching(reason) });
    });

    it.each(['example.com', 'example.signalwire.com', 'space.example.com.', '8.8.8.8', '[2001:4860:4860::8888]'])('allows %s', (host) => {
      expect(checkOutboundHost(host)).toEqual({ allowed: true });
    });
  });

  describe('checkOutboundUrl (the field rule for tenant-supplied URLs)', () => {
    const strict = { allowInsecure: false };
    const insecure = { allowInsecure: true };
    const port = 4010;

    it.each([
      ['decimal IPv4', `https://2130706433:${port}`],
      ['shortened IPv4', `https://127.1:${port}`],
      ['octal IPv4', `https://0177.0.0.1:${port}`],
      ['hex IPv4', `https://0x7f000001:${port}`],
      ['hex dotted IPv4', `https://0x7f.0.0.1:${port}`],
      ['dotted loopback', `https://127.0.0.1:${port}`],
      ['loopback with a trailing dot', `https://127.0.0.1.:${port}`],
      ['IPv6 loopback', `https://[::1]:${port}`],
      ['IPv4-mapped IPv6', `https://[::ffff:127.0.0.1]:${port}`],
      ['IPv4-mapped IPv6 written out', `https://[0:0:0:0:0:ffff:7f00:1]:${port}`],
      ['IPv4-compatible IPv6', `https://[::127.0.0.1]:${port}`],
      ['NAT64 of loopback', `https://[64:ff9b::127.0.0.1]:${port}`],
      ['the unspecified address', `https://0.0.0.0:${port}`],
      ['zero', `https://0:${port}`],
      ['the unspecified IPv6 address', `https://[::]:${port}`],
      ['localhost', `https://localhost:${port}`],
      ['localhost in capitals with a trailing dot', `https://LOCALHOST.:${port}`],
      ['a name under .localhost', `https://a.localhost:${port}`],
      ['cloud metadata', 'https://169.254.169.254/latest/meta-data'],
      ['IPv6 link-local', 'https://[fe80::1]'],
      ['RFC 1918 10/8', 'https://10.0.0.1'],
      ['RFC 1918 172.16/12', 'https://172.16.5.4'],
      ['RFC 1918 192.168/16', 'https://192.168.1.1'],
      ['unique-local IPv6', 'https://[fd00::1]'],
      ['carrier-grade NAT', 'https://100.100.100.200'],
      ['multicast', 'https://224.0.0.1'],
      ['broadcast', 'https://255.255.255.255'],
      ['the GCE metadata name', 'https://metadata.google.internal'],
      ['a single-label name', 'https://intranet'],
      ['fullwidth digits', 'https://１２７.０.０.１'],
    ])('refuses %s (%s)', (_label, url) => {
      expect(checkOutboundUrl(url, strict)).toEqual({ problem: expect.stringMatching(/only public addresses are reachable/) });
    });

    it.each([
      ['https://example.com', 'https://example.com'],
      ['https://Example.SignalWire.com:443/', 'https://example.signalwire.com'],
      ['https://space.example.com:8443/base/', 'https://space.example.com:8443/base'],
      ['https://8.8.8.8', 'https://8.8.8.8'],
      ['https://[2001:4860:4860::8888]:8443', 'https://[2001:4860:4860::8888]:8443'],
    ])('accepts %s as %s', (url, normalised) => {
      expect(checkOutboundUrl(url, strict)).toEqual({ value: normalised });
    });

    it('refuses credentials, a query or a fragment, whatever the host', () => {
      for (const rules of [strict, insecure]) {
        expect(checkOutboundUrl('https://user:pass@example.com', rules)).toEqual({ problem: 'must not contain credentials' });
        expect(checkOutboundUrl('https://@example.com', rules)).toEqual({ problem: 'must not contain credentials' });
        expect(checkOutboundUrl('https://user:pass@127.0.0.1', rules)).toEqual({ problem: 'must not contain credentials' });
        expect(checkOutboundUrl('https://example.com/?a=1', rules)).toEqual({ problem: 'must not contain a query or fragment' });
      }
    });

    it('refuses http, other schemes and scheme-less forms; insecure allows http and lifts the address rule', () => {
      expect(checkOutboundUrl('http://example.com', strict)).toEqual({ problem: 'must be an absolute https URL' });
      for (const url of ['ftp://example.com', 'https:example.com', 'example.com', 'https://', 'file:///etc/passwd']) {
        expect(checkOutboundUrl(url, strict)).toEqual({ problem: 'must be an absolute https URL' });
        expect(checkOutboundUrl(url, insecure)).toEqual({ problem: 'must be an absolute https (or http) URL' });
      }
      expect(checkOutboundUrl('http://127.0.0.1:4010/', insecure)).toEqual({ value: 'http://127.0.0.1:4010' });
      expect(checkOutboundUrl('https://[::1]:4010', insecure)).toEqual({ value: 'https://[::1]:4010' });
      expect(checkOutboundUrl('https://localhost:4010', insecure)).toEqual({ value: 'https://localhost:4010' });
    });

    it('takes wss where a field allows it, with the same address rule', () => {
      const rules = { allowInsecure: false, schemes: ['wss', 'https'] as const };
      expect(checkOutboundUrl('wss://live.example.com', rules)).toEqual({ value: 'wss://live.example.com' });
      expect(checkOutboundUrl('https://live.example.com', rules)).toEqual({ value: 'https://live.example.com' });
      expect(checkOutboundUrl('wss://127.0.0.1:7880', rules)).toEqual({ problem: expect.stringMatching(/loopback/) });
      expect(checkOutboundUrl('ws://live.example.com', rules)).toEqual({ problem: 'must be an absolute wss or https URL' });
      expect(checkOutboundUrl('ws://127.0.0.1:7880', { ...rules, allowInsecure: true })).toEqual({ value: 'ws://127.0.0.1:7880' });
    });

    it('never repeats the value in a problem', () => {
      const url = 'https://secret-host-name.internal';
      const result = checkOutboundUrl(url, strict);
      expect('problem' in result && result.problem).not.toContain('secret-host-name');
    });
  });

  describe('guardedLookup (the check at each connection)', () => {
    function fakeLookup(answer: LookupAddress[] | NodeJS.ErrnoException): { lookup: OutboundLookup; calls: LookupOptions[] } {
      const calls: LookupOptions[] = [];
      const lookup: OutboundLookup = (_hostname, options, callback) => {
        calls.push(options);
        if (answer instanceof Error) callback(answer, [], undefined);
        else callback(null, answer);
      };
      return { lookup, calls };
    }

    function run(lookup: OutboundLookup, all: boolean): Promise<{ error: Error | null; address: string | LookupAddress[]; family?: number }> {
      return new Promise((resolve) => guardedLookup(lookup)('space.example.com', { all }, (error, address, family) => resolve({ error, address, family })));
    }

    const v4 = (address: string): LookupAddress => ({ address, family: 4 });
    const v6 = (address: string): LookupAddress => ({ address, family: 6 });

    it('hands public answers on, in the form asked for, and always asks for every address', async () => {
      const { lookup, calls } = fakeLookup([v4('8.8.8.8'), v6('2001:4860:4860::8888')]);
      expect(await run(lookup, true)).toEqual({ error: null, address: [v4('8.8.8.8'), v6('2001:4860:4860::8888')] });
      expect(await run(lookup, false)).toEqual({ error: null, address: '8.8.8.8', family: 4 });
      expect(calls.every((options) => options.all === true)).toBe(true);
    });

    it.each([
      ['loopback', [v4('127.0.0.1')]],
      ['IPv6 loopback', [v6('::1')]],
      ['IPv4-mapped loopback', [v6('::ffff:127.0.0.1')]],
      ['metadata', [v4('169.254.169.254')]],
      ['private', [v4('10.0.0.1')]],
      ['one inward answer among public ones', [v4('8.8.8.8'), v4('192.168.1.1')]],
      ['no answer at all', []],
    ])('refuses a name whose answer holds %s, with no address handed on', async (_label, answer) => {
      for (const all of [true, false]) {
        const result = await run(fakeLookup(answer).lookup, all);
        expect(result.error).toBeInstanceOf(OutboundAddressError);
        expect(result.error?.message).not.toMatch(/\d+\.\d+\.\d+\.\d+|::/);
        expect(result.address).toEqual(all ? [] : '');
      }
    });

    it('passes a resolver failure through unchanged', async () => {
      const failure = Object.assign(new Error('getaddrinfo ENOTFOUND space.example.com'), { code: 'ENOTFOUND' });
      const result = await run(fakeLookup(failure).lookup, true);
      expect(result.error).toBe(failure);
    });
  });
});
