import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { OperationObject, ParameterObject, ResponseObject, SchemaObject, ServerObject } from '@nestjs/swagger';
import { ERROR_ENVELOPE_REF, ERROR_ENVELOPE_SCHEMA } from '@mintline/common/openapi/api-error-response';

/**
 * The served OpenAPI document (/docs/openapi.json). Routes describe themselves with decorators (access
 * rules, ApiErrorResponse, DTOs); what holds for every route is added here, once, so that a generated
 * client can trust the document: every status a route can answer, every error with the envelope's schema.
 */
export function buildOpenApiDocument(app: INestApplication, bodyLimitBytes: number): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Mintline')
      .setDescription('Multi-tenant broker for short-lived voice and chat client tokens. Errors: {success: false, error, code, requestId, details?}.')
      .setVersion('1.0')
      .addBearerAuth({
        type: 'http',
        scheme: 'bearer',
        // "RFC8725" names the JWT best practices the access tokens follow (OWASP API2 asks the scheme to say so).
        description: 'Access JWT (RFC8725: HS256 only, issuer, audience and a 15-minute expiry checked), API key (mlk_...) or operator token',
      })
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'apiKey')
      .build(),
    { operationIdFactory: operationId },
  );
  return finishDocument(document, bodyLimitBytes);
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;
const BODY_METHODS = new Set<string>(['put', 'post', 'delete', 'patch']);

/** Upper bounds of formatted strings, so that every string has a maxLength (OWASP API4). */
const FORMAT_MAX_LENGTH: Record<string, number> = { uuid: 36, 'date-time': 35, email: 254 };

/** Longest error message and request id the service writes (X-Request-Id is echoed up to 128 characters). */
const ERROR_ENVELOPE: SchemaObject = {
  type: 'object',
  description: 'The body of every 4xx and 5xx answer',
  additionalProperties: false,
  required: ['success', 'error', 'code', 'requestId'],
  properties: {
    success: { type: 'boolean', enum: [false] },
    error: { type: 'string', maxLength: 4096, description: 'What went wrong, in words; never a secret' },
    code: { type: 'string', maxLength: 64, pattern: '^[A-Z][A-Z0-9_]*$', description: 'Stable machine-readable code, e.g. VALIDATION_FAILED' },
    requestId: { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$', description: 'The X-Request-Id of the request' },
    details: {
      type: 'array',
      description: 'One entry per problem (400 and 422)',
      // A 64 KiB body cannot carry more fields than this, each at least 4 bytes ("a":0,).
      maxItems: 16384,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['field', 'message'],
        properties: {
          field: { type: 'string', maxLength: 4096 },
          message: { type: 'string', maxLength: 4096 },
        },
      },
    },
  },
};

/** One line per controller tag (ApiTags), shown by documentation tools. */
const TAG_DESCRIPTIONS: Record<string, string> = {
  'API keys': 'Keys for backends, with scopes, an optional sub-org and a daily quota',
  Audit: 'The mint audit (hash-chained), its export and verification, and configuration changes',
  Auth: 'Login and who a credential is',
  Minting: "Voice and chat client tokens from the org's provider credentials",
  Operations: 'Liveness, readiness and Prometheus metrics',
  Operator: 'Orgs and their first users, for the operator token',
  'Provider credentials': "The org's Sinch, SignalWire and Twilio credentials, encrypted at rest",
  'Token policies': 'What each provider may mint for whom: roles, rooms, publish rights and lifetimes (least privilege)',
  Users: 'Users of the org and their caller IDs',
  WebRTC: 'Single-use call tokens for WebRTC endpoints',
};

/** Statuses every route can answer, whatever it does. */
const EVERY_ROUTE: Record<number, string> = {
  400: 'VALIDATION_FAILED: a malformed request (URL, Host header, path id, query or body), with details',
  500: 'INTERNAL: an unexpected failure; nothing about it is revealed',
  503: 'UNAVAILABLE: the database is unreachable or the service is shutting down',
};

/** Fastify's router refuses a path parameter over 100 characters (maxParamLength) before any pipe sees it. */
const ROUTES_WITH_PATH_PARAMETERS: Record<number, string> = {
  414: 'BAD_REQUEST: a path parameter longer than 100 characters',
};

function routesWithBody(bodyLimitBytes: number): Record<number, string> {
  return {
    413: `PAYLOAD_TOO_LARGE: the body is larger than ${Math.round(bodyLimitBytes / 1024)} KiB`,
    415: 'UNSUPPORTED_MEDIA_TYPE: the body must be application/json',
  };
}

