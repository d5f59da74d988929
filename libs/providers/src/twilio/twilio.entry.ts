import type { Scope } from '@mintline/access/scopes';
import { field, optionalField, secret, twilioSid } from '../registry/credential-field-rules';
import { MintRequestBody, ttlSecondsProperty } from '../registry/mint-request-body';
import { defineProvider } from '../registry/provider-entry';
import { TwilioTokenRequest, TwilioTokens } from './twilio.tokens';

const DEFAULT_TTL_SECONDS = 3600;
/** Twilio's limit on a room's unique name. */
const MAX_ROOM_LENGTH = 128;
// eslint-disable-next-line no-control-regex -- control characters are what a room name must not carry
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]+$/;

/** A Twilio account's API key: AccessTokens with Voice, Video, Conversations (chat) and Sync grants. */
export const TWILIO = defineProvider({
  credentials: 'twilio',
  title: 'Twilio',
  fields: [
    field('accountSid', { check: twilioSid('AC') }),
    field('apiKeySid', { check: twilioSid('SK') }),
    secret('apiKeySecret'),
    field('twimlAppSid', { check: twilioSid('AP') }),
    optionalField('conversationsServiceSid', { check: twilioSid('IS'), description: 'The Conversations service of chat grants (IS...)' }),
    optionalField('syncServiceSid', { check: twilioSid('IS'), description: 'The Sync service of data_sync grants (IS...)' }),
  ],
  notConfiguredCode: 'TWILIO_NOT_CONFIGURED',
  verify: { kind: 'format', detail: 'The twilio credentials are well-formed; twilio offers no check without placing a call' },
  tokens: {
    name: 'twilio',
    summary:
      'twilio `{userId?, ttlSeconds? (3600), voice? (true), video?: {room?}, conversations?, sync?}`: an AccessToken with the asked grants ' +
      '(voice: outgoing through the TwiML app, incoming allowed; video; chat with conversationsServiceSid; data_sync with syncServiceSid). ' +
      'CREATE_CHAT_TOKEN when only conversations/sync are asked; both scopes when they are asked with voice or video.',
    request: {
      properties: {
        ttlSeconds: ttlSecondsProperty(DEFAULT_TTL_SECONDS),
        voice: { type: 'boolean', default: true, description: 'A voice grant (outgoing calls through the TwiML app, incoming allowed)' },
        video: {
          type: 'object',
          additionalProperties: false,
          description: 'A video grant, for one room when `room` is given',
          properties: { room: { type: 'string', minLength: 1, maxLength: MAX_ROOM_LENGTH } },
        },
        conversations: { type: 'boolean', default: false, description: 'A chat grant for the Conversations service (conversationsServiceSid)' },
        sync: { type: 'boolean', default: false, description: 'A data_sync grant for the Sync service (syncServiceSid)' },
      },
    },
    parse: (body) => {
      const read = new MintRequestBody(body, 'twilio', ['ttlSeconds', 'voice', 'video', 'conversations', 'sync']);
      const ttlSeconds = read.ttlSeconds(DEFAULT_TTL_SECONDS);
      const voice = read.boolean('voice', true);
      const videoBody = read.object('video', ['room']);
      const room = videoBody?.string('room', {
        min: 1,
        max: MAX_ROOM_LENGTH,
        pattern: NO_CONTROL_CHARACTERS,
        patternMessage: 'must not contain control characters',
        optional: true,
      });
      const conversations = read.boolean('conversations', false);
      const sync = read.boolean('sync', false);
      if (!voice && !videoBody && !conversations && !sync) read.problem('voice', 'the token would grant nothing: ask for voice, video, conversations or sync');
      const request: TwilioTokenRequest = {
        ttlSeconds,
        voice,
        voiceAsked: body.voice === true,
        ...(videoBody ? { video: room !== undefined ? { room } : {} } : {}),
        conversations,
        sync,
      };
      return read.done(request);
    },
    answer: {
      identity: { type: 'string', maxLength: 36, pattern: '^[A-Za-z0-9_]+$', description: 'The Twilio client identity: the user id with only [A-Za-z0-9_]' },
    },
    scopes: (body) => twilioScopes(body),
    grant: (request) => ({
      room: request.video?.room ?? null,
      ttlSeconds: request.ttlSeconds,
      fixedTtl: false,
      // Publish rights are the voice grant's outgoing calls.
      publish: !request.voice ? 'none' : request.voiceAsked ? 'asked' : 'default',
    }),
    target: (request) => `twilio:${grantsNamed(request).join(',')}`,
    minter: TwilioTokens,
  },
});

/**
 * CREATE_CALL_TOKEN for voice or video, CREATE_CHAT_TOKEN for Conversations or Sync: a token asking
 * only the latter needs only CREATE_CHAT_TOKEN (API.md), and one asking both kinds needs both, so that
 * neither scope alone yields the other's grants. Read from the raw body: only an explicit `false`
 * turns voice off, as validation will read it.
 */
function twilioScopes(body: unknown): readonly Scope[] {
  const asked = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const call = asked.voice !== false || asked.video !== undefined;
  const chat = asked.conversations === true || asked.sync === true;
  if (call && chat) return ['CREATE_CALL_TOKEN', 'CREATE_CHAT_TOKEN'];
  return chat ? ['CREATE_CHAT_TOKEN'] : ['CREATE_CALL_TOKEN'];
}

/** What the token grants, for the audit's target: `twilio:voice,video:<room>,conversations,sync`. */
function grantsNamed(request: TwilioTokenRequest): string[] {
  const named: string[] = [];
  if (request.voice) named.push('voice');
  if (request.video) named.push(request.video.room !== undefined ? `video:${request.video.room}` : 'video');
  if (request.conversations) named.push('conversations');
  if (request.sync) named.push('sync');
  return named;
}
