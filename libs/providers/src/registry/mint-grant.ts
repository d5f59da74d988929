/**
 * What a token would grant, as an org's token policy judges it (API.md, "Token policies"). A mint that
 * declares it is checked against its org's policy for the provider before the provider is asked, and
 * its mint receives the grant in force: its lifetime possibly shortened, its publish rights possibly
 * taken. Declared here, with the providers that fill it in and honour it; the mint pipeline carries it.
 */
export interface MintGrant {
  /** The room, channel or video room the token is confined to; null when it names none. */
  room: string | null;
  /** The lifetime asked for, or the provider's own when it has a fixed one. */
  ttlSeconds: number;
  /** The provider's lifetime cannot be chosen (Sinch 600 s, Telnyx 86,400 s): a cap below it refuses the mint. */
  fixedTtl: boolean;
  /** Publish rights: asked for explicitly by the request, given by the provider's default, or none. */
  publish: 'asked' | 'default' | 'none';
}
