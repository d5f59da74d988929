import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The data layer's rules, held over every source file of apps/ and libs/ (specs aside):
 *
 * 1. SQL lives in repositories. Only `*.repository.ts` files (one per table, in the library that owns
 *    the table) hold SQL text or run statements; services, controllers, queries and commands call them.
 * 2. Every repository method takes the handle first, by type: a TenantDb or TenantTx for one org's rows
 *    (the org comes from it), a SystemDb or SystemTx for the named cross-tenant paths, a LongRead bound
 *    to one org for the long reads, or another repository's typed input where it builds on one.
 * 3. No TypeORM entities and no TypeORM in the domain: TypeORM only opens the pool and runs migrations.
 *
 * The few files outside repositories that still hold SQL are listed with their reason in EXEMPT.
 */

const ROOT = join(__dirname, '..', '..', '..', '..');

/** Files that may hold SQL outside a repository, and why. */
export const EXEMPT: Readonly<Record<string, string>> = {
  'libs/common/src/database/db.ts': 'the handle itself: BEGIN, set_config and COMMIT/ROLLBACK around every statement',
  'libs/common/src/database/pg-client.ts': 'the long-read pool: BEGIN, set_config and ROLLBACK around a borrowed connection',
  'libs/common/src/database/statement-batch.ts': 'the wire protocol under the handle',
  'libs/common/src/database/migrate.ts': 'the migration lock (pg_advisory_lock) before any table exists',
  'libs/common/src/database/embedded-postgres.ts': 'creates the database of the embedded server (no table)',
  'libs/common/src/database/service-role.ts': "sets the service role's password (no table)",
  'libs/common/src/cache/invalidation-bus.ts': 'LISTEN on its own connection for cache invalidations (no table)',
  'libs/audit/src/mints/mint-audit.writer.ts':
    "the mint audit writer's batch: chain heads, cache epochs and entries in one statement on the hot path (its statements are its own, with the writer)",
  'apps/api/src/ops/health.controller.ts': 'SELECT 1, the readiness probe (no table)',
};

/** Each table of the migrations and its one repository, in the library that owns the table. */
export const REPOSITORIES: Readonly<Record<string, string>> = {
  orgs: 'libs/tenancy/src/orgs/orgs.repository.ts',
  users: 'libs/tenancy/src/users/users.repository.ts',
  phone_numbers: 'libs/tenancy/src/caller-ids/phone-numbers.repository.ts',
  endpoints: 'libs/tenancy/src/endpoints/endpoints.repository.ts',
  api_keys: 'libs/auth/src/api-keys/api-keys.repository.ts',
  credentials: 'libs/credentials/src/credentials.repository.ts',
  call_tokens: 'libs/minting/src/call-tokens/call-tokens.repository.ts',
  config_events: 'libs/audit/src/events/config-events.repository.ts',
  // Read side and partitions; the entries are written by MintAuditWriter (see EXEMPT).
  mint_audit: 'libs/audit/src/mints/mint-audit.repository.ts',
  audit_chain_heads: 'libs/audit/src/mints/audit-chain-heads.repository.ts',
  audit_chain_anchors: 'libs/audit/src/mints/audit-chain-anchors.repository.ts',
  audit_checkpoints: 'libs/audit/src/checkpoints/audit-checkpoints.repository.ts',
  cache_epochs: 'libs/common/src/cache/cache-epochs.repository.ts',
  telnyx_credentials: 'libs/providers/src/telnyx/telnyx-credentials.repository.ts',
  token_policies: 'libs/policies/src/token-policies.repository.ts',
};

/**
 * The cross-tenant paths: every use of `db.system(reason)`, by file. A new one is a decision to review
 * (does it really have to see every org's rows?), so it is added here by hand.
 */
