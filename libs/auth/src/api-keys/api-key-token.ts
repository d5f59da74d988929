import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'mlk_';
/** `mlk_` + 32 random bytes in base64url = 47 characters. */
const API_KEY_PATTERN = /^mlk_[A-Za-z0-9_-]{43,}$/;

export function generateApiKeyToken(): { token: string; hash: Buffer; prefix: string } {
  const token = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { token, hash: hashApiKeyToken(token), prefix: token.slice(0, 12) };
}

/** API keys carry 256 bits of randomness, so a plain SHA-256 is enough to store and look them up. */
export function hashApiKeyToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function looksLikeApiKey(value: string): boolean {
  return API_KEY_PATTERN.test(value);
}
