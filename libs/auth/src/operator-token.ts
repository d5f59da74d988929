import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time check of a presented credential against OPERATOR_TOKEN. Both sides are hashed first so
 * the comparison has equal lengths and reveals nothing about the token's length either.
 */
export function isOperatorToken(presented: string, operatorToken: string | undefined): boolean {
  if (!operatorToken) return false;
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(operatorToken, 'utf8').digest();
  return timingSafeEqual(a, b);
}
