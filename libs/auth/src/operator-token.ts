import { hash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time check of a presented credential against OPERATOR_TOKEN. Both sides are hashed first so
 * the comparison has equal lengths and reveals nothing about the token's length either. The operator
 * token's own hash is taken once: every request with a bearer credential is checked against it.
 */
export function operatorTokenCheck(operatorToken: string | undefined): (presented: string) => boolean {
  if (!operatorToken) return () => false;
  const expected = hash('sha256', operatorToken, 'buffer');
  return (presented) => timingSafeEqual(hash('sha256', presented, 'buffer'), expected);
}
