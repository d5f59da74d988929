import { GENESIS_HASH } from '../mints/audit-chain';
import { ChainTrust, CommittedHead, HeadRef } from './chain-trust';

const ORG = '3f1c7c2e-5b7a-4c1e-9d2f-0a1b2c3d4e5f';
const OTHER = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

const head = (seq: number, fill: number): HeadRef => ({ seq, hash: Buffer.alloc(32, fill) });
const genesis: HeadRef = { seq: 0, hash: GENESIS_HASH };
const batch = (from: HeadRef, to: HeadRef, orgId = ORG): CommittedHead => ({ orgId, from, seq: to.seq, hash: to.hash });

describe('ChainTrust', () => {
  it('trusts a chain this instance started from genesis, batch after batch', () => {
    const trust = new ChainTrust();
    const first = batch(genesis, head(3, 1));
    expect(trust.judge(first)).toBe('sign');
    trust.advance(first);
    const second = batch(head(3, 1), head(5, 2));
    expect(trust.judge(second)).toBe('sign');
    trust.advance(second);
    expect(trust.untrustedBase(ORG)).toBeUndefined();
  });

  it('asks about a head it did not commit: the first batch of an org found in the database, or a head another writer moved', () => {
    const trust = new ChainTrust();
    expect(trust.judge(batch(head(7, 1), head(8, 2)))).toBe('ask');
    trust.covered(ORG, head(7, 1));
    const mine = batch(head(7, 1), head(8, 2));
    expect(trust.judge(mine)).toBe('sign');
    trust.advance(mine);
    // Someone else moved the head from 8 to 9: a batch starting at 9 is asked about again.
    expect(trust.judge(batch(head(9, 3), head(10, 4)))).toBe('ask');
    // The same seq with another hash is another head.
    expect(trust.judge(batch(head(8, 9), head(9, 4)))).toBe('ask');
    // Orgs are judged apart.
    expect(trust.judge(batch(head(8, 2), head(9, 4), OTHER))).toBe('ask');
  });

  it('withholds every batch built on a head no checkpoint covered, until one turns up', () => {
    const trust = new ChainTrust();
    const forged = head(9, 3);
    trust.uncovered(ORG, forged);
    const onForged = batch(forged, head(10, 4));
    expect(trust.judge(onForged)).toBe('withhold');
    trust.advance(onForged);
    const next = batch(head(10, 4), head(12, 5));
    expect(trust.judge(next)).toBe('withhold');
    trust.advance(next);
    expect(trust.untrustedBase(ORG)).toEqual(forged);

    // A checkpoint covering the base (another instance signing late) makes the whole chain since trusted.
    trust.baseCovered(ORG);
    expect(trust.untrustedBase(ORG)).toBeUndefined();
    expect(trust.judge(batch(head(12, 5), head(13, 6)))).toBe('sign');
  });

  it('a head covered where another writer left it does not vouch for the untrusted chain before it', () => {
    const trust = new ChainTrust();
    trust.uncovered(ORG, head(9, 3));
    trust.advance(batch(head(9, 3), head(10, 4)));
    trust.covered(ORG, head(20, 7));
    expect(trust.judge(batch(head(10, 4), head(11, 5)))).toBe('ask');
    expect(trust.judge(batch(head(20, 7), head(21, 8)))).toBe('sign');
    // A trusted chain has no base to cover.
    trust.baseCovered(ORG);
    expect(trust.judge(batch(head(10, 4), head(11, 5)))).toBe('ask');
  });
});
