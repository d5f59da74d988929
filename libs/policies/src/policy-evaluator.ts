import type { Role } from '@mintline/access/scopes';
import type { MintGrant } from '@mintline/providers/registry/mint-grant';
import { roomMatches } from './room-pattern';

/** An org's rules for one provider; null is no rule. */
export interface PolicyRules {
  maxTtlSeconds: number | null;
  roles: readonly Role[] | null;
  rooms: readonly string[] | null;
  publish: boolean | null;
}

/** Whom the token is for: the subject user's id and role (null when the token names no user, or the user has none in the org). */
export interface PolicySubject {
  userId: string | null;
  role: Role | null;
}

export type PolicyRule = 'roles' | 'rooms' | 'publish' | 'maxTtlSeconds';

/** One rule that refused the mint (`denied`) or changed its grant (`shortened` lifetime, `withheld` publish rights). */
export interface PolicyReason {
  field: PolicyRule;
  effect: 'denied' | 'shortened' | 'withheld';
  message: string;
}

export interface PolicyDecision {
  allowed: boolean;
  /** The grant in force: what is asked, narrowed by the policy (meaningful when allowed). */
  grant: MintGrant;
  /** Every rule that refused or changed the grant, in the order roles, rooms, publish, maxTtlSeconds. */
  reasons: PolicyReason[];
}

/** Room patterns named in a message, as long as the message stays short. */
const MAX_LISTED_PATTERNS_LENGTH = 512;

/**
 * Judges what a mint would grant against an org's policy for its provider; pure, so that the mint
 * pipeline and the evaluate route decide alike. No policy allows everything as asked.
 */
export function evaluatePolicy(policy: PolicyRules | null, asked: MintGrant, subject: PolicySubject): PolicyDecision {
  const grant: MintGrant = { ...asked };
  const reasons: PolicyReason[] = [];
  if (!policy) return { allowed: true, grant, reasons };

  if (policy.roles !== null && (subject.role === null || !policy.roles.includes(subject.role))) {
    reasons.push({
      field: 'roles',
      effect: 'denied',
      message: `${subject.role === null ? 'the token names no user of a role' : `role ${subject.role}`} is not allowed; allowed roles: ${policy.roles.join(', ')}`,
    });
  }

  if (policy.rooms !== null) {
    const rooms = policy.rooms;
    if (grant.room === null) {
      reasons.push({ field: 'rooms', effect: 'denied', message: `the token names no room, and this policy allows only rooms matching ${describePatterns(rooms)}` });
    } else if (!rooms.some((pattern) => roomMatches(pattern, grant.room!, subject.userId))) {
      reasons.push({ field: 'rooms', effect: 'denied', message: `room ${JSON.stringify(grant.room)} matches none of ${describePatterns(rooms)}` });
    }
  }

  if (policy.publish === false) {
    if (grant.publish === 'asked') {
      reasons.push({ field: 'publish', effect: 'denied', message: 'publish rights were asked for, and this policy allows none' });
    } else if (grant.publish === 'default') {
      grant.publish = 'none';
      reasons.push({ field: 'publish', effect: 'withheld', message: 'the token is minted without publish rights' });
    }
  }

  if (policy.maxTtlSeconds !== null && grant.ttlSeconds > policy.maxTtlSeconds) {
    if (grant.fixedTtl) {
      reasons.push({
        field: 'maxTtlSeconds',
        effect: 'denied',
        message: `the provider's token lifetime is fixed at ${grant.ttlSeconds} s, above this policy's maxTtlSeconds ${policy.maxTtlSeconds}`,
      });
    } else {
      reasons.push({
        field: 'maxTtlSeconds',
        effect: 'shortened',
        message: `the lifetime asked, ${grant.ttlSeconds} s, is shortened to this policy's maxTtlSeconds ${policy.maxTtlSeconds}`,
      });
      grant.ttlSeconds = policy.maxTtlSeconds;
    }
  }

  return { allowed: !reasons.some((reason) => reason.effect === 'denied'), grant, reasons };
}

function describePatterns(patterns: readonly string[]): string {
  const listed = patterns.map((pattern) => JSON.stringify(pattern)).join(', ');
  return listed.length <= MAX_LISTED_PATTERNS_LENGTH ? `the policy's patterns ${listed}` : `the policy's ${patterns.length} room patterns`;
}
