import { roomMatches } from './room-pattern';

const ME = '3f1c2a9e-7b4d-4e5f-8a6b-1c2d3e4f5a6b';
const OTHER = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';

describe('roomMatches', () => {
  it('matches a literal pattern exactly, whole string, case-sensitively', () => {
    expect(roomMatches('support', 'support', ME)).toBe(true);
    expect(roomMatches('support', 'support-1', ME)).toBe(false);
    expect(roomMatches('support', 'my-support', ME)).toBe(false);
    expect(roomMatches('support', 'Support', ME)).toBe(false);
    expect(roomMatches('support', '', ME)).toBe(false);
  });

  it('`*` is any run of characters, none included, but the literal around it must be there', () => {
    expect(roomMatches('support-*', 'support-', ME)).toBe(true);
    expect(roomMatches('support-*', 'support-1', ME)).toBe(true);
    expect(roomMatches('support-*', 'support-a-b-c', ME)).toBe(true);
    expect(roomMatches('support-*', 'support', ME)).toBe(false);
    expect(roomMatches('support-*', 'xsupport-1', ME)).toBe(false);
    expect(roomMatches('*', '', ME)).toBe(true);
    expect(roomMatches('*', 'anything at all', ME)).toBe(true);
    expect(roomMatches('*-end', 'the-end', ME)).toBe(true);
    expect(roomMatches('*-end', 'the-end-not', ME)).toBe(false);
    expect(roomMatches('a*b*c', 'abc', ME)).toBe(true);
    expect(roomMatches('a*b*c', 'a-b-b-c', ME)).toBe(true);
    expect(roomMatches('a*b*c', 'a-c-b', ME)).toBe(false);
    expect(roomMatches('**', 'x', ME)).toBe(true);
  });

  it('`?` is exactly one character (a code point)', () => {
    expect(roomMatches('desk-?', 'desk-1', ME)).toBe(true);
    expect(roomMatches('desk-?', 'desk-', ME)).toBe(false);
    expect(roomMatches('desk-?', 'desk-12', ME)).toBe(false);
    expect(roomMatches('desk-?', 'desk-😀', ME)).toBe(true);
    expect(roomMatches('???', 'ab', ME)).toBe(false);
    expect(roomMatches('?*', '', ME)).toBe(false);
    expect(roomMatches('?*', 'a', ME)).toBe(true);
  });

  it("`{userId}` is the subject's own id, and no one else's", () => {
    expect(roomMatches('agent-{userId}-*', `agent-${ME}-1`, ME)).toBe(true);
    expect(roomMatches('agent-{userId}-*', `agent-${OTHER}-1`, ME)).toBe(false);
    expect(roomMatches('agent-{userId}-*', `agent-${ME}`, ME)).toBe(false);
    expect(roomMatches('agent-{userId}', `agent-${ME}`, ME)).toBe(true);
    expect(roomMatches('agent-{userId}', `agent-${ME.toUpperCase()}`, ME)).toBe(false);
    // The id is literal text: its characters are not wildcards, and a pattern prefix of it is not enough.
    expect(roomMatches('agent-{userId}', `agent-${ME.slice(0, 8)}`, ME)).toBe(false);
    // A token for no user never matches a pattern that names the user.
    expect(roomMatches('agent-{userId}', 'agent-', null)).toBe(false);
    expect(roomMatches('agent-*', 'agent-1', null)).toBe(true);
  });

  it('only the exact `{userId}` is a placeholder; other braces are literal', () => {
    expect(roomMatches('{userid}', '{userid}', ME)).toBe(true);
    expect(roomMatches('{userid}', ME, ME)).toBe(false);
    expect(roomMatches('{user}', '{user}', ME)).toBe(true);
    expect(roomMatches('{userId', '{userId', ME)).toBe(true);
    expect(roomMatches('{{userId}}', `{${ME}}`, ME)).toBe(true);
  });

  it('takes regular-expression metacharacters literally', () => {
    expect(roomMatches('a.b', 'a.b', ME)).toBe(true);
    expect(roomMatches('a.b', 'axb', ME)).toBe(false);
    expect(roomMatches('room(1)', 'room(1)', ME)).toBe(true);
    expect(roomMatches('room(1)', 'room1', ME)).toBe(false);
    expect(roomMatches('[abc]', '[abc]', ME)).toBe(true);
    expect(roomMatches('[abc]', 'a', ME)).toBe(false);
    expect(roomMatches('a+', 'a+', ME)).toBe(true);
    expect(roomMatches('a+', 'aa', ME)).toBe(false);
    expect(roomMatches('cost$', 'cost$', ME)).toBe(true);
    expect(roomMatches('cost$', 'cost', ME)).toBe(false);
    expect(roomMatches('^top', '^top', ME)).toBe(true);
    expect(roomMatches('^top', 'top', ME)).toBe(false);
    expect(roomMatches('back\\slash', 'back\\slash', ME)).toBe(true);
    expect(roomMatches('back\\slash', 'backslash', ME)).toBe(false);
    expect(roomMatches('\\d+', '12', ME)).toBe(false);
    expect(roomMatches('a|b', 'a', ME)).toBe(false);
    expect(roomMatches('a{2}', 'aa', ME)).toBe(false);
    expect(roomMatches('.*', 'anything', ME)).toBe(false);
    expect(roomMatches('.*', '.-anything', ME)).toBe(true);
  });

  it('stays fast on a pattern made to backtrack', () => {
    const pattern = `${'*a'.repeat(60)}b`;
    const room = 'a'.repeat(256);
    const started = process.hrtime.bigint();
    expect(roomMatches(pattern, room, ME)).toBe(false);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
  });
});
