import type { MintGrant } from '@mintline/providers/registry/mint-grant';
import { evaluatePolicy, PolicyRules } from './policy-evaluator';

const ME = '3f1c2a9e-7b4d-4e5f-8a6b-1c2d3e4f5a6b';
const OTHER = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const agent = { userId: ME, role: 'agent' as const };

const NO_RULES: PolicyRules = { maxTtlSeconds: null, roles: null, rooms: null, publish: null };
const policy = (rules: Partial<PolicyRules>): PolicyRules => ({ ...NO_RULES, ...rules });
const grant = (asked: Partial<MintGrant> = {}): MintGrant => ({ room: `agent-${ME}-1`, ttlSeconds: 3600, fixedTtl: false, publish: 'default', ...asked });

describe('evaluatePolicy', () => {
  it('allows everything as asked without a policy, or with a policy of no rules', () => {
    for (const rules of [null, NO_RULES]) {
      const decision = evaluatePolicy(rules, grant({ publish: 'asked' }), agent);
      expect(decision).toEqual({ allowed: true, grant: grant({ publish: 'asked' }), reasons: [] });
    }
  });

  it('does not change the grant it is given', () => {
    const asked = grant();
    evaluatePolicy(policy({ maxTtlSeconds: 60, publish: false }), asked, agent);
    expect(asked).toEqual(grant());
  });

  describe('roles', () => {
    it('allows a listed role and refuses any other, naming the rule', () => {
      expect(evaluatePolicy(policy({ roles: ['agent'] }), grant(), agent).allowed).toBe(true);
      expect(evaluatePolicy(policy({ roles: ['admin', 'agent'] }), grant(), agent).allowed).toBe(true);
      const refused = evaluatePolicy(policy({ roles: ['admin'] }), grant(), agent);
      expect(refused.allowed).toBe(false);
      expect(refused.reasons).toEqual([{ field: 'roles', effect: 'denied', message: expect.stringContaining('role agent is not allowed') }]);
      expect(evaluatePolicy(policy({ roles: ['admin', 'auditor'] }), grant(), { userId: ME, role: 'auditor' }).allowed).toBe(true);
    });

    it('refuses a subject without a role (a token for no user)', () => {
      const refused = evaluatePolicy(policy({ roles: ['admin', 'agent', 'auditor'] }), grant(), { userId: null, role: null });
      expect(refused.allowed).toBe(false);
      expect(refused.reasons.map((reason) => reason.field)).toEqual(['roles']);
    });
  });

  describe('rooms', () => {
    const rooms = policy({ rooms: ['agent-{userId}-*', 'lobby'] });

    it('allows a room matching one pattern', () => {
      expect(evaluatePolicy(rooms, grant({ room: `agent-${ME}-7` }), agent).allowed).toBe(true);
      expect(evaluatePolicy(rooms, grant({ room: 'lobby' }), agent).allowed).toBe(true);
    });

    it("refuses another user's room, a near miss and a room matching nothing", () => {
      for (const room of [`agent-${OTHER}-7`, `agent-${ME}`, 'lobby-2', 'support']) {
        const decision = evaluatePolicy(rooms, grant({ room }), agent);
        expect({ room, allowed: decision.allowed }).toEqual({ room, allowed: false });
        expect(decision.reasons).toEqual([{ field: 'rooms', effect: 'denied', message: expect.stringContaining(JSON.stringify(room)) }]);
      }
    });

    it('`support-*` does not let `support` through', () => {
      expect(evaluatePolicy(policy({ rooms: ['support-*'] }), grant({ room: 'support' }), agent).allowed).toBe(false);
      expect(evaluatePolicy(policy({ rooms: ['support-*'] }), grant({ room: 'support-1' }), agent).allowed).toBe(true);
    });

    it('refuses a token that names no room', () => {
      const decision = evaluatePolicy(policy({ rooms: ['*'] }), grant({ room: null }), agent);
      expect(decision.allowed).toBe(false);
      expect(decision.reasons).toEqual([{ field: 'rooms', effect: 'denied', message: expect.stringContaining('names no room') }]);
    });

    it('keeps its message short with many long patterns', () => {
      const many = Array.from({ length: 100 }, (_, i) => `${'x'.repeat(250)}-${i}`);
      const decision = evaluatePolicy(policy({ rooms: many }), grant({ room: 'y' }), agent);
      expect(decision.reasons[0].message).toContain('100 room patterns');
      expect(decision.reasons[0].message.length).toBeLessThan(400);
    });
  });

  describe('publish', () => {
    it('refuses publish rights asked for explicitly', () => {
      const decision = evaluatePolicy(policy({ publish: false }), grant({ publish: 'asked' }), agent);
      expect(decision.allowed).toBe(false);
      expect(decision.reasons).toEqual([{ field: 'publish', effect: 'denied', message: expect.any(String) }]);
    });

    it("withholds the provider's default publish rights instead of refusing", () => {
      const decision = evaluatePolicy(policy({ publish: false }), grant({ publish: 'default' }), agent);
      expect(decision.allowed).toBe(true);
      expect(decision.grant.publish).toBe('none');
      expect(decision.reasons).toEqual([{ field: 'publish', effect: 'withheld', message: expect.any(String) }]);
    });

    it('has nothing to say about a grant without publish rights, or with publish: true / null', () => {
      expect(evaluatePolicy(policy({ publish: false }), grant({ publish: 'none' }), agent)).toEqual({ allowed: true, grant: grant({ publish: 'none' }), reasons: [] });
      expect(evaluatePolicy(policy({ publish: true }), grant({ publish: 'asked' }), agent)).toEqual({ allowed: true, grant: grant({ publish: 'asked' }), reasons: [] });
    });
  });

  describe('maxTtlSeconds', () => {
    it('leaves a lifetime at or under the cap as asked', () => {
      expect(evaluatePolicy(policy({ maxTtlSeconds: 900 }), grant({ ttlSeconds: 900 }), agent)).toEqual({ allowed: true, grant: grant({ ttlSeconds: 900 }), reasons: [] });
      expect(evaluatePolicy(policy({ maxTtlSeconds: 900 }), grant({ ttlSeconds: 60 }), agent).grant.ttlSeconds).toBe(60);
      expect(evaluatePolicy(policy({ maxTtlSeconds: 600 }), grant({ ttlSeconds: 600, fixedTtl: true }), agent).allowed).toBe(true);
    });

    it('shortens a longer asked lifetime to the cap, one second over included', () => {
      const decision = evaluatePolicy(policy({ maxTtlSeconds: 900 }), grant({ ttlSeconds: 901 }), agent);
      expect(decision.allowed).toBe(true);
      expect(decision.grant.ttlSeconds).toBe(900);
      expect(decision.reasons).toEqual([{ field: 'maxTtlSeconds', effect: 'shortened', message: expect.stringContaining('901') }]);
    });

    it('refuses a fixed lifetime above the cap, one second over included', () => {
      const decision = evaluatePolicy(policy({ maxTtlSeconds: 599 }), grant({ ttlSeconds: 600, fixedTtl: true }), agent);
      expect(decision.allowed).toBe(false);
      expect(decision.grant.ttlSeconds).toBe(600);
      expect(decision.reasons).toEqual([{ field: 'maxTtlSeconds', effect: 'denied', message: expect.stringContaining('fixed at 600') }]);
    });
  });

  it('names every rule broken, in order, and keeps the changes of the others', () => {
    const decision = evaluatePolicy(
      policy({ roles: ['admin'], rooms: ['lobby'], publish: false, maxTtlSeconds: 900 }),
      grant({ room: 'other', publish: 'asked', ttlSeconds: 3600 }),
      agent,
    );
    expect(decision.allowed).toBe(false);
    expect(decision.reasons.map((reason) => `${reason.field} ${reason.effect}`)).toEqual(['roles denied', 'rooms denied', 'publish denied', 'maxTtlSeconds shortened']);
  });

  it('confines an agent to its own rooms, without publish rights, to 15 minutes', () => {
    const story = policy({ roles: ['agent'], rooms: ['agent-{userId}-*'], publish: false, maxTtlSeconds: 900 });
    const allowed = evaluatePolicy(story, grant({ room: `agent-${ME}-call`, ttlSeconds: 3600 }), agent);
    expect(allowed).toEqual({ allowed: true, grant: grant({ room: `agent-${ME}-call`, ttlSeconds: 900, publish: 'none' }), reasons: expect.any(Array) });
    expect(evaluatePolicy(story, grant({ room: `agent-${OTHER}-call` }), agent).allowed).toBe(false);
    expect(evaluatePolicy(story, grant({ publish: 'asked' }), agent).allowed).toBe(false);
    expect(evaluatePolicy(story, grant({ ttlSeconds: 86_400, fixedTtl: true }), agent).allowed).toBe(false);
    expect(evaluatePolicy(story, grant(), { userId: ME, role: 'admin' }).allowed).toBe(false);
  });
});
