import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { TOKEN_PROVIDERS, tokenRouteOf } from '@mintline/providers/provider-registry';

/**
 * The OpenAPI bodies of POST /api/tokens/{provider}, derived from the provider registry's token routes
 * (the same entries that parse the requests and build the answers), one closed schema per provider.
 */

const USER_ID: SchemaObject = {
  type: 'string',
  format: 'uuid',
  maxLength: 64,
  description: 'With an API key: the user of your org to mint for. Users mint for themselves (omit it, or pass your own id).',
};

function routeOf(provider: string) {
  const registered = tokenRouteOf(provider);
  if (!registered) throw new Error(`No token route ${provider}`);
  return registered.route;
}

/** The request body: one of the providers' bodies, chosen by the path's provider. */
export function tokenRequestBodySchema(): SchemaObject {
  return {
    oneOf: TOKEN_PROVIDERS.map((provider) => {
      const route = routeOf(provider);
      return {
        title: `${provider} token request`,
        description: `The body when the path's provider is ${provider}`,
        type: 'object',
        additionalProperties: false,
        properties: { userId: USER_ID, ...route.request.properties },
        ...(route.request.required?.length ? { required: [...route.request.required] } : {}),
      };
    }),
  };
}

/** The answer: `{token, userId, expiresIn}` and the provider's own fields, every one present. */
export function tokenAnswerSchema(): SchemaObject {
  return {
    oneOf: TOKEN_PROVIDERS.map((provider) => {
      const route = routeOf(provider);
      const own = Object.keys(route.answer);
      return {
        title: `${provider} token`,
        type: 'object',
        additionalProperties: false,
        required: ['token', ...own, 'userId', 'expiresIn'],
        properties: {
          token: { type: 'string', maxLength: 8192, description: `The ${provider} token; never stored (the audit keeps its fingerprint)` },
          ...route.answer,
          userId: { type: 'string', format: 'uuid' },
          expiresIn: { type: 'integer', format: 'int32', minimum: 1, maximum: 86_400, description: "The token's lifetime in seconds" },
        },
      };
    }),
  };
}

/** The route's description: one line per provider, from its registry entry. */
export function tokenRouteDescription(): string {
  return TOKEN_PROVIDERS.map((provider) => `- ${routeOf(provider).summary}`).join('\n');
}
