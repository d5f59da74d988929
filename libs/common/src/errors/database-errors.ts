import { ApiError } from './api-error';

interface PgLikeError {
  code?: string;
  message?: string;
  driverError?: PgLikeError;
}

/** SQLSTATE classes and driver messages that mean "the database is not reachable right now". */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300']);
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection terminated unexpectedly',
  'connect ECONNREFUSED',
  'the database system is shutting down',
  'the database system is starting up',
  'Client was closed',
  'Cannot use a pool after calling end on the pool',
  // ALLOW_CONNECTIONS false (maintenance): SQLSTATE 55000, too broad a code to map on its own.
  'is not currently accepting connections',
  // node-postgres's query_timeout: the server accepted the query but never answered (hung or partitioned).
  'Query read timeout',
  // TypeORM lets go of a query runner whose connection broke; its next statement fails with this.
  'Query runner already released',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as PgLikeError;
  const inner = candidate.driverError ?? candidate;
  const code = inner.code ?? candidate.code;
  if (code && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_NODE_CODES.has(code))) return true;
  const message = inner.message ?? candidate.message ?? '';
  return UNAVAILABLE_MESSAGES.some((text) => message.includes(text));
}

/**
 * Database errors that a client's input can cause and that slipped past validation: they are the
 * client's fault (4xx), never a 500.
 */
export function translateDatabaseError(error: unknown): ApiError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as PgLikeError;
  const code = candidate.driverError?.code ?? candidate.code;
  switch (code) {
    case '23505':
      return ApiError.conflict('CONFLICT', 'The object conflicts with an existing one');
    case '22P02':
    case '22007':
    case '22008':
    case '22003':
    case '22001':
    case '22021':
      return ApiError.validation([{ field: 'request', message: 'contains a value the database cannot accept' }]);
    case '23502':
      // not_null_violation: an optional update field sent as an explicit null (class-validator's
      // IsOptional lets null through) for a column that must have a value.
      return ApiError.validation([{ field: 'request', message: 'sets a field that must have a value to null' }]);
    case '57014':
      return ApiError.unavailable('The database did not answer in time');
    default:
      return undefined;
  }
}
