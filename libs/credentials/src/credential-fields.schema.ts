import type { SchemaObject } from '@nestjs/swagger';
import { CREDENTIAL_PROVIDERS, credentialFields, CredentialProvider, MAX_FIELD_LENGTH } from './provider-fields';

/**
 * The OpenAPI schema of one provider's credential body, derived from the field table that validates it,
 * so the document cannot drift from the check. The path's provider picks which one applies.
 */
export function credentialFieldsSchema(provider: CredentialProvider): SchemaObject {
  const fields = credentialFields(provider);
  return {
    title: provider,
    description: `The body when the path's provider is ${provider}${
      fields.some((f) => f.secret)
        ? `; ${fields
            .filter((f) => f.secret)
            .map((f) => f.name)
            .join(', ')} encrypted at rest and never returned`
        : ''
    }`,
    type: 'object',
    additionalProperties: false,
    required: fields.filter((field) => !field.optional).map((field) => field.name),
    properties: Object.fromEntries(
      fields.map((field) => [field.name, { type: 'string', minLength: 1, maxLength: MAX_FIELD_LENGTH, ...(field.secret ? { writeOnly: true } : {}) }]),
    ),
  };
}

/** PUT /api/credentials/{provider}: one of the providers' bodies, chosen by the path's provider. */
export function credentialBodySchema(): SchemaObject {
  return { oneOf: CREDENTIAL_PROVIDERS.map(credentialFieldsSchema) };
}

/** A stored credential's fields as answered: the provider's fields, secret ones masked ("••••" and 4 characters). */
export function maskedCredentialFieldProperties(): Record<string, { type: 'string'; maxLength: number }> {
  const names = new Set(CREDENTIAL_PROVIDERS.flatMap((provider) => credentialFields(provider).map((field) => field.name)));
  return Object.fromEntries([...names].sort().map((name) => [name, { type: 'string' as const, maxLength: MAX_FIELD_LENGTH }]));
}
