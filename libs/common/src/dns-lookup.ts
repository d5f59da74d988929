import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';

/**
 * `dns.lookup`'s shape. The provider HTTP client connects through it (and checks what it answers), so
 * it is a process-wide dependency like the clock: `dns.lookup` in the service, and in tests a resolver
 * that can make a public-looking name resolve to a loopback address.
 */
export type OutboundLookup = (
  hostname: string,
  options: LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** Nest token for the DNS lookup outbound connections go through; `dns.lookup` unless CoreOptions names another. */
export const OUTBOUND_DNS_LOOKUP = Symbol('OUTBOUND_DNS_LOOKUP');

export const defaultOutboundLookup: OutboundLookup = dnsLookup as OutboundLookup;
