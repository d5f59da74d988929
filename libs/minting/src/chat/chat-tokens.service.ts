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
    return this.pipeline.run('signalwire-chat', principal, meta, async (attempt) => {
      const { userId: bodyUserId, rest } = splitUserId(body);
      const requestedUserId = queryUserId ?? bodyUserId;
      // Chat identity is member_id; a subject user is optional for API keys, and a user is always itself.
      if (principal.kind === 'user' || requestedUserId) attempt.subjectUserId = await this.subjects.resolve(principal, requestedUserId);
      // Validated locally first: a request that breaks SignalWire's rules never leaves this service.
      const request = parseChatTokenRequest(rest);
      const credentials = await this.credentials.decrypted(principal.orgId, 'signalwire');
      if (!credentials) throw new ApiError(400, 'SIGNALWIRE_NOT_CONFIGURED', 'This org has no signalwire credentials');
      attempt.target = `signalwire:${credentials.spaceUrl}`;
      const minted = await this.signalwire.mint(
        { spaceUrl: credentials.spaceUrl, projectId: credentials.projectId, apiToken: credentials.apiToken },
        request,
      );
      return { token: minted.token, expiresAt: minted.expiresAt, body: { token: minted.token } };
    });
  }
}

/** `userId` is Mintline's, not SignalWire's: take it out of the body before the body is checked. */
function splitUserId(body: unknown): { userId: string | undefined; rest: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('userId' in body)) return { userId: undefined, rest: body };
  const { userId, ...rest } = body as Record<string, unknown>;
  // Its UUID form is checked, with the query's, when the subject is resolved.
  if (typeof userId !== 'string') throw ApiError.validation([{ field: 'userId', message: 'must be a UUID' }]);
  return { userId, rest };
}
