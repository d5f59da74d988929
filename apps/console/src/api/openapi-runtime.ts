import { toFailure } from './client';

/** One provider's credential body, as the served OpenAPI document describes it. */
export interface CredentialForm {
  provider: string;
  description: string;
  fields: Array<{ name: string; required: boolean; secret: boolean; description?: string; multiline: boolean }>;
}

interface SchemaNode {
  title?: string;
  description?: string;
  required?: string[];
  properties?: Record<string, { writeOnly?: boolean; description?: string; maxLength?: number }>;
  oneOf?: SchemaNode[];
}

let documentPromise: Promise<unknown> | null = null;

/** The served document (/docs/openapi.json), loaded once per page. */
export function openApiDocument(): Promise<unknown> {
  documentPromise ??= fetch('/docs/openapi.json').then(async (response) => {
    if (!response.ok) throw toFailure(response.status, await response.json().catch(() => undefined));
    return response.json();
  });
  return documentPromise.catch((error: unknown) => {
    documentPromise = null;
    throw error;
  });
}

function dig(node: unknown, ...keys: string[]): unknown {
  let current = node;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null || !(key in current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * The credential forms, one per provider, read from PUT /api/credentials/{provider}'s body schema (a oneOf
 * of one closed object per provider, titled with its name, secrets marked writeOnly): a provider the
 * service adds appears here without a change to the console.
 */
export async function credentialForms(): Promise<CredentialForm[]> {
  const schema = dig(await openApiDocument(), 'paths', '/api/credentials/{provider}', 'put', 'requestBody', 'content', 'application/json', 'schema') as SchemaNode | undefined;
  return (schema?.oneOf ?? [])
    .filter((variant) => variant.title && variant.properties)
    .map((variant) => ({
      provider: variant.title ?? '',
      description: variant.description ?? '',
      fields: Object.entries(variant.properties ?? {}).map(([name, property]) => ({
        name,
        required: (variant.required ?? []).includes(name),
        secret: property.writeOnly === true,
        description: property.description,
        // Longer than a line's worth (a PEM key): a text area, where newlines survive.
        multiline: (property.maxLength ?? 0) > 2048,
      })),
    }));
}

/** A query parameter's enum (e.g. the providers of GET /api/audit/mints), from the served document. */
export async function parameterEnum(path: string, parameter: string): Promise<string[]> {
  const parameters = dig(await openApiDocument(), 'paths', path, 'get', 'parameters');
  if (!Array.isArray(parameters)) return [];
  const found = parameters.find((item: { name?: string }) => item.name === parameter) as { schema?: { enum?: string[] } } | undefined;
  return found?.schema?.enum ?? [];
}
