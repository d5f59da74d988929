import type { Db } from '@mintline/common/database/db';
import { LongReads } from '@mintline/common/database/pg-client';
import type { MintAuditEntryView } from './mint-audit.dto';
import { CSV_COLUMNS, csvField, csvRecord, MintAuditExport } from './mint-audit.export';
import { toMintAuditView } from './mint-audit.query';
import type { MintAuditRow } from './mint-audit.repository';

const streamRowsMock = jest.fn<AsyncGenerator<unknown>, [unknown, string, unknown[]]>();
const longReads = { stream: streamRowsMock } as unknown as LongReads;
/** The org's handle, as far as the export's reads look at it: its org. */
const db = { forOrg: (orgId: string) => ({ orgId }) } as unknown as Db;

/** A strict RFC 4180 parser for one record (no line breaks outside quotes), to read back what csvRecord wrote. */
function parseCsvRecord(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let value = '';
    if (line[i] === '"') {
      i += 1;
      for (;;) {
        if (i >= line.length) throw new Error(`unterminated quote in ${line}`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += line[i];
        i += 1;
      }
      if (i < line.length && line[i] !== ',') throw new Error(`text after a closing quote in ${line}`);
    } else {
      while (i < line.length && line[i] !== ',') {
        if (line[i] === '"' || line[i] === '\r' || line[i] === '\n') throw new Error(`bare ${JSON.stringify(line[i])} in an unquoted field of ${line}`);
        value += line[i];
        i += 1;
      }
    }
    fields.push(value);
    if (i >= line.length) return fields;
    i += 1; // the comma
  }
}

