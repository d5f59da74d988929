import { Injectable } from '@nestjs/common';
import type { TenantPrincipal } from '@mintline/access/principal';
import type { RequestMeta } from '@mintline/common/http/request-context';
import { CredentialsService } from '@mintline/credentials/credentials.service';
import { SinchVoiceProvider } from '@mintline/providers/sinch-voice/sinch-voice.provider';
import { TWILIO_ACCESS_TOKEN_TTL_SECONDS, TwilioVoiceProvider } from '@mintline/providers/twilio/twilio-voice.provider';
import { CallerIdsService } from '@mintline/tenancy/caller-ids/caller-ids.service';
import type { MintGrant } from '@mintline/providers/registry/mint-grant';
import { MintPipeline } from '../mint-pipeline.service';
import { MintSubjectsService } from '../mint-subjects.service';
import { SinchTokenView, TwilioTokenView } from './voice-token.dto';

const SINCH_TOKEN_TTL_SECONDS = 600;

/** A Sinch registration token lives 600 s, names no room and carries no publish rights a policy could take. */
const SINCH_GRANT: MintGrant = { room: null, ttlSeconds: SINCH_TOKEN_TTL_SECONDS, fixedTtl: true, publish: 'none' };
/** A Twilio Voice token: an hour unless the policy shortens it; its outgoing calls are its publish rights. */
const TWILIO_VOICE_GRANT: MintGrant = { room: null, ttlSeconds: TWILIO_ACCESS_TOKEN_TTL_SECONDS, fixedTtl: false, publish: 'default' };

/** Voice SDK tokens of the providers (Sinch, Twilio) for one user of the caller's org. */
@Injectable()
export class VoiceTokensService {
  constructor(
    private readonly pipeline: MintPipeline,
    private readonly subjects: MintSubjectsService,
    private readonly credentials: CredentialsService,
    private readonly callerIds: CallerIdsService,
    private readonly sinchVoice: SinchVoiceProvider,
    private readonly twilioVoice: TwilioVoiceProvider,
  ) {}

  sinch(principal: TenantPrincipal, requestedUserId: string | undefined, meta: RequestMeta): Promise<SinchTokenView> {
    return this.pipeline.run({
      provider: 'sinch',
      principal,
      meta,
      subject: () => this.subjects.resolve(principal, requestedUserId),
      target: async () => {
        const credentials = await this.credentials.require('sinch-voice', principal.orgId);
        return { name: `sinch:${credentials.applicationKey}`, value: credentials };
      },
      grant: SINCH_GRANT,
      mint: async ({ subjectUserId: userId, target: credentials }) => {
        const [minted, callerIdentifier] = await Promise.all([this.sinchVoice.mint(credentials, { userId }), this.callerIds.defaultNumber(principal.orgId, userId, 'sinch')]);
        return {
          token: minted.token,
          expiresAt: minted.expiresAt,
          body: { token: minted.token, applicationKey: credentials.applicationKey, userId, callerIdentifier, expiresIn: SINCH_TOKEN_TTL_SECONDS },
        };
      },
    });
  }

  twilio(principal: TenantPrincipal, requestedUserId: string | undefined, meta: RequestMeta): Promise<TwilioTokenView> {
    return this.pipeline.run({
      provider: 'twilio',
      principal,
      meta,
      subject: () => this.subjects.resolve(principal, requestedUserId),
      target: async () => {
        const credentials = await this.credentials.require('twilio', principal.orgId);
        return { name: `twilio:${credentials.accountSid}`, value: credentials };
      },
      grant: TWILIO_VOICE_GRANT,
      mint: async ({ subjectUserId: userId, target: credentials, grant = TWILIO_VOICE_GRANT }) => {
        const [minted, callerIdentifier] = await Promise.all([
          this.twilioVoice.mint(credentials, { userId, ttlSeconds: grant.ttlSeconds, outgoing: grant.publish !== 'none' }),
          this.callerIds.defaultNumber(principal.orgId, userId, 'twilio'),
        ]);
        return {
          token: minted.token,
          expiresAt: minted.expiresAt,
          body: { token: minted.token, identity: minted.identity, userId, callerIdentifier, expiresIn: grant.ttlSeconds },
        };
      },
    });
  }
}
