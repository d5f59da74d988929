import { createHmac, createPrivateKey, sign } from 'node:crypto';

/**
 * A JWT in compact form (RFC 7519), signed with node:crypto: the header and claims are serialised in the
 * order given, as the vendors' own builders do, so a token can be compared with theirs field by field.
 */
export function signHs256Jwt(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string): string {
  if (secret.length === 0) throw new Error('An HS256 JWT needs a non-empty secret'); // HMAC would accept an empty key
  const signingInput = `${encodeSegment({ alg: 'HS256', ...header })}.${encodeSegment(claims)}`;
  return `${signingInput}.${createHmac('sha256', Buffer.from(secret, 'utf8')).update(signingInput, 'utf8').digest('base64url')}`;
}

/** RS256 (RSASSA-PKCS1-v1_5 with SHA-256) with an RSA private key in PEM. */
export function signRs256Jwt(header: Record<string, unknown>, claims: Record<string, unknown>, privateKeyPem: string): string {
  const key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  if (key.asymmetricKeyType !== 'rsa') throw new Error('An RS256 JWT needs an RSA private key');
  const signingInput = `${encodeSegment({ alg: 'RS256', ...header })}.${encodeSegment(claims)}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput, 'utf8'), key).toString('base64url')}`;
}

function encodeSegment(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}
