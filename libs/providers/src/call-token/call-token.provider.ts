import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { Clock } from '@mintline/common/clock';
import type { MintResult, TokenProvider } from '../token-provider';

export const CALL_TOKEN_PREFIX = 'mct_';
export const CALL_TOKEN_TTL = { min: 30, max: 900, default: 300 } as const;

export interface CallTokenRequest {
  endpointId: string;
  ttlSeconds: number;
}

export type CallTokenMintResult = MintResult & { tokenHash: Buffer };

/**
 * Mintline's own call tokens: 256 random bits, unguessable, stored only as their SHA-256. What a token
 * is bound to (org, endpoint, expiry, single use) lives in its database row, not in the token.
 */
@Injectable()
export class CallTokenProvider implements TokenProvider<void, CallTokenRequest, CallTokenMintResult> {
  readonly name = 'call-token' as const;

  constructor(private readonly clock: Clock) {}

  async mint(_credentials: void, request: CallTokenRequest): Promise<CallTokenMintResult> {
    const token = CALL_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    return { token, tokenHash: hashCallToken(token), expiresAt: new Date(this.clock.nowMs() + request.ttlSeconds * 1000) };
  }
}

export function hashCallToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
