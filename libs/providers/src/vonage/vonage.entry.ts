import { checkRsaPrivateKeyPem, checkUuid, field, secret } from '../registry/credential-field-rules';
import { defineProvider } from '../registry/provider-entry';

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
});
