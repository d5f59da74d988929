import { field, outboundUrl, secret } from '../registry/credential-field-rules';
import { MintRequestBody, ttlSecondsProperty } from '../registry/mint-request-body';
import { defineProvider } from '../registry/provider-entry';
import { LiveKitRoomsCheck } from './livekit-rooms.check';
import { LiveKitTokenRequest, LiveKitTokens } from './livekit.tokens';

const DEFAULT_TTL_SECONDS = 3600;
const MAX_ROOM_LENGTH = 256;
// eslint-disable-next-line no-control-regex -- control characters are what a room name must not carry
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]+$/;
const RIGHTS = ['canPublish', 'canSubscribe', 'canPublishData'] as const;

/** A LiveKit server (Cloud or self-hosted): HS256 access tokens with a room-join video grant. */
export const LIVEKIT = defineProvider({
  credentials: 'livekit',
  title: 'LiveKit',
  fields: [
    // The server's URL is tenant-supplied and receives tokens signed with the tenant's secret: the
    // outbound-address rules apply. Stored as given (wss or https); API calls use its https form.
    field('url', { check: outboundUrl(['wss', 'https']), description: 'The LiveKit server, wss:// or https://' }),
    field('apiKey'),
    secret('apiSecret'),
  ],
  notConfiguredCode: 'LIVEKIT_NOT_CONFIGURED',
  verify: { kind: 'upstream', checker: LiveKitRoomsCheck },
  tokens: {
    name: 'livekit',
    summary:
      'livekit `{userId?, room, ttlSeconds? (3600), canPublish? (true), canSubscribe? (true), canPublishData? (true)}`: an HS256 access token ' +
      "(iss the API key, sub the user id, name the user's name) with a room-join video grant for that room, never an admin grant",
    request: {
      properties: {
        room: { type: 'string', minLength: 1, maxLength: MAX_ROOM_LENGTH, description: 'The room the token joins' },
        ttlSeconds: ttlSecondsProperty(DEFAULT_TTL_SECONDS),
        canPublish: { type: 'boolean', default: true },
        canSubscribe: { type: 'boolean', default: true },
        canPublishData: { type: 'boolean', default: true },
      },
      required: ['room'],
    },
    parse: (body) => {
      const read = new MintRequestBody(body, 'livekit', ['room', 'ttlSeconds', ...RIGHTS]);
      const room = read.string('room', { min: 1, max: MAX_ROOM_LENGTH, pattern: NO_CONTROL_CHARACTERS, patternMessage: 'must not contain control characters' });
      const request: LiveKitTokenRequest = {
        room: room ?? '',
        ttlSeconds: read.ttlSeconds(DEFAULT_TTL_SECONDS),
        canPublish: read.boolean('canPublish', true),
        canSubscribe: read.boolean('canSubscribe', true),
        canPublishData: read.boolean('canPublishData', true),
        publishAsked: body.canPublish === true || body.canPublishData === true,
        publishRefused: body.canPublish === false && body.canPublishData === false,
      };
      return read.done(request);
    },
    answer: {
      url: { type: 'string', maxLength: 2048, description: 'The LiveKit server to connect to, as stored' },
      identity: { type: 'string', format: 'uuid', description: "The participant identity: the user's id" },
      room: { type: 'string', maxLength: MAX_ROOM_LENGTH },
    },
    grant: (request) => ({
      room: request.room,
      ttlSeconds: request.ttlSeconds,
      fixedTtl: false,
      publish: request.publishAsked ? 'asked' : request.publishRefused ? 'none' : 'default',
    }),
    target: (request) => `livekit:${request.room}`,
    minter: LiveKitTokens,
  },
});
