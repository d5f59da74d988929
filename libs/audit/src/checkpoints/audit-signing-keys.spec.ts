import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '@mintline/common/config';
import { AuditSigningKeys } from './audit-signing-keys';

const ed25519 = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');

describe('AuditSigningKeys.parse', () => {
  it('makes the first entry the signing key and keeps the others to verify', () => {
    const keys = AuditSigningKeys.parse(`new_2:${ed25519()}, old-1:${ed25519()}`);
    expect(keys.signingKeyId).toBe('new_2');
    expect([...keys.publicKeys.keys()]).toEqual(['new_2', 'old-1']);
    for (const view of keys.views()) {
      expect(view.algorithm).toBe('Ed25519');
      // SPKI DER of an Ed25519 key: 12 bytes of header and the 32-byte key.
      expect(Buffer.from(view.publicKey, 'base64')).toHaveLength(44);
    }
  });

  it.each([
    ['an empty value', () => '', /AUDIT_SIGNING_KEYS is empty/],
    ['an empty entry', () => `a:${ed25519()},`, /entry 2 is empty/],
    ['no id', () => ed25519(), /entry 1 has no "keyId:" prefix/],
    ['a bad id', () => `a b:${ed25519()}`, /entry 1 has an invalid key id/],
    ['a repeated id', () => `a:${ed25519()},a:${ed25519()}`, /key id "a" appears more than once/],
    ['more keys than the documented bound', () => Array.from({ length: 65 }, (_, i) => `k${i}:${ed25519()}`).join(','), /holds 65 keys; at most 64/],
    ['not base64', () => 'a:***', /not valid base64/],
    ['not a key', () => `a:${Buffer.from('not a key at all').toString('base64')}`, /not a PKCS#8 DER private key/],
    [
      'an RSA key',
      () => `a:${generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`,
      /is rsa, expected Ed25519/,
    ],
  ])('refuses %s, without echoing key material', (_name, value, message) => {
    const text = value();
    let error: Error | undefined;
    try {
      AuditSigningKeys.parse(text);
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.message).toMatch(message);
    const secret = text
      .split(',')
      .map((entry) => entry.slice(entry.indexOf(':') + 1))
      .find((part) => part.length > 16);
    if (secret) expect(error!.message).not.toContain(secret);
  });
});

describe('AuditSigningKeys.publicKeysFrom', () => {
  it('reads back what views() publishes', () => {
    const keys = AuditSigningKeys.parse(`a:${ed25519()},b:${ed25519()}`);
    const read = AuditSigningKeys.publicKeysFrom(JSON.parse(JSON.stringify(keys.views())));
    expect([...read.keys()]).toEqual(['a', 'b']);
    expect(read.get('a')!.equals(keys.publicKeys.get('a')!)).toBe(true);
  });

  it.each([
    ['not an array', { keyId: 'a' }, /JSON array/],
    ['another algorithm', [{ keyId: 'a', algorithm: 'RS256', publicKey: 'AAAA' }], /Ed25519/],
    ['a bad key', [{ keyId: 'a', algorithm: 'Ed25519', publicKey: 'AAAA' }], /not a base64 SPKI DER public key/],
    ['no key id', [{ algorithm: 'Ed25519', publicKey: 'AAAA' }], /no valid keyId/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => AuditSigningKeys.publicKeysFrom(value)).toThrow(message);
  });
});

describe('AUDIT_SIGNING_KEYS in the configuration', () => {
  const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://x@127.0.0.1/x', MASTER_KEYS: 'k1:x', JWT_SECRET: 'x' };

  it('is required with NODE_ENV=production, like MASTER_KEYS', () => {
    expect(() => AppConfig.fromEnv(production)).toThrow(/NODE_ENV=production requires AUDIT_SIGNING_KEYS/);
    const value = `a1:${ed25519()}`;
    expect(AppConfig.fromEnv({ ...production, AUDIT_SIGNING_KEYS: value }).auditSigningKeys).toBe(value);
  });

  it('outside production is generated once under the data folder (mode 0600) and kept', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mintline-config-'));
    try {
      const first = AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir }).auditSigningKeys;
      expect(AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir }).auditSigningKeys).toBe(first);
      expect(statSync(join(dataDir, 'audit-signing-keys')).mode & 0o777).toBe(0o600);
      const keys = AuditSigningKeys.parse(first);
      expect(keys.signingKeyId).toBe('a1');
      expect(keys.signingKey.asymmetricKeyType).toBe('ed25519');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
