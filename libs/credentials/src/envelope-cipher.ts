import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MASTER_KEY_ID_PATTERN, MasterKeyRing } from './master-key-ring';

/**
 * One encrypted secret as stored (a jsonb value): AES-256-GCM under the master key `kid`, with
 * `nonce` (12 bytes), `ct` and `tag` (16 bytes) in standard padded base64. `v` names this format.
 */
export interface EncryptedSecret {
  v: 1;
  kid: string;
  nonce: string;
  ct: string;
  tag: string;
}

/** Where a secret belongs. It is bound into the ciphertext as associated data. */
export interface SecretContext {
  orgId: string;
  provider: string;
  field: string;
}

export type DecryptionFailure = 'malformed' | 'unknown-key' | 'authentication-failed';

/** Never carries key material, plaintext or ciphertext in its message. */
export class DecryptionError extends Error {
  constructor(
    readonly reason: DecryptionFailure,
    message: string,
  ) {
    super(message);
    this.name = 'DecryptionError';
  }
}

const FORMAT_VERSION = 1;
const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD_LABEL = 'mintline.credential-secret';

export class EnvelopeCipher {
  constructor(private readonly ring: MasterKeyRing) {
    if (!ring.keys.has(ring.primaryId)) throw new Error('The master key ring has no key for its primary id');
  }

  get primaryKeyId(): string {
    return this.ring.primaryId;
  }

  encrypt(plaintext: string, context: SecretContext): EncryptedSecret {
    const kid = this.ring.primaryId;
    const key = this.ring.keys.get(kid) as Buffer;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(kid, context));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      v: FORMAT_VERSION,
      kid,
      nonce: nonce.toString('base64'),
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  }

  /** `value` may come straight from the database: its shape is checked here. */
  decrypt(value: EncryptedSecret, context: SecretContext): string {
    if (!isEncryptedSecret(value)) {
      throw new DecryptionError('malformed', 'The stored secret is not a version 1 encrypted value');
    }
    const key = this.ring.keys.get(value.kid);
    if (!key) {
      throw new DecryptionError('unknown-key', `The stored secret names master key "${value.kid}", which is not configured`);
    }
    const nonce = decodeBase64(value.nonce);
    const ct = decodeBase64(value.ct);
    const tag = decodeBase64(value.tag);
    if (!nonce || nonce.length !== NONCE_BYTES || !ct || !tag || tag.length !== TAG_BYTES) {
      throw new DecryptionError('malformed', 'The stored secret has a malformed nonce, ciphertext or tag');
    }
    const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(value.kid, context));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptionError('authentication-failed', 'The stored secret failed authentication: it was altered, or belongs to another org, provider or field');
    }
  }

  /** True when the value was written under a key that is no longer the primary. */
  needsRewrap(value: EncryptedSecret): boolean {
    return value.kid !== this.ring.primaryId;
  }

  /** Decrypts (so the value is verified) and encrypts again under the primary key with a fresh nonce. */
  rewrap(value: EncryptedSecret, context: SecretContext): EncryptedSecret {
    return this.encrypt(this.decrypt(value, context), context);
  }
}

export function isEncryptedSecret(value: unknown): value is EncryptedSecret {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return (
    record.v === FORMAT_VERSION &&
    typeof record.kid === 'string' &&
    MASTER_KEY_ID_PATTERN.test(record.kid) &&
    typeof record.nonce === 'string' &&
    typeof record.ct === 'string' &&
    typeof record.tag === 'string'
  );
}

/**
 * JSON of a fixed-order array is unambiguous (each string is quoted and escaped), so no two contexts
 * share an encoding. The label and version keep these bytes from meaning anything in another format;
 * the kid is bound too so the header cannot be edited independently of the ciphertext.
 */
function associatedData(kid: string, context: SecretContext): Buffer {
  for (const name of ['orgId', 'provider', 'field'] as const) {
    if (typeof context[name] !== 'string' || context[name] === '') {
      throw new TypeError(`The secret's ${name} must be a non-empty string`);
    }
  }
  return Buffer.from(JSON.stringify([AAD_LABEL, FORMAT_VERSION, kid, context.orgId, context.provider, context.field]), 'utf8');
}

/** Strict: Buffer.from(..., 'base64') skips characters it does not know instead of failing. */
function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
