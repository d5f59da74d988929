import { createPrivateKey, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { checkCheckpointSignature, Checkpoint, checkpointSigningInput, signCheckpoint } from './audit-checkpoint';
import { AuditSigningKeys } from './audit-signing-keys';

/** RFC 8032 section 7.1, TEST 1: the secret key (seed), its public key, and the signature of the empty message. */
const RFC8032_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_EMPTY_SIGNATURE = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
/** PKCS#8 and SPKI DER prefixes of an Ed25519 key (RFC 8410). */
const PKCS8_PREFIX = '302e020100300506032b657004220420';
const SPKI_PREFIX = '302a300506032b6570032100';

const ORG = '3f1c7c2e-5b7a-4c1e-9d2f-0a1b2c3d4e5f';
const HASH = 'ab'.repeat(32);

function keyValue(id: string, key: KeyObject = generateKeyPairSync('ed25519').privateKey): string {
  return `${id}:${key.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`;
}

const rfcKeyValue = (id: string) => `${id}:${Buffer.from(PKCS8_PREFIX + RFC8032_SEED, 'hex').toString('base64')}`;

describe('checkpointSigningInput', () => {
  it('is the RFC 8785 canonical JSON of {at, hash, keyId, orgId, seq}, byte for byte', () => {
    const input = checkpointSigningInput({ seq: 42, orgId: ORG, keyId: 'a1', hash: HASH, at: '2026-11-26T12:00:00.000Z' });
    expect(input.toString('utf8')).toBe(`{"at":"2026-11-26T12:00:00.000Z","hash":"${HASH}","keyId":"a1","orgId":"${ORG}","seq":42}`);
    expect(input).toEqual(Buffer.from(`{"at":"2026-11-26T12:00:00.000Z","hash":"${HASH}","keyId":"a1","orgId":"${ORG}","seq":42}`, 'utf8'));
  });

  it('does not depend on the order the fields are given in', () => {
    const a = checkpointSigningInput({ at: '2026-01-02T03:04:05.678Z', hash: HASH, keyId: 'k', orgId: ORG, seq: 7 });
    const b = checkpointSigningInput({ seq: 7, orgId: ORG, keyId: 'k', hash: HASH, at: '2026-01-02T03:04:05.678Z' });
    expect(a).toEqual(b);
  });

  it('writes seq as a JSON number, also a large one', () => {
    const input = checkpointSigningInput({ at: '2026-01-02T03:04:05.678Z', hash: HASH, keyId: 'k', orgId: ORG, seq: 9007199254740991 });
    expect(input.toString('utf8')).toMatch(/"seq":9007199254740991}$/);
  });

  it.each([
    ['uppercase hex', { hash: 'AB'.repeat(32) }, /lowercase hex/],
    ['a short hash', { hash: 'ab' }, /lowercase hex/],
    ['a time without milliseconds', { at: '2026-11-26T12:00:00Z' }, /milliseconds/],
    ['a time with an offset', { at: '2026-11-26T13:00:00.000+01:00' }, /milliseconds/],
    ['an impossible date', { at: '2026-02-30T12:00:00.000Z' }, /milliseconds/],
    ['seq 0', { seq: 0 }, /positive integer/],
    ['a fractional seq', { seq: 1.5 }, /positive integer/],
    ['an unsafe seq', { seq: 2 ** 53 }, /positive integer/],
  ])('refuses %s: one checkpoint has one signed form', (_name, change, message) => {
    expect(() => checkpointSigningInput({ at: '2026-11-26T12:00:00.000Z', hash: HASH, keyId: 'a1', orgId: ORG, seq: 1, ...change })).toThrow(message);
  });
});

