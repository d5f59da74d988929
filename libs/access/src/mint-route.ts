/**
 * The metadata key of a route that hands out tokens (set by minting's `@MintRoute`, whose value is the
 * audit provider). Declared in this kernel so that access code can tell a mint route (a refusal there is
 * a denied mint, audited by the pipeline) without depending on minting or audit.
 */
export const MINT_ROUTE = 'mintline:mint-route';
