import type { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { OutboundLookup } from '@mintline/common/dns-lookup';

/**
 * Where the service may send a request that carries a tenant's credentials (API.md, "Outbound
 * addresses"): only to public unicast addresses. Which ranges are public is ipaddr.js's knowledge
 * (its `unicast` range, after unwrapping IPv4-mapped IPv6), not a hand-kept list; names are checked
 * for the special-use suffixes that never lead to the public internet, and a name's addresses are
 * checked again each time a connection is made (see guardedLookup), since DNS may change its answer.
 */

export type OutboundHostVerdict =
  | { allowed: true }
  /** `reason` is safe to show: it names the kind of address, never what a name resolved to. */
  | { allowed: false; reason: string };

/**
 * ::/96, the IPv4-compatible IPv6 form RFC 4291 deprecated: ipaddr.js files it under `unicast`, yet
 * `::127.0.0.1` is no public address anyone would serve an API from.
 */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * Suffixes of names that are by definition not on the public internet: RFC 6761 (localhost, and
 * `.invalid`), RFC 6762 (`.local`), RFC 8375 (`home.arpa`), ICANN's private-use `.internal` (which
 * holds metadata.google.internal), and the customary `.localdomain`.
 */
const INTERNAL_NAME_SUFFIXES = ['localhost', 'local', 'localdomain', 'internal', 'invalid', 'home.arpa'];

/** The ipaddr.js range of an IP address in any textual form it reads (IPv4-mapped IPv6 unwrapped), or undefined. */
export function addressRange(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (!ipaddr.isValid(bare)) return undefined;
  const parsed = ipaddr.process(bare);
  const range = parsed.range();
  return range === 'unicast' && parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE) ? 'ipv4Compatible' : range;
}

/** True only for an IP address ipaddr.js calls unicast; anything unparsable is not public. */
export function isPublicAddress(address: string): boolean {
  return addressRange(address) === 'unicast';
}

/**
 * Checks a host as the WHATWG URL parser leaves it (`new URL(u).hostname`): that parser has already
 * turned every IPv4 spelling (decimal, octal, hex, shortened) into dotted decimal and bracketed IPv6,
 * so an address here is checked as the address it is; a name must not be internal.
 */
export function checkOutboundHost(hostname: string): OutboundHostVerdict {
  const host = hostname.toLowerCase();
  if (host.startsWith('[') || ipaddr.IPv4.isValidFourPartDecimal(host)) {
    const range = addressRange(host);
    return range === 'unicast' ? { allowed: true } : { allowed: false, reason: `must not be a ${describeRange(range)} address` };
  }
  // A fully qualified name may end with a dot; it names the same host.
  const name = host.replace(/\.$/, '');
  if (INTERNAL_NAME_SUFFIXES.some((suffix) => name === suffix || name.endsWith(`.${suffix}`))) {
    return { allowed: false, reason: 'must be a public host name, not an internal one' };
  }
  if (name === '' || !name.includes('.')) return { allowed: false, reason: 'must be a public host name, not a single-label name' };
  // Whatever else still reads as an address (a form the URL parser left alone) is judged as one.
  if (ipaddr.isValid(name)) return isPublicAddress(name) ? { allowed: true } : { allowed: false, reason: 'must not be a non-public address' };
  return { allowed: true };
}

export interface OutboundUrlRules {
  /** ALLOW_INSECURE_PROVIDER_URLS: also accept http (ws), and lift the public-address rule (local test doubles). */
  allowInsecure: boolean;
  /** Secure schemes accepted, without the colon. Default `['https']`; `wss` maps to `ws` when insecure is allowed. */
  schemes?: readonly ('https' | 'wss')[];
}

const INSECURE_COUNTERPART = { https: 'http', wss: 'ws' } as const;

/**
 * The field check for a tenant-supplied URL (credential fields such as `spaceUrl`): an absolute URL
 * of an allowed scheme, without credentials, query or fragment, whose host is public. Returns the
 * URL normalised (origin and path, no trailing slash: paths are appended to it) or a problem that
 * never repeats the value.
 */
export function checkOutboundUrl(value: string, rules: OutboundUrlRules): { value: string } | { problem: string } {
  const secure = rules.schemes ?? ['https'];
  const insecure = rules.allowInsecure ? secure.map((scheme) => INSECURE_COUNTERPART[scheme]) : [];
  const allowed: string[] = [...secure, ...insecure];
  const wanted = { problem: `must be an absolute ${secure.join(' or ')}${insecure.length > 0 ? ` (or ${insecure.join(' or ')})` : ''} URL` };
  // The WHATWG parser also accepts forms such as "https:host"; require the explicit "scheme://".
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (!scheme || !allowed.includes(scheme)) return wanted;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return wanted;
  }
  if (url.protocol !== `${scheme}:` || url.hostname === '') return wanted;
  // "https://@host" parses with an empty username, so look at the authority as written too.
  const authority = value.slice(value.indexOf('//') + 2).split(/[/\\?#]/)[0];
  if (url.username !== '' || url.password !== '' || authority.includes('@')) {
    return { problem: 'must not contain credentials' };
  }
  if (value.includes('?') || value.includes('#')) return { problem: 'must not contain a query or fragment' };
  if (!rules.allowInsecure) {
    const verdict = checkOutboundHost(url.hostname);
    if (!verdict.allowed) return { problem: `${verdict.reason}: only public addresses are reachable` };
  }
  return { value: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}

/** The error a guarded connection fails with when a name resolves to a non-public address; no socket was opened. */
export class OutboundAddressError extends Error {
  readonly code = 'ERR_OUTBOUND_ADDRESS_REFUSED';

  constructor(readonly hostname: string) {
    super(`${hostname} resolves to a non-public address; the connection was not made`);
    this.name = 'OutboundAddressError';
  }
}

/**
 * Wraps a DNS lookup so that a connection is only ever made to an address that was checked: every
 * address the name resolves to must be public (one inward answer refuses the whole name, so a
 * resolver that mixes answers cannot steer some connections inside). Node connects to exactly what
 * this hands back, and asks again for each new connection.
 */
export function guardedLookup(lookup: OutboundLookup): OutboundLookup {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, result, family) => {
      if (error) return callback(error, options.all ? [] : '', undefined);
      const addresses: LookupAddress[] = Array.isArray(result) ? result : [{ address: result, family: family ?? 0 }];
      if (addresses.length === 0 || addresses.some((entry) => !isPublicAddress(entry.address))) {
        return callback(new OutboundAddressError(hostname), options.all ? [] : '', undefined);
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

function describeRange(range: string | undefined): string {
  switch (range) {
    case 'loopback':
      return 'loopback';
    case 'private':
      return 'private (RFC 1918)';
    case 'linkLocal':
      return 'link-local';
    case 'uniqueLocal':
      return 'unique-local';
    case 'carrierGradeNat':
      return 'carrier-grade NAT';
    case 'unspecified':
      return 'unspecified';
    case 'multicast':
      return 'multicast';
    default:
      return 'non-public';
  }
}
