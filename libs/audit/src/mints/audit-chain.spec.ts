import { createHash } from 'node:crypto';
import { canonicalContent, chainHash, ChainedContent, GENESIS_HASH, tokenFingerprint } from './audit-chain';

const entry = (overrides: Partial<ChainedContent> = {}): ChainedContent => ({
  id: '0b8f6a6e-3a4e-4c55-9a55-0d6c0b1f7a01',
  orgId: '6f3c1d2e-8b7a-4e59-a1c2-3d4e5f607182',
  seq: 7,
  at: new Date('2026-03-04T05:06:07.089Z'),
  provider: 'sinch',
  action: 'mint',
  actorKind: 'user',
  actorId: '11111111-2222-4333-8444-555555555555',
  subjectUserId: '11111111-2222-4333-8444-555555555555',
  target: 'sinch:a32e5a8d-f7d8-411c-9645-9038e8dd051d',
  outcome: 'issued',
  code: null,
  tokenFingerprint: '0123456789abcdef',
  expiresAt: new Date('2026-03-04T05:16:07.089Z'),
  ip: '203.0.113.9',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  requestId: 'req-1',
  ...overrides,
});

describe('canonicalContent', () => {
  it('is a JSON array with a version tag and every field in a fixed order, times as ISO strings', () => {
    expect(JSON.parse(canonicalContent(entry()))).toEqual([
      'mintline.mint-audit.v1',
      '0b8f6a6e-3a4e-4c55-9a55-0d6c0b1f7a01',
      '6f3c1d2e-8b7a-4e59-a1c2-3d4e5f607182',
      '7',
      '2026-03-04T05:06:07.089Z',
      'sinch',
      'mint',
      'user',
      '11111111-2222-4333-8444-555555555555',
      '11111111-2222-4333-8444-555555555555',
      'sinch:a32e5a8d-f7d8-411c-9645-9038e8dd051d',
      'issued',
      null,
      '0123456789abcdef',
      '2026-03-04T05:16:07.089Z',
      '203.0.113.9',
      'Mozilla/5.0 (X11; Linux x86_64)',
      'req-1',
    ]);
  });

  it('does not depend on the order the entry object was built in', () => {
    const original = entry();
    const reversed = Object.fromEntries(Object.entries(original).reverse()) as unknown as ChainedContent;
    expect(canonicalContent(reversed)).toBe(canonicalContent(original));
  });

  it('keeps field boundaries: moving characters between neighbouring fields changes the text', () => {
    const a = entry({ ip: 'ab', userAgent: 'c' });
    const b = entry({ ip: 'a', userAgent: 'bc' });
    expect(canonicalContent(a)).not.toBe(canonicalContent(b));
    // Separators inside a value cannot fake a boundary either.
    const c = entry({ ip: '1","2', userAgent: null });
    const d = entry({ ip: '1', userAgent: '2' });
    expect(canonicalContent(c)).not.toBe(canonicalContent(d));
  });

  it('tells null, the empty string and the text "null" apart', () => {
    const texts = new Set([canonicalContent(entry({ code: null })), canonicalContent(entry({ code: '' })), canonicalContent(entry({ code: 'null' }))]);
    expect(texts.size).toBe(3);
  });
});

describe('chainHash', () => {
  it('is SHA-256 of the previous hash followed by the canonical text (UTF-8)', () => {
    const previous = Buffer.alloc(32, 0xab);
    const content = entry({ userAgent: 'Zoë/1.0 ☎' });
    const expected = createHash('sha256')
      .update(Buffer.concat([previous, Buffer.from(canonicalContent(content), 'utf8')]))
      .digest();
    expect(chainHash(previous, content)).toEqual(expected);
    expect(chainHash(previous, content)).toHaveLength(32);
  });

  it('is the same for texts of any length, also past the reused buffer (and one after another)', () => {
    const previous = Buffer.alloc(32, 0x5c);
    for (const length of [0, 100, 5461, 5462, 20_000, 3]) {
      const content = entry({ userAgent: '☎'.repeat(length) });
      const expected = createHash('sha256')
        .update(Buffer.concat([previous, Buffer.from(canonicalContent(content), 'utf8')]))
        .digest();
      expect({ length, hash: chainHash(previous, content).toString('hex') }).toEqual({ length, hash: expected.toString('hex') });
    }
  });

  it('starts from a genesis hash of 32 zero bytes', () => {
    expect(GENESIS_HASH).toEqual(Buffer.alloc(32));
  });

  it('is deterministic', () => {
    expect(chainHash(GENESIS_HASH, entry())).toEqual(chainHash(GENESIS_HASH, entry()));
  });

  const changes: Array<[keyof ChainedContent, unknown]> = [
    ['id', '0b8f6a6e-3a4e-4c55-9a55-0d6c0b1f7a02'],
    ['orgId', '6f3c1d2e-8b7a-4e59-a1c2-3d4e5f607183'],
    ['seq', 8],
    ['at', new Date('2026-03-04T05:06:07.090Z')],
    ['provider', 'twilio'],
    ['action', 'revoke'],
    ['actorKind', 'api_key'],
    ['actorId', null],
    ['subjectUserId', '11111111-2222-4333-8444-555555555556'],
    ['target', null],
    ['outcome', 'denied'],
    ['code', 'MISSING_SCOPE'],
    ['tokenFingerprint', '0123456789abcdee'],
    ['expiresAt', null],
    ['ip', '203.0.113.10'],
    ['userAgent', 'curl/8.0'],
    ['requestId', 'req-2'],
  ];

  it.each(changes)('changes when %s changes', (field, value) => {
    const original = chainHash(GENESIS_HASH, entry());
    expect(chainHash(GENESIS_HASH, entry({ [field]: value } as Partial<ChainedContent>))).not.toEqual(original);
  });

  it('covers every field of an entry', () => {
    // A new field must be added to the canonical content (and to the list above).
    expect(changes.map(([field]) => field).sort()).toEqual(Object.keys(entry()).sort());
  });

  it('changes when the previous hash changes, so entries cannot be reordered or spliced', () => {
    const content = entry();
    const other = Buffer.from(GENESIS_HASH);
    other[31] = 1;
    expect(chainHash(other, content)).not.toEqual(chainHash(GENESIS_HASH, content));
  });

  it('chains: each hash depends on the whole history', () => {
    const first = chainHash(GENESIS_HASH, entry({ seq: 1 }));
    const second = chainHash(first, entry({ seq: 2 }));
    const forgedFirst = chainHash(GENESIS_HASH, entry({ seq: 1, userAgent: 'forged' }));
    expect(chainHash(forgedFirst, entry({ seq: 2 }))).not.toEqual(second);
  });
});

describe('tokenFingerprint', () => {
  it('is the first 16 hex characters of SHA-256 of the token', () => {
    // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    expect(tokenFingerprint('abc')).toBe('ba7816bf8f01cfea');
    const token = 'eyJhbGciOiJIUzI1NiJ9.e30.sig';
    expect(tokenFingerprint(token)).toBe(createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 16));
    expect(tokenFingerprint(token)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('hashes the token as UTF-8', () => {
    expect(tokenFingerprint('ä')).toBe(
      createHash('sha256')
        .update(Buffer.from([0xc3, 0xa4]))
        .digest('hex')
        .slice(0, 16),
    );
  });
});
