import type { SchemaObject } from '@nestjs/swagger';
import { CREDENTIAL_PROVIDERS, credentialFields, CredentialProvider, providerEntry } from '@mintline/providers/provider-registry';

/**
 * The OpenAPI schema of one provider's credential body, derived from the field table that validates it,
 * so the document cannot drift from the check. The path's provider picks which one applies.
 */
export function credentialFieldsSchema(provider: CredentialProvider): SchemaObject {
  const fields = credentialFields(provider);
  return {
    title: provider,
    description: `The body when the path's provider is ${provider} (${providerEntry(provider).title})${
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
      fields.map((field) => [
        field.name,
        {
          type: 'string',
          minLength: 1,
          maxLength: field.maxLength,
          ...(field.description ? { description: field.description } : {}),
          ...(field.secret ? { writeOnly: true } : {}),
        },
      ]),
    ),
  };
}

/** PUT /api/credentials/{provider}: one of the providers' bodies, chosen by the path's provider. */
export function credentialBodySchema(): SchemaObject {
  return { oneOf: CREDENTIAL_PROVIDERS.map(credentialFieldsSchema) };
}

/** A stored credential's fields as answered: the provider's fields, secret ones masked ("••••" and 4 characters). */
export function maskedCredentialFieldProperties(): Record<string, { type: 'string'; maxLength: number }> {
  const longest = new Map<string, number>();
  for (const field of CREDENTIAL_PROVIDERS.flatMap((provider) => credentialFields(provider))) {
    // A secret is answered masked (8 characters at most); the name's longest plain value bounds the rest.
    const answered = field.secret ? '••••'.length + 4 : field.maxLength;
    longest.set(field.name, Math.max(longest.get(field.name) ?? 0, answered));
  }
  return Object.fromEntries([...longest.keys()].sort().map((name) => [name, { type: 'string' as const, maxLength: longest.get(name) ?? 0 }]));
}

/** One line per provider for the route's description: `livekit: url, apiKey, apiSecret*` (optional fields with `?`). */
export function credentialFieldsSummary(): string {
  return CREDENTIAL_PROVIDERS.map(
    (provider) =>
      `${provider}: ${credentialFields(provider)
        .map((field) => `${field.name}${field.optional ? '?' : ''}${field.secret ? '*' : ''}`)
        .join(', ')}`,
  ).join('. ');
}
