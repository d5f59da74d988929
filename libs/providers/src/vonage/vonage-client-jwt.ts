import { signRs256Jwt } from '../jwt/compact-jwt';

/**
 * The ACL of a Client SDK user token: the ten paths of Vonage's JWT/ACL guide, each open (`{}`), as the
 * contract fixes them (API.md, "Precise forms").
 */
export const VONAGE_CLIENT_SDK_ACL_PATHS = [
  '/*/users/**',
  '/*/conversations/**',
  '/*/sessions/**',
  '/*/devices/**',
  '/*/image/**',
  '/*/media/**',
  '/*/applications/**',
  '/*/push/**',
  '/*/knocking/**',
  '/*/legs/**',
] as const;

export interface VonageClientJwtInput {
  applicationId: string;
  privateKey: string;
  /** The Vonage user the token is for (`sub`). */
  subject: string;
  /** Seconds since the epoch: `iat`, and `exp = iat + ttlSeconds`. */
  issuedAt: number;
  ttlSeconds: number;
  /** Unique per token. */
  jti: string;
}

/** A Vonage Client SDK JWT: RS256 with the application's private key, `application_id`, `iat`, `exp`, `jti`, `sub`, `acl.paths`. */
export function buildVonageClientJwt(input: VonageClientJwtInput): string {
  const paths = Object.fromEntries(VONAGE_CLIENT_SDK_ACL_PATHS.map((path) => [path, {}]));
  const claims = {
    application_id: input.applicationId,
    iat: input.issuedAt,
    exp: input.issuedAt + input.ttlSeconds,
    jti: input.jti,
    sub: input.subject,
    acl: { paths },
  };
  return signRs256Jwt({ typ: 'JWT' }, claims, input.privateKey);
}
