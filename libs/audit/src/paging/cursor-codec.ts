import { Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '@mintline/common/config';
import { ApiError } from '@mintline/common/errors/api-error';

/**
 * Opaque paging cursors: the position as JSON, bound to the org and a purpose, with an HMAC. A cursor
 * that was edited, made up, or issued to another org or for another list is a 400, never a 500.
 */
@Injectable()
export class CursorCodec {
  private readonly key: Buffer;

  constructor(config: AppConfig) {
    this.key = createHmac('sha256', config.jwtSecret).update('mintline.cursor.v1').digest();
  }

  encode(purpose: string, orgId: string, position: Record<string, string | number>): string {
    const payload = Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
    return `${payload}.${this.sign(purpose, orgId, payload).toString('base64url')}`;
  }

  decode<T extends Record<string, string | number>>(purpose: string, orgId: string, cursor: string): T {
    const invalid = () => ApiError.validation([{ field: 'cursor', message: 'is not a cursor this list gave out' }]);
    const [payload, signature, ...rest] = cursor.split('.');
    if (!payload || !signature || rest.length > 0 || cursor.length > 512) throw invalid();
    const expected = this.sign(purpose, orgId, payload);
    const given = Buffer.from(signature, 'base64url');
    // Base64url decoding forgives stray characters and the unused low bits of the last one; accept only
    // the one spelling this codec writes, so an edited cursor is never taken.
    if (given.toString('base64url') !== signature) throw invalid();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    try {
      const position = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
      if (typeof position !== 'object' || position === null || Array.isArray(position)) throw invalid();
      return position as T;
    } catch {
      throw invalid();
    }
  }

  private sign(purpose: string, orgId: string, payload: string): Buffer {
    return createHmac('sha256', this.key).update(`${purpose}\n${orgId}\n${payload}`).digest();
  }
}