export const SYSTEM_PATHS: Readonly<Record<string, readonly string[]>> = {
  'libs/auth/src/auth.service.ts': ['login by email'],
  'libs/auth/src/principal-resolver.service.ts': ['principal by user id'],
  'libs/auth/src/api-keys/api-keys.service.ts': ['credential lookup by hash'],
  'libs/minting/src/call-tokens/call-tokens.service.ts': ['credential lookup by hash'],
  'libs/tenancy/src/orgs/orgs.service.ts': ['operator'],
  'libs/credentials/src/key-rotation.service.ts': ['key rotation'],
  'libs/audit/src/mints/mint-audit.writer.ts': ['audit batch of many orgs'],
  'libs/audit/src/checkpoints/audit-checkpoint.writer.ts': ['audit batch of many orgs'],
  'libs/audit/src/checkpoints/checkpoint-covers.ts': ['audit batch of many orgs'],
  'libs/audit/src/retention/audit-partitions.service.ts': ['retention'],
  'apps/cli/src/audit.commands.ts': ['cli'],
  'apps/cli/src/sign-head.command.ts': ['cli'],
};

/** Parameter types a repository method may take first. */
const HANDLES = new Set(['TenantDb', 'TenantTx', 'SystemDb', 'SystemTx', 'AnyDb', 'AnyTx', 'Tx', 'LongRead', 'LongReads', 'DataSource']);

/**
 * Statement text: a keyword that starts SQL, inside a string or template literal. BEGIN counts where a
 * statement starts (after the quote or a semicolon), so a PEM header's `-----BEGIN` is no SQL.
 */
const SQL = /['"`](?:[^'"`]*\b(?:SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|LOCK\s+TABLE|DROP\s+TABLE|FOR\s+UPDATE)|(?:[^'"`]*;)?\s*BEGIN\b)/;
/** Running a statement or opening TypeORM's entity operations. */
const RUNS = /\.(?:query|execute|entities|read|createQueryBuilder|getRepository)\s*[<(]/;
const ENTITY = /@Entity\s*\(/;
const TYPEORM = /from\s+'(?:typeorm|@nestjs\/typeorm)(?:\/[^']*)?'/;
/** Files allowed to import TypeORM: the pool and migrations, and what is given the DataSource. */
const TYPEORM_ALLOWED = new Set([
  'libs/common/src/database/db.ts',
  'libs/common/src/database/pg-client.ts',
  'libs/common/src/database/migrate.ts',
  'libs/common/src/database/typeorm-options.ts',
  'libs/common/src/cache/invalidation-bus.ts',
  'libs/common/src/cache/cache-epochs.repository.ts',
  'apps/api/src/app.module.ts',
  'apps/api/src/ops/health.controller.ts',
]);

/** The first parameter's type of each method of a repository object (`  async name(first: Type, ...)`). */
const METHOD = /^ {2}(?:async\s+)?(\w+)(?:<[^>]*>)?\(\s*(\w+)\s*:\s*(\w+)/gm;

export function dataLayerViolations(files: ReadonlyMap<string, string>): string[] {
  const violations: string[] = [];
  for (const [path, source] of files) {
    const code = withoutComments(source);
    const repository = path.endsWith('.repository.ts');
    if (ENTITY.test(code)) violations.push(`${path}: declares a TypeORM entity (row types belong to the table's repository)`);
    if (TYPEORM.test(code) && !TYPEORM_ALLOWED.has(path)) violations.push(`${path}: imports TypeORM`);
    if (!repository && !(path in EXEMPT)) {
      if (SQL.test(code)) violations.push(`${path}: holds SQL outside a repository`);
      if (RUNS.test(code)) violations.push(`${path}: runs a statement outside a repository`);
    }
    if (repository) {
      for (const [, method, param, type] of code.matchAll(METHOD)) {
        if (!HANDLES.has(type)) violations.push(`${path}: ${method}(${param}: ${type}) does not take a database handle first`);
      }
    }
  }
  return violations;
}

