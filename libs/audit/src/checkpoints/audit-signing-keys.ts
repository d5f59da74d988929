import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { KEY_ID_PATTERN, PADDED_BASE64, parseKeyList } from '@mintline/common/key-list';

export const AUDIT_SIGNING_KEY_ID_PATTERN = KEY_ID_PATTERN;
/** A ring this size covers years of rotations; the public-keys answer documents it as its bound. */
export const MAX_AUDIT_SIGNING_KEYS = 64;

/** A public key as `GET /api/audit/public-keys` answers it and `--public-keys FILE` reads it. */
export interface AuditPublicKeyView {
  keyId: string;
  algorithm: 'Ed25519';
  /** SPKI DER, standard base64. */
  publicKey: string;
}

/**
 * The Ed25519 keys that sign audit checkpoints, parsed from `AUDIT_SIGNING_KEYS`
 * (`keyId:base64 PKCS#8 DER,...`). The first signs; the others remain only to verify what they signed
 * (rotation). The private keys live in this process only, never in the database. Keys are parsed into
 * KeyObjects once, so signing a checkpoint costs one Ed25519 signature and nothing more.
 */
export class AuditSigningKeys {
  readonly signingKeyId: string;
  readonly signingKey: KeyObject;
  /** Every key of the ring by id, the signing key first. */
  readonly publicKeys: ReadonlyMap<string, KeyObject>;

  constructor(privateKeys: ReadonlyMap<string, KeyObject>) {
    const [first] = privateKeys.entries();
    if (!first) throw new Error('AUDIT_SIGNING_KEYS holds no key');
    [this.signingKeyId, this.signingKey] = first;
    this.publicKeys = new Map([...privateKeys].map(([id, key]) => [id, createPublicKey(key)]));
  }

  /**
   * Parses the env value. Errors name an entry by its position (and its id once that is known to be an
   * id), never by its text: a malformed entry may be a bare private key.
   */
  static parse(value: string): AuditSigningKeys {
    const keys = new Map<string, KeyObject>();
    const format = {
      setting: 'AUDIT_SIGNING_KEYS',
      idLabel: 'keyId',
      entry: 'keyId:base64 PKCS#8 DER',
      whole: 'keyId:base64 PKCS#8 DER Ed25519 private key,...',
      maxEntries: MAX_AUDIT_SIGNING_KEYS,
    };
    for (const { position, id, encoded } of parseKeyList(value, format)) {
      if (encoded === '' || !PADDED_BASE64.test(encoded)) {
        throw new Error(`${position} (key id "${id}"): the key is not valid base64 (standard alphabet, with = padding)`);
      }
      let key: KeyObject;
      try {
        key = createPrivateKey({ key: Buffer.from(encoded, 'base64'), format: 'der', type: 'pkcs8' });
      } catch {
        throw new Error(`${position} (key id "${id}"): the key is not a PKCS#8 DER private key`);
      }
      if (key.asymmetricKeyType !== 'ed25519') {
        throw new Error(`${position} (key id "${id}"): the key is ${key.asymmetricKeyType ?? 'not asymmetric'}, expected Ed25519`);
      }
      keys.set(id, key);
    }
    return new AuditSigningKeys(keys);
  }

  /** Every key of the ring, signing key first, as published. */
  views(): AuditPublicKeyView[] {
    return [...this.publicKeys].map(([keyId, key]) => ({ keyId, algorithm: 'Ed25519', publicKey: key.export({ format: 'der', type: 'spki' }).toString('base64') }));
  }

  /** Public keys from a published list (the `--public-keys` file of an offline verification). */
  static publicKeysFrom(views: unknown): Map<string, KeyObject> {
    if (!Array.isArray(views)) throw new Error('the public keys are a JSON array of {keyId, algorithm, publicKey}, as GET /api/audit/public-keys answers');
    const keys = new Map<string, KeyObject>();
    for (const [index, view] of views.entries()) {
      const { keyId, algorithm, publicKey } = (view ?? {}) as Partial<AuditPublicKeyView>;
      const position = `public key ${index + 1}`;
      if (typeof keyId !== 'string' || !AUDIT_SIGNING_KEY_ID_PATTERN.test(keyId)) throw new Error(`${position} has no valid keyId`);
      if (algorithm !== 'Ed25519') throw new Error(`${position} (${keyId}): algorithm must be "Ed25519"`);
      if (keys.has(keyId)) throw new Error(`${position}: key id "${keyId}" appears more than once`);
      let key: KeyObject;
      try {
        if (typeof publicKey !== 'string' || !PADDED_BASE64.test(publicKey)) throw new Error('not base64');
        key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
      } catch {
        throw new Error(`${position} (${keyId}): publicKey is not a base64 SPKI DER public key`);
      }
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${position} (${keyId}): the key is not an Ed25519 key`);
      keys.set(keyId, key);
    }
    return keys;
  }
}
