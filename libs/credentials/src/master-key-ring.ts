import { KEY_ID_PATTERN, PADDED_BASE64, parseKeyList } from '@mintline/common/key-list';

/**
 * The master keys that wrap credential secrets, parsed from `MASTER_KEYS` (`id:base64key,...`).
 * The first entry is the primary: new encryptions use it, the others remain only to decrypt (rotation).
 */
export interface MasterKeyRing {
  readonly primaryId: string;
  readonly keys: ReadonlyMap<string, Buffer>;
}

export const MASTER_KEY_BYTES = 32;

export const MASTER_KEY_ID_PATTERN = KEY_ID_PATTERN;

/** Each key: canonical base64 of 32 bytes (the entries' shared rules: parseKeyList). */
export function parseMasterKeys(value: string): MasterKeyRing {
  const keys = new Map<string, Buffer>();
  for (const { position, id, encoded } of parseKeyList(value, { setting: 'MASTER_KEYS', idLabel: 'id', entry: 'id:base64key', whole: 'id:base64key,...' })) {
    const key = decodeKey(encoded);
    if (!key) {
      throw new Error(`${position} (key id "${id}"): the key is not valid base64 (standard alphabet, with = padding)`);
    }
    if (key.length !== MASTER_KEY_BYTES) {
      throw new Error(`${position} (key id "${id}"): the key decodes to ${key.length} bytes, expected ${MASTER_KEY_BYTES}`);
    }
    keys.set(id, key);
  }
  // Maps keep insertion order: the first id is the first entry's.
  const [primaryId] = keys.keys();
  return { primaryId, keys };
}

function decodeKey(encoded: string): Buffer | undefined {
  if (encoded === '' || encoded.length % 4 !== 0 || !PADDED_BASE64.test(encoded)) return undefined;
  const key = Buffer.from(encoded, 'base64');
  // Non-zero padding bits decode silently; require the canonical form so one key has one spelling.
  return key.toString('base64') === encoded ? key : undefined;
}
