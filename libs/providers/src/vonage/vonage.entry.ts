import { checkRsaPrivateKeyPem, checkUuid, field, secret } from '../registry/credential-field-rules';
import { MintRequestBody, ttlSecondsProperty } from '../registry/mint-request-body';
import { defineProvider } from '../registry/provider-entry';
import { VonageTokenRequest, VonageTokens } from './vonage.tokens';

const DEFAULT_TTL_SECONDS = 900;

/** A Vonage application: RS256 Client SDK JWTs signed with its private key. */
export const VONAGE = defineProvider({
  credentials: 'vonage',
  title: 'Vonage',
  fields: [
    field('applicationId', { check: checkUuid, description: 'The Vonage application id (a UUID)' }),
    // A 4096-bit PKCS#8 key is about 3,300 characters of PEM, with its line breaks.
    secret('privateKey', { check: checkRsaPrivateKeyPem, maxLength: 8192, multiline: true, description: "The application's RSA private key, PEM" }),
  ],
  notConfiguredCode: 'VONAGE_NOT_CONFIGURED',
  verify: {
    kind: 'format',
    detail: 'The vonage application id is a UUID and the private key parses as an RSA key; Vonage offers no check of the pair without a call',
  },
  tokens: {
    name: 'vonage',
    summary: 'vonage `{userId?, ttlSeconds? (900)}`: an RS256 Client SDK JWT (application_id, iat, exp, jti, sub the user id, acl.paths the ten Client SDK paths)',
    request: { properties: { ttlSeconds: ttlSecondsProperty(DEFAULT_TTL_SECONDS) } },
    parse: (body) => {
      const read = new MintRequestBody(body, 'vonage', ['ttlSeconds']);
      const request: VonageTokenRequest = { ttlSeconds: read.ttlSeconds(DEFAULT_TTL_SECONDS) };
      return read.done(request);
    },
    answer: {
      applicationId: { type: 'string', format: 'uuid' },
      sub: { type: 'string', format: 'uuid', description: "The Vonage user the token is for: the user's id" },
    },
    // The Client SDK's rights are the ACL's, which has no publish-only part: nothing a publish rule could withhold.
    grant: (request) => ({ room: null, ttlSeconds: request.ttlSeconds, fixedTtl: false, publish: 'none' }),
    target: (_request, fields) => `vonage:${fields.applicationId}`,
    minter: VonageTokens,
  },
});
