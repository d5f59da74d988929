import type { ExecutionContext } from '@nestjs/common';
import { ApiError } from '@mintline/common/errors/api-error';
import type { Principal } from './principal';

/**
 * The access guard's refusal of an authenticated principal (a missing scope, a feature the org has off,
 * an operator-only route). It answers like the ApiError it carries, and it names the principal and the
 * route handler that refused, so that whoever owns a route can record the refusal without the guard
 * knowing about it: a mint route audits it as a denied mint (libs/minting/src/mint-refusal.filter.ts).
 */
export class AccessRefusal extends ApiError {
  constructor(
    refusal: ApiError,
    readonly principal: Principal,
    readonly handler: ReturnType<ExecutionContext['getHandler']>,
  ) {
    super(refusal.status, refusal.code, refusal.message, refusal.details, refusal.headers);
    this.name = 'AccessRefusal';
  }
}
