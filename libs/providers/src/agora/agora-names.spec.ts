import { agoraChannelProblem, isAgoraAccount } from './agora-names';

describe('agoraChannelProblem', () => {
  it("accepts Agora's whole character set, 1 to 64 characters", () => {
    expect(agoraChannelProblem('a')).toBeNull();
    expect(agoraChannelProblem('x'.repeat(64))).toBeNull();
    expect(agoraChannelProblem('aZ09 !#$%&()+-:;<=.>?@[]^_{|}~,')).toBeNull();
  });

  it('refuses empty, too long and characters outside the set', () => {
    expect(agoraChannelProblem('')).toMatch(/1 to 64/);
    expect(agoraChannelProblem('x'.repeat(65))).toMatch(/1 to 64/);
    for (const bad of ['a/b', 'quote"', "apos'", 'star*', 'back\\slash', 'tab\t', 'é', 'new\nline', '`', '😀']) {
      expect(agoraChannelProblem(bad)).toMatch(/Agora's channel characters/);
    }
  });
});

describe('isAgoraAccount', () => {
  it('accepts a user id and refuses what Agora would not', () => {
    expect(isAgoraAccount('6f1c2f4e-8a4b-4c1e-9d53-0d2f7c1b9a10')).toBe(true);
    expect(isAgoraAccount('')).toBe(false);
    expect(isAgoraAccount('a/b')).toBe(false);
    expect(isAgoraAccount('x'.repeat(256))).toBe(false);
  });
});
