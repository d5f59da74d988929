import { Injectable } from '@nestjs/common';
import type { TenantPrincipal } from '@mintline/access/principal';
import { ApiError } from '@mintline/common/errors/api-error';
import type { RequestMeta } from '@mintline/common/http/request-context';
import { CredentialsService } from '@mintline/credentials/credentials.service';
import { parseChatTokenRequest } from '@mintline/providers/signalwire/chat-token-request';
import { SignalWireChatProvider } from '@mintline/providers/signalwire/signalwire-chat.provider';
import { MintPipeline } from '../mint-pipeline.service';
import { MintSubjectsService } from '../mint-subjects.service';

/** SignalWire chat tokens, minted by the org's own SignalWire space after local validation. */
@Injectable()
export class ChatTokensService {
  constructor(
    private readonly pipeline: MintPipeline,
    private readonly subjects: MintSubjectsService,
    private readonly credentials: CredentialsService,
    private readonly signalwire: SignalWireChatProvider,
  ) {}

  mint(principal: TenantPrincipal, body: unknown, queryUserId: string | undefined, meta: RequestMeta): Promise<{ token: string }> {
    return this.pipeline.run({
      provider: 'signalwire-chat',
      principal,
      meta,
      subject: async () => {
        const bodyUserId = userIdOf(body);
        const requestedUserId = queryUserId ?? bodyUserId;
        // Chat identity is member_id; a subject user is optional for API keys, and a user is always itself.
        return principal.kind === 'user' || requestedUserId ? this.subjects.resolve(principal, requestedUserId) : null;
      },
      target: async () => {
        // Validated locally first: a request that breaks SignalWire's rules never leaves this service.
        const request = parseChatTokenRequest(withoutUserId(body));
        const credentials = await this.credentials.require('signalwire', principal.orgId);
        return { name: `signalwire:${credentials.spaceUrl}`, value: { request, credentials } };
      },
      mint: async ({ target: { request, credentials } }) => {
        const minted = await this.signalwire.mint(credentials, request);
        return { token: minted.token, expiresAt: minted.expiresAt, body: { token: minted.token } };
      },
    });
  }
}

/** `userId` is Mintline's, not SignalWire's: the body may name the subject user beside SignalWire's fields. */
function userIdOf(body: unknown): string | undefined {
  if (!hasUserId(body)) return undefined;
  // Its UUID form is checked, with the query's, when the subject is resolved.
  if (typeof body.userId !== 'string') throw ApiError.validation([{ field: 'userId', message: 'must be a UUID' }]);
  return body.userId;
}

/** The body as SignalWire's rules check it: without Mintline's `userId`. */
function withoutUserId(body: unknown): unknown {
  if (!hasUserId(body)) return body;
  const { userId: _userId, ...rest } = body;
  return rest;
}

function hasUserId(body: unknown): body is Record<string, unknown> & { userId: unknown } {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'userId' in body;
}
