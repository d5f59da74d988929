/** Standard base64 with its `=` padding, as key settings and secrets are written. */
export const PADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A key id of a key-ring setting: 1-32 characters of A-Z, a-z, 0-9, "_" or "-". */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** One entry of a key-ring setting, its id checked; what `encoded` must decode to is the ring's own rule. */
export interface KeyListEntry {
  /** How errors name the entry ("MASTER_KEYS entry 2"): by position, never by its text. */
  position: string;
  id: string;
  encoded: string;
}

export interface KeyListFormat {
  /** The setting's name, e.g. MASTER_KEYS. */
  setting: string;
  /** What the id is called in the expected form, e.g. "id" or "keyId". */
  idLabel: string;
  /** One entry as it is expected, e.g. "id:base64key". */
  entry: string;
  /** The whole value as it is expected, e.g. "id:base64key,...". */
  whole: string;
  maxEntries?: number;
}

/**
 * Splits a key-ring setting (`id:base64,...`, the first entry the primary) into its entries, checking
 * what every ring asks alike: at least one entry, none empty, each with a valid id, no id twice, at most
 * `maxEntries`. Entries come one at a time, so a ring's own check of entry 1 speaks before a problem of
 * entry 2 is looked for. Errors name an entry by its position (and its id once that is known to be an id), never
 * by its text: a malformed entry may be a bare key.
 */
export function* parseKeyList(value: string, format: KeyListFormat): Generator<KeyListEntry> {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`${format.setting} is empty: expected "${format.whole}" with at least one key`);
  }
  const rawEntries = value.split(',');
  if (format.maxEntries !== undefined && rawEntries.length > format.maxEntries) {
    throw new Error(`${format.setting} holds ${rawEntries.length} keys; at most ${format.maxEntries}`);
  }
  const seen = new Set<string>();
  for (const [index, rawEntry] of rawEntries.entries()) {
    const position = `${format.setting} entry ${index + 1}`;
    const entry = rawEntry.trim();
    if (entry === '') throw new Error(`${position} is empty`);
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`${position} has no "${format.idLabel}:" prefix: expected "${format.entry}"`);
    const id = entry.slice(0, colon);
    if (!KEY_ID_PATTERN.test(id)) {
      throw new Error(`${position} has an invalid key id: ids are 1-32 characters of A-Z, a-z, 0-9, "_" or "-"`);
    }
    if (seen.has(id)) throw new Error(`${position}: key id "${id}" appears more than once`);
    seen.add(id);
    yield { position, id, encoded: entry.slice(colon + 1) };
  }
}