function finishDocument(document: OpenAPIObject, bodyLimitBytes: number): OpenAPIObject {
  const schemas = (document.components ??= {}).schemas ?? {};
  document.components.schemas = { ...schemas, [ERROR_ENVELOPE_SCHEMA]: ERROR_ENVELOPE };
  const tags = new Set<string>();

  for (const pathItem of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method];
      if (!operation) continue;
      for (const tag of operation.tags ?? []) tags.add(tag);
      // @Public routes declare no security: say so explicitly, else the document-wide default would apply.
      if (!operation.security || operation.security.length === 0) operation.security = [];
      addErrorResponses(operation, EVERY_ROUTE);
      // Fastify reads a body sent with these methods before routing it, whether or not the route takes one.
      if (operation.requestBody || BODY_METHODS.has(method)) addErrorResponses(operation, routesWithBody(bodyLimitBytes));
      if ((operation.parameters ?? []).some((parameter) => 'in' in parameter && parameter.in === 'path')) addErrorResponses(operation, ROUTES_WITH_PATH_PARAMETERS);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (response && Number(status) >= 400 && !('$ref' in response)) toErrorResponse(Number(status), response);
      }
      for (const parameter of operation.parameters ?? []) {
        if (!('$ref' in parameter)) describeParameter(parameter);
      }
    }
  }
  walkSchemas(document, closeSchema);
  document.tags = [...tags].sort().map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name }));
  // x-internal: false marks the API as public-facing (OWASP API9 inventory).
  document.servers = [{ url: '/', description: 'This deployment (production, staging or local): paths are relative to its origin', 'x-internal': false } as ServerObject];
  return document;
}

function addErrorResponses(operation: OperationObject, statuses: Record<number, string>): void {
  for (const [status, description] of Object.entries(statuses)) {
    const existing = operation.responses[status] as ResponseObject | undefined;
    const code = description.split(':')[0];
    if (!existing) operation.responses[status] = { description };
    else if (!existing.description.includes(code)) existing.description = [existing.description, description].filter(Boolean).join('\n\n');
  }
}

/** Every 4xx and 5xx is the envelope, in JSON (also on routes that otherwise produce NDJSON or CSV). */
function toErrorResponse(status: number, response: ResponseObject): void {
  response.content = { 'application/json': { schema: { $ref: ERROR_ENVELOPE_REF } } };
  if (status === 429) {
    response.headers = {
      ...response.headers,
      'Retry-After': { description: 'Seconds until the limit resets', schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 86400 } },
    };
  }
}

/** Path ids (`id`, `orgId`, `numberId`) all go through ParseIdPipe: a UUID, anything else a 400. */
function describeParameter(parameter: ParameterObject): void {
  const schema = parameter.schema as SchemaObject | undefined;
  if (parameter.in === 'path' && schema && schema.type === 'string' && !schema.enum && !schema.format && /^(id|[a-z]+Id)$/.test(parameter.name)) {
    schema.format = 'uuid';
  }
}

/**
 * Objects are closed (the validation pipe refuses unknown fields; answers carry only what is declared)
 * and formatted strings bounded. A schema that sets additionalProperties itself (a map) keeps it.
 */
function closeSchema(schema: SchemaObject): void {
  if (schema.type === 'object' && schema.properties && schema.additionalProperties === undefined) schema.additionalProperties = false;
  if (schema.type === 'string' && schema.format && schema.maxLength === undefined && FORMAT_MAX_LENGTH[schema.format]) {
    schema.maxLength = FORMAT_MAX_LENGTH[schema.format];
  }
}

const SCHEMA_KEYS = new Set(['schema', 'items', 'not', 'additionalProperties', 'allOf', 'oneOf', 'anyOf']);
const VALUE_KEYS = new Set(['example', 'examples', 'enum', 'default']);

/** Calls `visit` on every schema object of the document, nested ones included. */
function walkSchemas(node: unknown, visit: (schema: SchemaObject) => void, isSchema = false): void {
  if (Array.isArray(node)) {
    for (const item of node) walkSchemas(item, visit, isSchema);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  if (isSchema && !('$ref' in node)) visit(node as SchemaObject);
  for (const [key, value] of Object.entries(node)) {
    if (VALUE_KEYS.has(key) || value === null || typeof value !== 'object') continue;
    if ((isSchema && key === 'properties') || (!isSchema && key === 'schemas')) {
      for (const child of Object.values(value)) walkSchemas(child, visit, true);
    } else {
      walkSchemas(value, visit, SCHEMA_KEYS.has(key));
    }
  }
}

/** Names generated clients can use: usersCreate, voiceTokensSinch, auditMintsPage, credentialsVerify, metricsText. */
function operationId(controller: string, method: string): string {
  const base = lowerFirst(controller.replace(/Controller$/, ''));
  if (method.startsWith(base)) return method;
  if (base.endsWith(upperFirst(method))) return base;
  return base + upperFirst(method);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
