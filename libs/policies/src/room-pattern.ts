/**
 * Room patterns of token policies: `*` stands for any run of characters (none included), `?` for
 * exactly one, `{userId}` for the subject user's id; every other character stands for itself (no
 * regular expression is ever built, so `.`, `(`, `[`, `+`, `$`, `^` and `\` are plain characters). A
 * pattern matches the whole room name, case-sensitively, character by character (a character being a
 * Unicode code point).
 */

const USER_ID = '{userId}';

type Part = { kind: 'char'; char: string } | { kind: 'one' } | { kind: 'any' };

/** The pattern as parts, `{userId}` spelled out as the subject's id; undefined when it names the subject and there is none. */
function partsOf(pattern: string, userId: string | null): Part[] | undefined {
  const parts: Part[] = [];
  let rest = pattern;
  while (rest.length > 0) {
    if (rest.startsWith(USER_ID)) {
      if (userId === null) return undefined;
      for (const char of userId) parts.push({ kind: 'char', char });
      rest = rest.slice(USER_ID.length);
      continue;
    }
    const char = String.fromCodePoint(rest.codePointAt(0)!);
    parts.push(char === '*' ? { kind: 'any' } : char === '?' ? { kind: 'one' } : { kind: 'char', char });
    rest = rest.slice(char.length);
  }
  return parts;
}

/**
 * Whether `room` matches `pattern` for the subject `userId`. Greedy matching with one remembered `*`
 * (the classic wildcard algorithm): at most pattern length × room length steps, whatever the pattern,
 * so a tenant's pattern cannot make a mint spin.
 */
export function roomMatches(pattern: string, room: string, userId: string | null): boolean {
  const parts = partsOf(pattern, userId);
  if (!parts) return false;
  const chars = Array.from(room);
  let p = 0;
  let r = 0;
  let star = -1;
  let starFrom = 0;
  while (r < chars.length) {
    const part = parts[p];
    if (part && (part.kind === 'one' || (part.kind === 'char' && part.char === chars[r]))) {
      p += 1;
      r += 1;
    } else if (part?.kind === 'any') {
      star = p;
      starFrom = r;
      p += 1;
    } else if (star >= 0) {
      // Let the last `*` take one more character, and match the rest from there.
      p = star + 1;
      starFrom += 1;
      r = starFrom;
    } else {
      return false;
    }
  }
  while (parts[p]?.kind === 'any') p += 1;
  return p === parts.length;
}
