/**
 * The master keys that wrap credential secrets, parsed from `MASTER_KEYS` (`id:base64key,...`).
 * The first entry is the primary: new encryptions use it, the others remain only to decrypt (rotation).
 */
export interface MasterKeyRing {
  readonly primaryId: string;
  readonly keys: ReadonlyMap<string, Buffer>;
}

export const MASTER_KEY_BYTES = 32;

export const MASTER_KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const PADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Errors name an entry by its position (and its id once that is known to be an id), never by its
 * text: a malformed entry may be a bare key.
 */
export function parseMasterKeys(value: string): MasterKeyRing {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error('MASTER_KEYS is empty: expected "id:base64key,..." with at least one key');
  }
  const keys = new Map<string, Buffer>();
  for (const [index, rawEntry] of value.split(',').entries()) {
    const position = `MASTER_KEYS entry ${index + 1}`;
    const entry = rawEntry.trim();
    if (entry === '') throw new Error(`${position} is empty`);
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`${position} has no "id:" prefix: expected "id:base64key"`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!MASTER_KEY_ID_PATTERN.test(id)) {
      throw new Error(`${position} has an invalid key id: ids are 1-32 characters of A-Z, a-z, 0-9, "_" or "-"`);
    }
    if (keys.has(id)) throw new Error(`${position}: key id "${id}" appears more than once`);
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