describe('signCheckpoint and checkCheckpointSignature', () => {
  it('signs with plain Ed25519 (RFC 8032 test vector 1 through the same key handling)', () => {
    const keys = AuditSigningKeys.parse(rfcKeyValue('rfc'));
    expect(keys.views()).toEqual([{ keyId: 'rfc', algorithm: 'Ed25519', publicKey: Buffer.from(SPKI_PREFIX + RFC8032_PUBLIC, 'hex').toString('base64') }]);
    expect(sign(null, Buffer.alloc(0), keys.signingKey).toString('hex')).toBe(RFC8032_EMPTY_SIGNATURE);
    // The checkpoint's signature is over exactly its canonical bytes.
    const checkpoint = signCheckpoint(keys, { orgId: ORG, seq: 42, hash: HASH, at: '2026-11-26T12:00:00.000Z' });
    expect(checkpoint.signature).toBe(
      sign(null, checkpointSigningInput(checkpoint), createPrivateKey({ key: Buffer.from(PKCS8_PREFIX + RFC8032_SEED, 'hex'), format: 'der', type: 'pkcs8' })).toString(
        'base64',
      ),
    );
    expect(checkpoint.signature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
  });

  it('verifies across a rotation: the first key signs, older keys still verify what they signed', () => {
    const [a, b] = [generateKeyPairSync('ed25519').privateKey, generateKeyPairSync('ed25519').privateKey];
    const before = AuditSigningKeys.parse(keyValue('A', a));
    const after = AuditSigningKeys.parse(`${keyValue('B', b)},${keyValue('A', a)}`);
    const old = signCheckpoint(before, { orgId: ORG, seq: 1, hash: HASH, at: '2026-11-26T12:00:00.000Z' });
    const fresh = signCheckpoint(after, { orgId: ORG, seq: 2, hash: 'cd'.repeat(32), at: '2026-11-26T12:00:01.000Z' });
    expect([old.keyId, fresh.keyId]).toEqual(['A', 'B']);
    expect(checkCheckpointSignature(after.publicKeys, old)).toEqual({ ok: true });
    expect(checkCheckpointSignature(after.publicKeys, fresh)).toEqual({ ok: true });
    expect(after.views().map((view) => view.keyId)).toEqual(['B', 'A']);
    // A ring without B does not know B's checkpoints.
    expect(checkCheckpointSignature(before.publicKeys, fresh)).toEqual({ ok: false, reason: 'unknown-key' });
    // After retiring A entirely, its checkpoints no longer verify: keep old keys while their checkpoints matter.
    expect(checkCheckpointSignature(AuditSigningKeys.parse(keyValue('B', b)).publicKeys, old)).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('refuses any change to a signed field, a flipped signature bit, or a key named falsely', () => {
    const keys = AuditSigningKeys.parse(`${keyValue('A')},${keyValue('B')}`);
    const checkpoint = signCheckpoint(keys, { orgId: ORG, seq: 5, hash: HASH, at: '2026-11-26T12:00:00.000Z' });
    const changed: Array<Partial<Checkpoint>> = [
      { seq: 6 },
      { hash: 'cd'.repeat(32) },
      { orgId: '3f1c7c2e-5b7a-4c1e-9d2f-0a1b2c3d4e60' },
      { at: '2026-11-26T12:00:00.001Z' },
      { keyId: 'B' },
    ];
    for (const change of changed) expect(checkCheckpointSignature(keys.publicKeys, { ...checkpoint, ...change })).toEqual({ ok: false, reason: 'bad-signature' });
    const flipped = Buffer.from(checkpoint.signature, 'base64');
    flipped[10] ^= 0x01;
    expect(checkCheckpointSignature(keys.publicKeys, { ...checkpoint, signature: flipped.toString('base64') })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(checkCheckpointSignature(keys.publicKeys, { ...checkpoint, signature: 'not base64!' })).toEqual({ ok: false, reason: 'malformed' });
    expect(checkCheckpointSignature(keys.publicKeys, { ...checkpoint, keyId: 'C' })).toEqual({ ok: false, reason: 'unknown-key' });
    expect(checkCheckpointSignature(keys.publicKeys, checkpoint)).toEqual({ ok: true });
  });
});