describe('csvField', () => {
  it('writes null as an empty field and plain text as is', () => {
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('');
    expect(csvField('sinch')).toBe('sinch');
    expect(csvField('2026-01-01T00:00:00.000Z')).toBe('2026-01-01T00:00:00.000Z');
    expect(csvField('Mozilla/5.0 (X11; Linux x86_64)')).toBe('Mozilla/5.0 (X11; Linux x86_64)');
  });

  it.each([
    ['a comma', 'a,b', '"a,b"'],
    ['a quote', 'say "hi"', '"say ""hi"""'],
    ['only a quote', '"', '""""'],
    ['a line feed', 'a\nb', '"a\nb"'],
    ['a carriage return inside', 'a\rb', '"a\rb"'],
    ['CRLF', 'a\r\nb', '"a\r\nb"'],
  ])('quotes a value with %s (RFC 4180)', (_label, value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it.each([
    ['=', '=1+2', "'=1+2"],
    ['+', '+1', "'+1"],
    ['-', '-2+3', "'-2+3"],
    ['@', '@SUM(A1)', "'@SUM(A1)"],
    ['tab', '\t=1', "'\t=1"],
  ])('neutralises a leading %s with an apostrophe', (_label, value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it('neutralises a leading carriage return and quotes the result', () => {
    expect(csvField('\r=1')).toBe(`"'\r=1"`);
  });

  it('neutralises and quotes a formula that also holds commas and quotes', () => {
    const value = '=HYPERLINK("http://evil.example/?a=1,b=2","click")';
    const written = csvField(value);
    expect(written).toBe(`"'=HYPERLINK(""http://evil.example/?a=1,b=2"",""click"")"`);
    expect(parseCsvRecord(written)).toEqual([`'${value}`]);
  });

  it('leaves formula characters alone when they are not first', () => {
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField('curl/8.0 -v')).toBe('curl/8.0 -v');
    expect(csvField('user@example.com')).toBe('user@example.com');
  });

  it('never yields a field that starts a formula once read back', () => {
    const nasty = ["=cmd|' /C calc'!A0", '+', '-', '@', '\t', '\r', '=a,b', '="x"', '@"q",r', '-1,"2"'];
    for (const value of nasty) {
      const [readBack] = parseCsvRecord(csvField(value));
      expect(readBack).toBe(`'${value}`);
      expect(readBack).not.toMatch(/^[=+\-@\t\r]/);
    }
  });
});

const view = (overrides: Partial<MintAuditEntryView> = {}): MintAuditEntryView => ({
  id: '0b8f6a6e-3a4e-4c55-9a55-0d6c0b1f7a01',
  orgId: '6f3c1d2e-8b7a-4e59-a1c2-3d4e5f607182',
  at: '2026-03-04T05:06:07.089Z',
  provider: 'sinch',
  action: 'mint',
  actor: { kind: 'api_key', id: 'key-1' },
  subjectUserId: '11111111-2222-4333-8444-555555555555',
  target: 'sinch:app',
  outcome: 'issued',
  code: null,
  tokenFingerprint: '0123456789abcdef',
  expiresAt: '2026-03-04T05:16:07.089Z',
  ip: '203.0.113.9',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  requestId: 'req-1',
  ...overrides,
});

describe('csvRecord', () => {
  it('has the contract columns in order', () => {
    expect(CSV_COLUMNS.join(',')).toBe('id,orgId,at,provider,action,actorKind,actorId,subjectUserId,target,outcome,code,tokenFingerprint,expiresAt,ip,userAgent,requestId');
  });

  it('writes one field per column, in the header order', () => {
    const entry = view();
    expect(parseCsvRecord(csvRecord(entry))).toEqual([
      entry.id,
      entry.orgId,
      entry.at,
      'sinch',
      'mint',
      'api_key',
      'key-1',
      entry.subjectUserId,
      'sinch:app',
      'issued',
      '',
      '0123456789abcdef',
      entry.expiresAt,
      '203.0.113.9',
      'Mozilla/5.0 (X11; Linux x86_64)',
      'req-1',
    ]);
  });

  it('keeps a hostile user agent inside its own field', () => {
    const userAgent = '=IMPORTXML("http://x,y","//a"), "quoted"\r\nnext';
    const fields = parseCsvRecord(csvRecord(view({ userAgent, code: 'DENIED', actor: { kind: 'user', id: null } })));
    expect(fields).toHaveLength(CSV_COLUMNS.length);
    expect(fields[CSV_COLUMNS.indexOf('userAgent')]).toBe(`'${userAgent}`);
    expect(fields[CSV_COLUMNS.indexOf('requestId')]).toBe('req-1');
    expect(fields[CSV_COLUMNS.indexOf('actorId')]).toBe('');
    expect(fields[CSV_COLUMNS.indexOf('code')]).toBe('DENIED');
  });
});

describe('MintAuditExport.stream', () => {
  const orgId = '6f3c1d2e-8b7a-4e59-a1c2-3d4e5f607182';
  const row = (seq: number, overrides: Partial<MintAuditRow> = {}): MintAuditRow => ({
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    org_id: orgId,
    seq: String(seq),
    at: new Date(Date.UTC(2026, 2, 4, 5, 6, seq)),
    provider: 'twilio',
    action: 'mint',
    actor_kind: 'user',
    actor_id: 'u1',
    subject_user_id: null,
    target: null,
    outcome: 'denied',
    code: 'MISSING_SCOPE',
    token_fingerprint: null,
    expires_at: null,
    ip: null,
    user_agent: null,
    request_id: null,
    ...overrides,
  });
  const rows = [row(3, { user_agent: '-x, "y"' }), row(2), row(1, { expires_at: new Date(Date.UTC(2026, 2, 4, 6)) })];

  const read = async (stream: NodeJS.ReadableStream): Promise<string> => {
    let text = '';
    for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    return text;
  };

  beforeEach(() => {
    streamRowsMock.mockReset();
    streamRowsMock.mockImplementation(async function* () {
      for (const r of rows) yield r as never;
    });
  });

  it('streams NDJSON: one entry per line in the API shape, in the order the database gives', async () => {
    const exporter = new MintAuditExport(longReads, db);
    const text = await read(exporter.stream(orgId, { provider: 'twilio' }, 'ndjson'));
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(rows.map(toMintAuditView));
    const [scope, sql, params] = streamRowsMock.mock.calls[0];
    expect(scope).toEqual({ orgId });
    expect(sql).toMatch(/WHERE org_id = \$1 AND provider = \$2 ORDER BY at DESC, seq DESC$/);
    expect(params).toEqual([orgId, 'twilio']);
  });

  it('streams CSV: the header row, then one CRLF-terminated record per entry', async () => {
    const exporter = new MintAuditExport(longReads, db);
    const text = await read(exporter.stream(orgId, {}, 'csv'));
    const lines = text.split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(rows.length + 1);
    const parsed = lines.slice(1).map(parseCsvRecord);
    expect(parsed.map((fields) => fields[0])).toEqual(rows.map((r) => r.id));
    expect(parsed[0][CSV_COLUMNS.indexOf('userAgent')]).toBe(`'-x, "y"`);
    expect(parsed[2][CSV_COLUMNS.indexOf('expiresAt')]).toBe('2026-03-04T06:00:00.000Z');
  });

  it('writes just the header for an empty result', async () => {
    streamRowsMock.mockImplementation(async function* () {
      // nothing matches
    });
    const exporter = new MintAuditExport(longReads, db);
    expect(await read(exporter.stream(orgId, {}, 'csv'))).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
    expect(await read(exporter.stream(orgId, {}, 'ndjson'))).toBe('');
  });
});