/** Comments may name SQL freely; strings may not be mistaken for comments (a URL's // is kept). */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('the data layer', () => {
  const files = new Map([...sources(join(ROOT, 'apps')), ...sources(join(ROOT, 'libs'))].map((path) => [relative(ROOT, path), readFileSync(path, 'utf8')]));

  it('keeps SQL in repositories, each method taking a handle, with no TypeORM entity', () => {
    expect(dataLayerViolations(files)).toEqual([]);
    // The scan read the code base, and found the repositories it holds to the rule.
    expect(files.size).toBeGreaterThan(150);
    expect([...files.keys()].filter((path) => path.endsWith('.repository.ts')).sort()).toEqual([...new Set(Object.values(REPOSITORIES))].sort());
  });

  it('has one repository for every table the migrations create', () => {
    const migrations = readdirSync(join(ROOT, 'migrations')).map((name) => readFileSync(join(ROOT, 'migrations', name), 'utf8'));
    // Partitions of mint_audit (the default one, the monthly ones) are mint_audit's.
    const tables = migrations.flatMap((text) => [...text.matchAll(/CREATE TABLE (\w+)(?! PARTITION OF)\s*\(/g)].map((match) => match[1]));
    expect(tables.length).toBeGreaterThanOrEqual(13);
    expect([...new Set(tables)].sort()).toEqual(Object.keys(REPOSITORIES).sort());
    for (const [table, repository] of Object.entries(REPOSITORIES)) expect({ table, mentioned: files.get(repository)?.includes(table) }).toEqual({ table, mentioned: true });
  });

  it('reaches every org’s rows only on the listed cross-tenant paths', () => {
    const found: Record<string, string[]> = {};
    for (const [path, source] of files) {
      const reasons = [...withoutComments(source).matchAll(/\.system\(\s*'([^']+)'/g)].map((match) => match[1]);
      if (reasons.length > 0) found[path] = [...new Set(reasons)].sort();
    }
    expect(found).toEqual(SYSTEM_PATHS);
  });

  it('exempts only files that exist', () => {
    for (const path of Object.keys(EXEMPT)) expect(files.has(path)).toBe(true);
  });

  it('sees each kind of violation (a check that sees nothing would pass the code base too)', () => {
    const fixture = new Map([
      ['libs/tenancy/src/users/users.service.ts', "const rows = await manager.query('SELECT id FROM users WHERE org_id = $1', [orgId]);\n"],
      ['libs/tenancy/src/users/user.entity.ts', "import { Entity } from 'typeorm';\n@Entity('users')\nexport class UserEntity {}\n"],
      ['libs/auth/src/api-keys/api-keys.service.ts', 'return this.db.forOrg(orgId).entities(async (manager) => manager.find(ApiKeyEntity));\n'],
      [
        'libs/tenancy/src/orgs/orgs.repository.ts',
        'export const OrgsRepository = {\n  async find(orgId: string): Promise<void> {},\n  async settings(db: TenantDb): Promise<void> {},\n};\n',
      ],
      // Allowed: a repository's SQL, and SQL named in a comment.
      [
        'libs/tenancy/src/endpoints/endpoints.repository.ts',
        "const ONE = { text: 'SELECT id FROM endpoints WHERE id = $1' };\nexport const EndpointsRepository = {\n  async find(db: TenantDb, id: string) {},\n};\n",
      ],
      ['libs/tenancy/src/endpoints/endpoints.service.ts', '// Locks the row (SELECT ... FOR UPDATE) first.\nconst endpoint = await EndpointsRepository.lock(tx, id);\n'],
      // Allowed: a PEM header is no BEGIN statement; not allowed: a transaction opened by text outside a repository.
      [
        'libs/providers/src/registry/credential-field-rules.ts',
        "const problem = 'is not a PEM key';\nif (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(value)) return problem;\n",
      ],
      ['libs/audit/src/mints/audit-verifier.service.ts', "const SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';\n"],
      ['libs/audit/src/checkpoints/checkpoint.query.ts', "const SNAPSHOT = 'SET LOCAL lock_timeout = 100; BEGIN';\n"],
    ]);
    expect(dataLayerViolations(fixture).sort()).toEqual(
      [
        'libs/auth/src/api-keys/api-keys.service.ts: runs a statement outside a repository',
        'libs/audit/src/checkpoints/checkpoint.query.ts: holds SQL outside a repository',
        'libs/audit/src/mints/audit-verifier.service.ts: holds SQL outside a repository',
        'libs/tenancy/src/orgs/orgs.repository.ts: find(orgId: string) does not take a database handle first',
        "libs/tenancy/src/users/user.entity.ts: declares a TypeORM entity (row types belong to the table's repository)",
        'libs/tenancy/src/users/user.entity.ts: imports TypeORM',
        'libs/tenancy/src/users/users.service.ts: holds SQL outside a repository',
        'libs/tenancy/src/users/users.service.ts: runs a statement outside a repository',
      ].sort(),
    );
  });
});
