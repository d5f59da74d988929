import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { LongReads } from '@mintline/common/database/pg-client';
import { MintAuditEntryView, MintAuditFilterDto } from './mint-audit.dto';
import { MINT_AUDIT_COLUMNS, mintAuditWhere, MintAuditRow, toMintAuditView } from './mint-audit.query';

export type ExportFormat = 'ndjson' | 'csv';

export const CSV_COLUMNS = [
  'id', 'orgId', 'at', 'provider', 'action', 'actorKind', 'actorId', 'subjectUserId', 'target',
  'outcome', 'code', 'tokenFingerprint', 'expiresAt', 'ip', 'userAgent', 'requestId',
] as const;

/** Every matching entry, newest first, streamed from a database cursor: memory stays flat. */
@Injectable()
export class MintAuditExport {
  constructor(private readonly longReads: LongReads) {}

  stream(orgId: string, filter: MintAuditFilterDto, format: ExportFormat): Readable {
    const where = mintAuditWhere(orgId, filter);
    const rows = this.longReads.stream<MintAuditRow>(
      { orgId },
      `SELECT ${MINT_AUDIT_COLUMNS} FROM mint_audit WHERE ${where.sql} ORDER BY at DESC, seq DESC`,
      where.params,
    );
    return Readable.from(format === 'csv' ? csvLines(rows) : ndjsonLines(rows));
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
