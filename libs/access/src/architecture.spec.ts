import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The import rules of .dependency-cruiser.cjs, held over apps/, libs/ and migrations/ with tsconfig.json's
 * path aliases resolved: no cycle between files or between libraries, libs/access a kernel on common only,
 * common on nothing of ours, migrations on common only (by relative path). A fixture with one violation
 * of each kind shows that the check sees them (a check that sees nothing would pass the code base too).
 */

const ROOT = join(__dirname, '..', '..', '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const CLI = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  type: string;
  from: string;
  to: string;
  rule: { name: string; severity: string };
  cycle?: Array<{ name: string }>;
}

interface CruiseSummary {
  violations: Violation[];
  totalCruised: number;
  totalDependenciesCruised: number;
}

async function cruise(cwd: string, folders: string[]): Promise<CruiseSummary> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, '--config', CONFIG, '--output-type', 'json', ...folders], {
    cwd,
    maxBuffer: 256 * 1024 * 1024,
  });
  return (JSON.parse(stdout) as { summary: CruiseSummary }).summary;
}

function describeViolation(violation: Violation): string {
  const path = violation.cycle ? [violation.from, ...violation.cycle.map((step) => step.name)].join(' → ') : `${violation.from} → ${violation.to}`;
  return `${violation.rule.name}: ${path}`;
}

describe('architecture', () => {
  it('has no cycle between files or libraries and no forbidden dependency in apps/, libs/ and migrations/', async () => {
    const summary = await cruise(ROOT, ['apps', 'libs', 'migrations']);
    expect(summary.violations.map(describeViolation)).toEqual([]);
    // Every source file was read and its aliased imports followed: the libraries alone hold well over a hundred.
    expect(summary.totalCruised).toBeGreaterThan(150);
    expect(summary.totalDependenciesCruised).toBeGreaterThan(500);
  });

  describe('the check itself, on a fixture with one violation of each kind', () => {
    let fixture: string;

    const files: Record<string, string> = {
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          baseUrl: './',
          paths: {
            '@mintline/common/*': ['libs/common/src/*'],
            '@mintline/access/*': ['libs/access/src/*'],
            '@mintline/tenancy/*': ['libs/tenancy/src/*'],
          },
        },
      }),
      // A cycle between two libraries through four different files (no file cycle), one edge type-only.
      'libs/access/src/principal.ts': "import type { Org } from '@mintline/tenancy/org';\nexport type Principal = { org: Org };\n",
      'libs/tenancy/src/org.ts': 'export interface Org {\n  id: string;\n}\n',
      'libs/tenancy/src/users.ts': "import { ROLES } from '@mintline/access/scopes';\nexport const roles = ROLES;\n",
      'libs/access/src/scopes.ts': "export const ROLES = ['admin'];\n",
      // Two files of one library importing each other.
      'libs/audit/src/writer.ts': "import { link } from './chain';\nexport const write = () => link();\n",
      'libs/audit/src/chain.ts': "import { write } from './writer';\nexport const link = (): unknown => write;\n",
      'libs/common/src/service-role.ts': "import { ROLE } from '../../../migrations/rls';\nexport const SERVICE_ROLE = ROLE;\n",
      'migrations/rls.ts': "export const ROLE = 'mintline_app';\n",
      'migrations/old.ts': "import type { Org } from '@mintline/tenancy/org';\nexport type Row = Org;\n",
      'libs/minting/src/pipeline.ts': "import { main } from '../../../apps/api/src/main';\nexport const run = main;\n",
      'apps/api/src/main.ts': 'export const main = (): void => undefined;\n',
      'libs/minting/src/mint.ts': "import { nothing } from '@mintline/nowhere/thing';\nexport const mint = nothing;\n",
      'libs/minting/src/fake-use.ts': "import { fake } from '../../../test/support/fake';\nexport const real = fake;\n",
      'libs/minting/src/mint.spec.ts': "import { fake } from '../../../test/support/fake';\nexport const allowed = fake;\n",
      'test/support/fake.ts': 'export const fake = 1;\n',
    };

    beforeAll(() => {
      fixture = mkdtempSync(join(tmpdir(), 'mintline-architecture-'));
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(fixture, path)), { recursive: true });
        writeFileSync(join(fixture, path), content);
      }
    });

    afterAll(() => rmSync(fixture, { recursive: true, force: true }));

    it('reports each of them, and nothing else', async () => {
      const summary = await cruise(fixture, ['apps', 'libs', 'migrations']);
      const found = new Set(summary.violations.map((violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`));
      expect([...found].sort()).toEqual(
        [
          'access-is-the-kernel: libs/access/src/principal.ts → libs/tenancy/src/org.ts',
          'code-not-on-tests: libs/minting/src/fake-use.ts → test/support/fake.ts',
          'common-is-the-base: libs/common/src/service-role.ts → migrations/rls.ts',
          'libraries-not-on-apps: libs/minting/src/pipeline.ts → apps/api/src/main.ts',
          'migrations-use-common-only: migrations/old.ts → libs/tenancy/src/org.ts',
          'migrations-without-aliases: migrations/old.ts → libs/tenancy/src/org.ts',
          'no-circular-libraries: libs/access/src → libs/tenancy/src',
          'no-circular-libraries: libs/tenancy/src → libs/access/src',
          'no-circular: libs/audit/src/chain.ts → libs/audit/src/writer.ts',
          'not-to-unresolvable: libs/minting/src/mint.ts → @mintline/nowhere/thing',
        ].sort(),
      );
      expect(summary.violations.every((violation) => violation.rule.severity === 'error')).toBe(true);
    });
  });
});
