import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Checks every answer the e2e suite's http() receives against the served OpenAPI document: the status is
 * one the operation documents, the body has a media type it declares and, for JSON, validates against its
 * schema with every object closed (no undeclared fields). A path that matches no operation (an unknown
 * route, a hostile-input spray) is only checked to answer errors in the envelope. A route that drifts
 * from its description fails the test that called it.
 */
export interface CheckedResponse {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

interface Operation {
  method: string;
  pattern: RegExp;
  /** Literal segments first: /api/call-tokens/redeem before /api/call-tokens/{id}. */
  templated: number;
  id: string;
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}

interface Contract {
  operations: Operation[];
  ajv: Ajv;
  envelope: ValidateFunction;
  validators: Map<string, ValidateFunction>;
}

const DOCUMENT_ID = 'openapi.json';
const contracts = new Map<string, Promise<Contract | undefined>>();

export async function checkAgainstDocument(baseUrl: string, method: string, path: string, response: CheckedResponse): Promise<void> {
  const pathname = path.split(/[?#]/)[0];
  if (pathname.startsWith('/docs')) return;
  const contract = await contractFor(baseUrl);
  if (!contract) return;
  const upper = method.toUpperCase();
  // Fastify answers HEAD for every GET route, without a body.
  const lookup = upper === 'HEAD' ? 'GET' : upper;
  const operation = contract.operations.find((candidate) => candidate.method === lookup && candidate.pattern.test(pathname));
  const where = `${upper} ${path} answered ${response.status}`;
  if (!operation) {
    if (response.status >= 400 && isJson(response)) expectValid(contract.envelope, response.body, `${where} (no operation)`);
    return;
  }
  const documented = operation.responses[String(response.status)] ?? operation.responses.default;
  if (!documented) {
    throw new Error(`${where}: status not documented for ${operation.id} (documents ${Object.keys(operation.responses).join(', ')})`);
  }
  if (upper === 'HEAD' || response.text.length === 0) {
    if (upper !== 'HEAD' && documented.content && response.status !== 204) {
      throw new Error(`${where}: empty body, but ${operation.id} documents ${Object.keys(documented.content).join(', ')}`);
    }
    return;
  }
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const media = documented.content?.[mediaType];
  if (!media) {
    throw new Error(`${where}: ${mediaType || 'no content-type'} not documented for ${operation.id} ${response.status}`);
  }
  if (mediaType === 'application/json' && media.schema) {
    expectValid(validatorFor(contract, operation, response.status, media.schema), response.body, `${where} (${operation.id})`);
  }
}

function isJson(response: CheckedResponse): boolean {
  return /^application\/json\b/.test(response.headers.get('content-type') ?? '') && response.text.length > 0;
}

function expectValid(validate: ValidateFunction, body: unknown, where: string): void {
  if (validate(body)) return;
  const problems = (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`);
  throw new Error(`${where}: body does not match the document: ${problems.join('; ')}\n${JSON.stringify(body).slice(0, 2000)}`);
}

function contractFor(baseUrl: string): Promise<Contract | undefined> {
  let contract = contracts.get(baseUrl);
  if (!contract) {
    contract = loadContract(baseUrl);
    contracts.set(baseUrl, contract);
    // A server that could not be asked (closing, gone) is asked again next time.
    void contract.then((loaded) => loaded ?? contracts.delete(baseUrl));
  }
  return contract;
}

async function loadContract(baseUrl: string): Promise<Contract | undefined> {
  let document: OpenApiDocument;
  try {
    const answer = await fetch(`${baseUrl}/docs/openapi.json`);
    if (answer.status !== 200) return undefined;
    document = (await answer.json()) as OpenApiDocument;
  } catch {
    return undefined;
  }
  const ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
  addFormats(ajv);
  ajv.addSchema({ $id: DOCUMENT_ID, components: closeObjects(document.components ?? {}) });
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const templated = (template.match(/\{[^}]+\}/g) ?? []).length;
      const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+');
      operations.push({ method: method.toUpperCase(), pattern: new RegExp(`^${source}/?$`), templated, id: operation.operationId, responses: operation.responses });
    }
  }
  operations.sort((a, b) => a.templated - b.templated);
  const envelope = ajv.compile({ $ref: `${DOCUMENT_ID}#/components/schemas/ErrorEnvelope` });
  return { operations, ajv, envelope, validators: new Map() };
}

function validatorFor(contract: Contract, operation: Operation, status: number, schema: object): ValidateFunction {
  const key = `${operation.id} ${status}`;
  let validate = contract.validators.get(key);
  if (!validate) {
    validate = contract.ajv.compile(closeObjects(rebase(schema)) as object);
    contract.validators.set(key, validate);
  }
  return validate;
}

/** Inline schemas refer to components by local pointers; point them at the registered document. */
function rebase(schema: object): object {
  return JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\//g, `"$ref":"${DOCUMENT_ID}#/`));
}

/** Objects with declared properties and no word on others are closed: an undeclared field is drift. */
function closeObjects<T>(node: T): T {
  if (Array.isArray(node)) return node.map(closeObjects) as T;
  if (node === null || typeof node !== 'object') return node;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) copy[key] = key === 'example' || key === 'examples' ? value : closeObjects(value);
  if (copy.properties && typeof copy.properties === 'object' && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy as T;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId: string; responses: Operation['responses'] }>>;
  components?: object;
}
