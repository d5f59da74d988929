import { randomBytes } from 'node:crypto';
import { DecryptionError, EncryptedSecret, EnvelopeCipher, SecretContext, isEncryptedSecret } from './envelope-cipher';
import { MasterKeyRing, parseMasterKeys } from './master-key-ring';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const ringA = parseMasterKeys(`k1:${k1}`);
const ringB = parseMasterKeys(`k2:${k2},k1:${k1}`);

const context: SecretContext = { orgId: '7f0c3a52-2f0e-4c53-9a55-1c2b8a7d6e01', provider: 'twilio', field: 'apiKeySecret' };
const plaintext = 'sk_live_0123456789abcdef';

function decryptError(run: () => unknown): DecryptionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DecryptionError);
    return error as DecryptionError;
  }
  throw new Error('expected a DecryptionError');
}

function flipBit(base64: string, byte = 0): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[byte] ^= 0x01;
  return bytes.toString('base64');
}

describe('EnvelopeCipher', () => {
  const cipher = new EnvelopeCipher(ringA);

  it('round-trips a secret', () => {
    const stored = cipher.encrypt(plaintext, context);
    expect(cipher.decrypt(stored, context)).toBe(plaintext);
  });

  it('round-trips empty and non-ASCII secrets', () => {
    for (const value of ['', 'pässwörd ✓ 🔑']) {
      expect(cipher.decrypt(cipher.encrypt(value, context), context)).toBe(value);
    }
  });

  it('stores {v, kid, nonce, ct, tag} in base64, with a 96-bit nonce and a 128-bit tag, and no plaintext', () => {
    const stored = cipher.encrypt(plaintext, context);
    expect(Object.keys(stored).sort()).toEqual(['ct', 'kid', 'nonce', 'tag', 'v']);
    expect(stored.v).toBe(1);
    expect(stored.kid).toBe('k1');
    expect(Buffer.from(stored.nonce, 'base64')).toHaveLength(12);
    expect(Buffer.from(stored.tag, 'base64')).toHaveLength(16);
    expect(Buffer.from(stored.ct, 'base64')).toHaveLength(Buffer.byteLength(plaintext));
    expect(JSON.stringify(stored)).not.toContain(plaintext);
    expect(isEncryptedSecret(JSON.parse(JSON.stringify(stored)))).toBe(true);
  });

  it('uses a fresh nonce each time, so the same plaintext gives different ciphertexts', () => {
    const values = Array.from({ length: 50 }, () => cipher.encrypt(plaintext, context));
    expect(new Set(values.map((value) => value.nonce)).size).toBe(50);
    expect(new Set(values.map((value) => value.ct)).size).toBe(50);
  });

  it.each([
    ['another org', { ...context, orgId: '7f0c3a52-2f0e-4c53-9a55-1c2b8a7d6e02' }],
    ['another provider', { ...context, provider: 'signalwire' }],
    ['another field', { ...context, field: 'apiToken' }],
  ])('refuses a ciphertext copied to %s', (_name, elsewhere) => {
    const stored = cipher.encrypt(plaintext, context);
    expect(decryptError(() => cipher.decrypt(stored, elsewhere)).reason).toBe('authentication-failed');
  });

  it('encodes the context unambiguously (no shifting characters between parts)', () => {
    const stored = cipher.encrypt(plaintext, { orgId: 'org', provider: 'a', field: 'bc' });
    expect(() => cipher.decrypt(stored, { orgId: 'org', provider: 'ab', field: 'c' })).toThrow(DecryptionError);
    expect(() => cipher.decrypt(stored, { orgId: 'org', provider: 'a","', field: 'bc' })).toThrow(DecryptionError);
  });

  it.each(['ct', 'tag', 'nonce'] as const)('refuses a flipped bit in %s', (part) => {
    const stored = cipher.encrypt(plaintext, context);
    for (const byte of [0, Buffer.from(stored[part], 'base64').length - 1]) {
      const tampered = { ...stored, [part]: flipBit(stored[part], byte) };
      expect(decryptError(() => cipher.decrypt(tampered, context)).reason).toBe('authentication-failed');
    }
  });

  it('refuses a value whose kid was swapped to another known key', () => {
    const both = new EnvelopeCipher(ringB);
    const stored = both.encrypt(plaintext, context);
    expect(decryptError(() => both.decrypt({ ...stored, kid: 'k1' }, context)).reason).toBe('authentication-failed');
  });

  it('refuses an unknown kid without revealing anything secret', () => {
    const stored = cipher.encrypt(plaintext, context);
    const error = decryptError(() => cipher.decrypt({ ...stored, kid: 'k9' }, context));
    expect(error.reason).toBe('unknown-key');
    expect(error.message).toContain('k9');
    for (const secret of [plaintext, k1, stored.ct, stored.tag]) expect(error.message).not.toContain(secret);
  });

  it('never puts the plaintext, ciphertext or key in an authentication failure', () => {
    const stored = cipher.encrypt(plaintext, context);
    const error = decryptError(() => cipher.decrypt({ ...stored, tag: flipBit(stored.tag) }, context));
    for (const secret of [plaintext, k1, stored.ct, stored.nonce]) expect(error.message).not.toContain(secret);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'v1.k1.a.b.c'],
    ['another version', { v: 2, kid: 'k1', nonce: '', ct: '', tag: '' }],
    ['a missing tag', { v: 1, kid: 'k1', nonce: '', ct: '' }],
    ['a kid that is not an id', { v: 1, kid: 'k 1', nonce: '', ct: '', tag: '' }],
  ])('refuses a malformed stored value: %s', (_name, value) => {
    expect(decryptError(() => cipher.decrypt(value as EncryptedSecret, context)).reason).toBe('malformed');
  });

  it.each([
    ['a short nonce', (stored: EncryptedSecret) => ({ ...stored, nonce: randomBytes(8).toString('base64') })],
    ['a long nonce', (stored: EncryptedSecret) => ({ ...stored, nonce: randomBytes(16).toString('base64') })],
    ['a short tag', (stored: EncryptedSecret) => ({ ...stored, tag: randomBytes(12).toString('base64') })],
    ['non-base64 ciphertext', (stored: EncryptedSecret) => ({ ...stored, ct: `${stored.ct}!` })],
  ])('refuses %s as malformed', (_name, alter) => {
    const stored = cipher.encrypt(plaintext, context);
    expect(decryptError(() => cipher.decrypt(alter(stored), context)).reason).toBe('malformed');
  });

  it('refuses an empty context part', () => {
    expect(() => cipher.encrypt(plaintext, { ...context, orgId: '' })).toThrow(/orgId/);
  });

  it('refuses a ring whose primary has no key', () => {
    const broken: MasterKeyRing = { primaryId: 'k2', keys: ringA.keys };
    expect(() => new EnvelopeCipher(broken)).toThrow(/primary/);
  });

  describe('key rotation', () => {
    const before = new EnvelopeCipher(ringA);
    const after = new EnvelopeCipher(ringB);

    it('still decrypts values written under a key that is no longer primary, and flags them for re-wrap', () => {
      const stored = before.encrypt(plaintext, context);
      expect(before.needsRewrap(stored)).toBe(false);
      expect(after.decrypt(stored, context)).toBe(plaintext);
      expect(after.needsRewrap(stored)).toBe(true);
    });

    it('writes new values under the new primary', () => {
      const stored = after.encrypt(plaintext, context);
      expect(stored.kid).toBe('k2');
      expect(after.needsRewrap(stored)).toBe(false);
    });

    it('re-wraps an old value under the new primary', () => {
      const stored = before.encrypt(plaintext, context);
      const rewrapped = after.rewrap(stored, context);
      expect(rewrapped.kid).toBe('k2');
      expect(rewrapped.nonce).not.toBe(stored.nonce);
      expect(after.needsRewrap(rewrapped)).toBe(false);
      expect(after.decrypt(rewrapped, context)).toBe(plaintext);
      // Once only k2 is configured, the re-wrapped value still decrypts and the old one does not.
      const onlyNew = new EnvelopeCipher(parseMasterKeys(`k2:${k2}`));
      expect(onlyNew.decrypt(rewrapped, context)).toBe(plaintext);
      expect(decryptError(() => onlyNew.decrypt(stored, context)).reason).toBe('unknown-key');
    });

    it('refuses to re-wrap a value under the wrong context', () => {
      const stored = before.encrypt(plaintext, context);
      expect(() => after.rewrap(stored, { ...context, field: 'other' })).toThrow(DecryptionError);
    });
  });
});
