import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { Db } from '@mintline/common/database/db';
import { LongReads } from '@mintline/common/database/pg-client';
import { ApiError } from '@mintline/common/errors/api-error';
import { checkpointOf } from '../checkpoints/checkpoint.query';
import { MintAuditEntryView, MintAuditFilterDto } from './mint-audit.dto';
import { toMintAuditView } from './mint-audit.query';
import { CheckpointedRow, MintAuditRepository, MintAuditRow } from './mint-audit.repository';

export type ExportFormat = 'ndjson' | 'csv';

export const CSV_COLUMNS = [
  'id',
  'orgId',
  'at',
  'provider',
  'action',
  'actorKind',
  'actorId',
  'subjectUserId',
  'target',
  'outcome',
  'code',
  'tokenFingerprint',
  'expiresAt',
  'ip',
  'userAgent',
  'requestId',
] as const;

/** Every matching entry, newest first, streamed from a database cursor: memory stays flat. */
@Injectable()
export class MintAuditExport {
  constructor(
    private readonly longReads: LongReads,
    private readonly db: Db,
  ) {}

  stream(orgId: string, filter: MintAuditFilterDto, format: ExportFormat, checkpoints = false): Readable {
    if (checkpoints) return this.streamWithCheckpoints(orgId, filter, format);
    const rows = MintAuditRepository.exportRows(this.longReads, this.db.forOrg(orgId), filter);
    return Readable.from(format === 'csv' ? csvLines(rows) : ndjsonLines(rows));
  }

  /**
   * NDJSON with each entry's place in the chain and, after an entry, the checkpoint that signed it. It must
   * be a contiguous stretch of the chain to verify offline: a time range is one (`at` never goes backwards
   * along a chain), the other filters would leave holes, so they are refused.
   */
  private streamWithCheckpoints(orgId: string, filter: MintAuditFilterDto, format: ExportFormat): Readable {
    if (format !== 'ndjson') throw ApiError.validation([{ field: 'checkpoints', message: 'checkpoints=true exports NDJSON only (format=ndjson)' }]);
    const holes = (['provider', 'outcome', 'action', 'actorId', 'subjectUserId'] as const).filter((field) => filter[field] !== undefined);
    if (holes.length > 0) {
      throw ApiError.validation(
        holes.map((field) => ({ field, message: 'cannot narrow an export with checkpoints=true, which is a contiguous stretch of the chain (from and to may)' })),
      );
    }
    const rows = MintAuditRepository.exportChain(this.longReads, this.db.forOrg(orgId), { from: filter.from, to: filter.to });
    return Readable.from(chainLines(rows));
  }
}

/** An entry line with its place in the chain, then the checkpoint stored at its seq (if any) on the next line. */
async function* chainLines(rows: AsyncIterable<CheckpointedRow>): AsyncGenerator<string> {
  for await (const row of rows) {
    const seq = Number(row.seq);
    yield `${JSON.stringify({ type: 'entry', ...toMintAuditView(row), seq, prevHash: row.prev_hash.toString('hex'), hash: row.hash.toString('hex') })}\n`;
    const checkpoint = checkpointOf(row.org_id, seq, row);
    if (checkpoint) yield `${JSON.stringify({ type: 'checkpoint', ...checkpoint })}\n`;
  }
}

async function* ndjsonLines(rows: AsyncIterable<MintAuditRow>): AsyncGenerator<string> {
  for await (const row of rows) yield `${JSON.stringify(toMintAuditView(row))}\n`;
}

async function* csvLines(rows: AsyncIterable<MintAuditRow>): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const row of rows) yield `${csvRecord(toMintAuditView(row))}\r\n`;
}

export function csvRecord(entry: MintAuditEntryView): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string | null> = {
    id: entry.id,
    orgId: entry.orgId,
    at: entry.at,
    provider: entry.provider,
    action: entry.action,
    actorKind: entry.actor.kind,
    actorId: entry.actor.id,
    subjectUserId: entry.subjectUserId,
    target: entry.target,
    outcome: entry.outcome,
    code: entry.code,
    tokenFingerprint: entry.tokenFingerprint,
    expiresAt: entry.expiresAt,
    ip: entry.ip,
    userAgent: entry.userAgent,
    requestId: entry.requestId,
  };
  return CSV_COLUMNS.map((column) => csvField(values[column])).join(',');
}

/**
 * RFC 4180 quoting, and a leading apostrophe for text a spreadsheet would run as a formula
 * (=, +, -, @, tab, carriage return), since user agents are the client's to choose.
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
