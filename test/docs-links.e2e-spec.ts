import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * Every link in README.md and docs/*.md must work in a fresh clone: a relative link resolves to a file
 * or folder inside the repository (not to a sibling checkout, not to a build output), and an anchor
 * names a heading of the target. Links with a scheme are outside the repository's control and only
 * must not point at a local service, which a reader of the repository does not have.
 */

const ROOT = resolve(__dirname, '..');
/** Present in a working copy, absent from a clone. */
const NOT_IN_A_CLONE = new Set(['node_modules', 'dist', '.data', 'coverage', '.git']);
const LOCAL_HOSTS = /^(localhost|127(\.\d+){3}|0\.0\.0\.0|\[::1?\])$/i;

interface Link {
  file: string;
  line: number;
  target: string;
}

/** The markdown with fenced blocks and inline code blanked out (line numbers kept). */
function proseOf(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ' ')).replace(/`[^`\n]*`/g, (code) => ' '.repeat(code.length));
}

function linksOf(file: string, markdown: string): Link[] {
  const prose = proseOf(markdown);
  const links: Link[] = [];
  const lineAt = (index: number) => prose.slice(0, index).split('\n').length;
  for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ file, line: lineAt(match.index ?? 0), target: match[1] });
  }
  for (const match of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm)) {
    links.push({ file, line: lineAt(match.index ?? 0), target: match[1] });
  }
  return links;
}

/** GitHub's anchors for the headings of a markdown text: lower case, punctuation dropped, spaces to '-', repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const fenceless = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of fenceless.matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$/gm)) {
    const text = match[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .trim()
      .toLowerCase();
    const base = text.replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** What is wrong with one link, or undefined when it works in a clone. */
function problemOf(link: Link, root: string, read: (path: string) => string): string | undefined {
  const { target } = link;
  if (target === '') return 'an empty link';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target);
  if (scheme) {
    const name = scheme[1].toLowerCase();
    if (name === 'mailto') return undefined;
    if (name !== 'http' && name !== 'https') return `a ${name}: link`;
    return LOCAL_HOSTS.test(new URL(target).hostname) ? 'a link to a local service, dead for a reader of the repository' : undefined;
  }
  if (target.startsWith('/')) return 'an absolute path: write it relative to the file';
  const hash = target.indexOf('#');
  const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = path === '' ? link.file : resolve(dirname(link.file), path);
  const inRepo = relative(root, resolved);
  if (inRepo === '..' || inRepo.startsWith(`..${sep}`) || resolve(root, inRepo) !== resolved) return 'it leaves the repository';
  if (NOT_IN_A_CLONE.has(inRepo.split(sep)[0])) return `${inRepo.split(sep)[0]}/ is not in a clone`;
  if (!existsSync(resolved)) return `${inRepo || '.'} does not exist`;
  if (anchor !== undefined) {
    if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return `an anchor into ${inRepo}, which is not a markdown file`;
    if (!anchorsOf(read(resolved)).has(anchor)) return `${inRepo} has no heading for #${anchor}`;
  }
  return undefined;
}

function problemsIn(files: string[], root = ROOT, read = (path: string) => readFileSync(path, 'utf8')): string[] {
  return files.flatMap((file) =>
    linksOf(file, read(file)).flatMap((link) => {
      const problem = problemOf(link, root, read);
      return problem ? [`${relative(root, link.file)}:${link.line} (${link.target}): ${problem}`] : [];
    }),
  );
}

const docsFiles = () => [
  join(ROOT, 'README.md'),
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(ROOT, 'docs', name)),
];

describe('links in README.md and docs/', () => {
  it('every link points inside the repository, at a file that exists and a heading that exists', () => {
    const files = docsFiles();
    expect(files.length).toBeGreaterThan(1);
    const links = files.flatMap((file) => linksOf(file, readFileSync(file, 'utf8')));
    expect(links.length).toBeGreaterThan(20);
    expect(problemsIn(files)).toEqual([]);
  });

  it('the README leads to the API guide in docs/', () => {
    const targets = linksOf(join(ROOT, 'README.md'), readFileSync(join(ROOT, 'README.md'), 'utf8')).map((link) => link.target);
    expect(targets).toContain('docs/README.md');
    expect(targets.filter((target) => target.includes('shared/'))).toEqual([]);
  });

  it('the checker refuses what would be dead in a clone, and accepts what works', () => {
    const readme = join(ROOT, 'README.md');
    const guide = join(ROOT, 'docs', 'README.md');
    const pages: Record<string, string> = {
      [readme]: [
        'The contract is [API](../shared/API.md) and [the guide](docs/README.md#conventions).',
        '[missing](docs/nowhere.md), [bad anchor](docs/README.md#no-such-heading), [root](/docs/README.md),',
        '[build](dist/main.js), [local](http://localhost:3000/docs), [ok](https://example.com/x),',
        '`[in code](../outside.md)` and [self](#a-heading).',
        '',
        '## A heading',
        '',
        '```',
        '[in a block](../outside.md)',
        '```',
        '[ref]: ../../elsewhere.md',
      ].join('\n'),
      [guide]: '# Guide\n\n## Conventions\n\nSee [the README](../README.md#a-heading).\n',
    };
    const problems = problemsIn([readme, guide], ROOT, (path) => pages[path] ?? readFileSync(path, 'utf8'));
    expect(problems).toEqual([
      'README.md:1 (../shared/API.md): it leaves the repository',
      'README.md:2 (docs/nowhere.md): docs/nowhere.md does not exist',
      'README.md:2 (docs/README.md#no-such-heading): docs/README.md has no heading for #no-such-heading',
      'README.md:2 (/docs/README.md): an absolute path: write it relative to the file',
      'README.md:3 (dist/main.js): dist/ is not in a clone',
      'README.md:3 (http://localhost:3000/docs): a link to a local service, dead for a reader of the repository',
      'README.md:11 (../../elsewhere.md): it leaves the repository',
    ]);
  });

  it("computes GitHub's heading anchors", () => {
    const anchors = anchorsOf('# Mintline API guide\n## Voice tokens: Sinch and Twilio\n## Orgs (operator)\n### `TRUST_PROXY` and hops\n## Orgs (operator)\n');
    expect([...anchors]).toEqual(['mintline-api-guide', 'voice-tokens-sinch-and-twilio', 'orgs-operator', 'trust_proxy-and-hops', 'orgs-operator-1']);
  });
});
