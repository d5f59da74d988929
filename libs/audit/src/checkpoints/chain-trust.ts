import { GENESIS_HASH } from '../mints/audit-chain';

/** A chain head: an org's newest entry's seq and hash (seq 0 and the genesis hash before the first entry). */
export interface HeadRef {
  seq: number;
  hash: Buffer;
}

/** A chain head this instance has just committed, and the head its batch started from. */
export interface CommittedHead extends HeadRef {
  orgId: string;
  from: HeadRef;
}

/**
 * What this instance's memory says of a committed head: `sign` (its batch started from a head this
 * instance trusts), `withhold` (it started from a head this instance itself withheld), or `ask` (it
 * started from a head this instance did not commit: the first batch of an org, or a head another
 * writer moved; only a stored checkpoint can vouch for that one).
 */
export type TrustVerdict = 'sign' | 'withhold' | 'ask';

/**
 * `tip` is the newest head this instance committed or vouched for; `base`, when untrusted, the head
 * the chain was found at that no checkpoint covered.
 */
type OrgTrust = { trusted: true; tip: HeadRef } | { trusted: false; tip: HeadRef; base: HeadRef };

export function sameHead(a: HeadRef, b: HeadRef): boolean {
  return a.seq === b.seq && a.hash.equals(b.hash);
}

/**
 * Which of its committed heads this instance may sign. A head it committed on top of a head it trusts is
 * trusted; so is the genesis head and a head a valid checkpoint covers. Any other head — one found in the
 * database that nobody signed — may be a forged entry appended with database access, and signing on top
 * of it would vouch for the forgery: such a chain stays untrusted, every head this instance commits on it
 * unsigned, until a checkpoint covering the head it was found at turns up (another instance signing late).
 */
export class ChainTrust {
  private readonly orgs = new Map<string, OrgTrust>();

  judge(head: CommittedHead): TrustVerdict {
    const state = this.orgs.get(head.orgId);
    if (state && sameHead(state.tip, head.from)) return state.trusted ? 'sign' : 'withhold';
    if (head.from.seq === 0 && head.from.hash.equals(GENESIS_HASH)) return 'sign';
    return 'ask';
  }

  /** Records a head judged `sign` or `withhold`: the next batch continues from it. */
  advance(head: CommittedHead): void {
    const state = this.orgs.get(head.orgId);
    const tip = { seq: head.seq, hash: head.hash };
    if (state && !state.trusted && sameHead(state.tip, head.from)) this.orgs.set(head.orgId, { trusted: false, tip, base: state.base });
    else this.orgs.set(head.orgId, { trusted: true, tip });
  }

  /** The head an untrusted chain was found at, to look again for a checkpoint covering it. */
  untrustedBase(orgId: string): HeadRef | undefined {
    const state = this.orgs.get(orgId);
    return state && !state.trusted ? state.base : undefined;
  }

  /** A valid checkpoint covers `head`, where a batch started: that batch is trusted. */
  covered(orgId: string, head: HeadRef): void {
    this.orgs.set(orgId, { trusted: true, tip: head });
  }

  /**
   * A valid checkpoint now covers the head an untrusted chain was found at: the chain this instance built
   * on it is trusted (it committed every head since).
   */
  baseCovered(orgId: string): void {
    const state = this.orgs.get(orgId);
    if (state && !state.trusted) this.orgs.set(orgId, { trusted: true, tip: state.tip });
  }

  /** No checkpoint covers `head`: batches starting there, and on top of them, are withheld. */
  uncovered(orgId: string, head: HeadRef): void {
    this.orgs.set(orgId, { trusted: false, tip: head, base: head });
  }
}
