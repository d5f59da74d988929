import { createHmac } from 'node:crypto';

/** How long a registration token is accepted by Sinch after `iat`. */
export const SINCH_REGISTRATION_TOKEN_TTL_SECONDS = 600;

export interface SinchRegistrationTokenInput {
  applicationKey: string;
  /** Base64-encoded, exactly as shown in the Sinch dashboard. */
  applicationSecret: string;
  userId: string;
  issuedAt: Date;
  nonce: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/** `YYYYMMDD` of the instant in UTC; never local time, or kid and key disagree with Sinch near midnight. */
export function sinchKeyDate(instant: Date): string {
  const year = String(instant.getUTCFullYear()).padStart(4, '0');
  const month = String(instant.getUTCMonth() + 1).padStart(2, '0');
  const day = String(instant.getUTCDate()).padStart(2, '0');
  return `${year}${month}${day}`;
}

/** The per-day HS256 key (`kid` `hkdfv1-YYYYMMDD`): HMAC-SHA256(decoded application secret, "YYYYMMDD"). */
export function deriveSinchSigningKey(applicationSecret: string, keyDate: string): Buffer {
  // Buffer.from(…, 'base64') silently skips bad characters, so check first rather than sign with a wrong key.
  if (applicationSecret.length === 0 || !BASE64.test(applicationSecret)) {
    throw new Error('Sinch application secret must be non-empty base64');
  }
  return createHmac('sha256', Buffer.from(applicationSecret, 'base64')).update(keyDate, 'utf8').digest();
}

/**
 * A Sinch RTC user registration JWT, byte for byte as Sinch's reference implementation builds it
 * (github.com/sinch/sinch-rtc-api-auth-examples): compact JSON, header `{alg, kid}` without `typ`,
 * claims in sorted key order. Signed by hand so the encoded JSON is exactly what we choose.
 */
export function createSinchRegistrationToken(input: SinchRegistrationTokenInput): string {
  const { applicationKey, applicationSecret, userId, issuedAt, nonce } = input;
  const iatMs = issuedAt.getTime();
  if (!Number.isFinite(iatMs)) {
    throw new Error('issuedAt must be a valid date');
  }
  const iat = Math.floor(iatMs / 1000);
  // The key date comes from the same whole second as iat, so kid, key and iat always agree.
  const keyDate = sinchKeyDate(new Date(iat * 1000));
  const application = `//rtc.sinch.com/applications/${applicationKey}`;

  const header = { alg: 'HS256', kid: `hkdfv1-${keyDate}` };
  const claims = {
    exp: iat + SINCH_REGISTRATION_TOKEN_TTL_SECONDS,
    iat,
    iss: application,
    nonce,
    sub: `${application}/users/${userId}`,
  };

  const signingInput = `${base64Url(JSON.stringify(header))}.${base64Url(JSON.stringify(claims))}`;
  const signature = createHmac('sha256', deriveSinchSigningKey(applicationSecret, keyDate)).update(signingInput, 'utf8').digest('base64url');
  return `${signingInput}.${signature}`;
}

function base64Url(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64url');
}
