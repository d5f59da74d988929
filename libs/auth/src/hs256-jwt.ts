import { createHmac, createSecretKey, KeyObject, timingSafeEqual } from 'node:crypto';

/** Claims every token of this kind carries (RFC 7519 names). */
export interface Hs256Claims {
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  [claim: string]: unknown;
}

/** The header the service's tokens carry (@nestjs/jwt writes exactly this); a token whose header says anything else is refused. */
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), 'utf8').toString('base64url');
/** Longer than any token this service issues, by far: a bigger one is refused before any work. */
const MAX_TOKEN_LENGTH = 4096;
/** A SHA-256 MAC in base64url, unpadded. */
const SIGNATURE_LENGTH = 43;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Compact JWS with HS256, verified with one prepared key (RFC 7515, 7519, 8725), in place of
 * jsonwebtoken on the hot path (every request with an access token verifies one). Checks:
 * - the algorithm is pinned: the header must be exactly {"alg":"HS256","typ":"JWT"} or another
 *   spelling of those two fields only, so `none`, another algorithm, `kid`, `jku`, `crit`... are refused;
 * - the signature is the MAC of the first two parts, compared in constant time, in its one canonical
 *   base64url spelling;
 * - the payload is a JSON object; `exp` is required and must be a number in the future; `iat` and `nbf`,
 *   when present, must be numbers and `nbf` not in the future; `iss` and `aud` must be the expected ones.
 */
export class Hs256Jwt {
  private readonly key: KeyObject;

  constructor(secret: string | Buffer) {
    this.key = createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  }

  /** The claims of a token this key signed that is valid at `nowSeconds` for this issuer and audience, else undefined. */
  verify(token: string, options: { nowSeconds: number; issuer: string; audience: string }): Hs256Claims | undefined {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    if (firstDot <= 0 || lastDot === firstDot || token.indexOf('.', firstDot + 1) !== lastDot) return undefined;
    const header = token.slice(0, firstDot);
    const payload = token.slice(firstDot + 1, lastDot);
    const signature = token.slice(lastDot + 1);
    if (signature.length !== SIGNATURE_LENGTH || !BASE64URL.test(header) || !BASE64URL.test(payload) || !BASE64URL.test(signature)) return undefined;
    if (header !== HEADER && !isPinnedHeader(header)) return undefined;
    // The signature's one canonical spelling: base64url leaves the last character's low bits free.
    const expected = Buffer.from(this.mac(token.slice(0, lastDot)).toString('base64url'), 'latin1');
    if (!timingSafeEqual(expected, Buffer.from(signature, 'latin1'))) return undefined;
    const claims = parseObject(payload);
    if (!claims) return undefined;
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp) || options.nowSeconds >= claims.exp) return undefined;
    if (claims.iat !== undefined && (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat))) return undefined;
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || !Number.isFinite(claims.nbf) || claims.nbf > options.nowSeconds)) return undefined;
    if (claims.iss !== options.issuer || claims.aud !== options.audience) return undefined;
    return claims as Hs256Claims;
  }

  private mac(signingInput: string): Buffer {
    return createHmac('sha256', this.key).update(signingInput, 'latin1').digest();
  }
}

/** A header with other spacing or field order than ours, still only {alg: HS256, typ?: JWT}. */
function isPinnedHeader(encoded: string): boolean {
  const header = parseObject(encoded);
  if (!header || header.alg !== 'HS256') return false;
  return Object.keys(header).every((name) => name === 'alg' || (name === 'typ' && header.typ === 'JWT'));
}

function parseObject(encoded: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
