import { ApiError, ErrorDetail } from '@mintline/common/errors/api-error';
import { checkOutboundUrl } from '@mintline/providers/http/outbound-address';
import { PADDED_BASE64 } from '@mintline/common/key-list';

/** The providers an org stores credentials for, and each one's fields (API.md, "Provider credentials"). */
export const CREDENTIAL_PROVIDERS = ['sinch-voice', 'sinch-project', 'signalwire', 'twilio'] as const;

export type CredentialProvider = (typeof CREDENTIAL_PROVIDERS)[number];

export interface CredentialFieldSpec {
  readonly name: string;
  /** Encrypted at rest and masked in every answer. */
  readonly secret: boolean;
  readonly optional: boolean;
}

export interface CredentialValidationOptions {
  /** Mirrors env ALLOW_INSECURE_PROVIDER_URLS: accept plain http provider URLs and non-public hosts (local test doubles). */
  allowInsecureUrls: boolean;
}

export const MAX_FIELD_LENGTH = 2048;

type Check = (value: string, options: CredentialValidationOptions) => { value: string } | { problem: string };

interface FieldRule<Name extends string = string, Optional extends boolean = boolean> extends CredentialFieldSpec {
  readonly name: Name;
  readonly optional: Optional;
  readonly check?: Check;
}

/** The one table of provider fields: validation, masking and the typed fields of `FieldsOf` all come from it. */
const PROVIDER_FIELDS = {
  'sinch-voice': [field('applicationKey'), secret('applicationSecret', checkStandardBase64)],
  'sinch-project': [field('projectId'), field('keyId'), secret('keySecret'), field('trunkId', undefined, true)],
  signalwire: [field('spaceUrl', checkSpaceUrl), field('projectId'), secret('apiToken')],
  twilio: [field('accountSid', twilioSid('AC')), field('apiKeySid', twilioSid('SK')), secret('apiKeySecret'), field('twimlAppSid', twilioSid('AP'))],
} as const satisfies Record<CredentialProvider, readonly FieldRule[]>;

type RuleOf<P extends CredentialProvider> = (typeof PROVIDER_FIELDS)[P][number];

/**
 * A provider's decrypted fields, typed from the table: `FieldsOf<'twilio'>` is
 * `{ accountSid: string; apiKeySid: string; apiKeySecret: string; twimlAppSid: string }`, and an
 * optional field (sinch-project's trunkId) is optional.
 */
export type FieldsOf<P extends CredentialProvider> = Flatten<
  { [R in RuleOf<P> as R['optional'] extends true ? never : R['name']]: string } & {
    [R in RuleOf<P> as R['optional'] extends true ? R['name'] : never]?: string;
  }
>;

type Flatten<T> = { [K in keyof T]: T[K] };

/**
 * What minting without a provider's credentials answers (API.md: 400 `{PROVIDER}_NOT_CONFIGURED`).
 * sinch-project backs no mint of its own: its callers treat "none" as "no trunk to check against".
 */
export const NOT_CONFIGURED_CODES = {
  'sinch-voice': 'SINCH_NOT_CONFIGURED',
  twilio: 'TWILIO_NOT_CONFIGURED',
  signalwire: 'SIGNALWIRE_NOT_CONFIGURED',
} as const satisfies Partial<Record<CredentialProvider, `${string}_NOT_CONFIGURED`>>;

/** The providers whose credentials a mint requires. */
export type MintCredentialProvider = keyof typeof NOT_CONFIGURED_CODES;

/** The 400 for a mint whose org has no credentials of the provider. */
export function notConfigured(provider: MintCredentialProvider): ApiError {
  return new ApiError(400, NOT_CONFIGURED_CODES[provider], `This org has no ${provider} credentials`);
}

export function isCredentialProvider(value: unknown): value is CredentialProvider {
  return typeof value === 'string' && (CREDENTIAL_PROVIDERS as readonly string[]).includes(value);
}

export function credentialFields(provider: CredentialProvider): readonly CredentialFieldSpec[] {
  return rulesOf(provider).map(({ name, secret, optional }) => ({ name, secret, optional }));
}

export function secretFieldNames(provider: CredentialProvider): readonly string[] {
  return rulesOf(provider)
    .filter((rule) => rule.secret)
    .map((rule) => rule.name);
}

export function isSecretField(provider: CredentialProvider, name: string): boolean {
  return rulesOf(provider).some((rule) => rule.secret && rule.name === name);
}

/**
 * Checks a request body against the provider's fields and returns them normalised, or throws one
 * validation error that lists every problem. Non-secret values are trimmed; secrets are kept exactly
 * as sent. Problem messages never repeat a value.
 */
export function validateCredentialFields(
  provider: CredentialProvider,
  body: unknown,
  options: CredentialValidationOptions = { allowInsecureUrls: false },
): { fields: Record<string, string> } {
  if (!isCredentialProvider(provider)) {
    throw ApiError.validation([{ field: 'provider', message: `must be one of ${CREDENTIAL_PROVIDERS.join(', ')}` }]);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ApiError.validation([{ field: 'body', message: 'must be a JSON object' }]);
  }
  const input = body as Record<string, unknown>;
  const rules = rulesOf(provider);
  const problems: ErrorDetail[] = [];
  const fields: Record<string, string> = {};

  for (const rule of rules) {
    const raw = Object.hasOwn(input, rule.name) ? input[rule.name] : undefined;
    if (raw === undefined) {
      if (!rule.optional) problems.push({ field: rule.name, message: 'is required' });
      continue;
    }
    const result = checkValue(rule, raw, options);
    if ('problem' in result) problems.push({ field: rule.name, message: result.problem });
    else fields[rule.name] = result.value;
  }
  for (const name of Object.keys(input)) {
    if (!rules.some((rule) => rule.name === name)) {
      problems.push({ field: name, message: `is not a ${provider} credential field` });
    }
  }

  if (problems.length > 0) throw ApiError.validation(problems);
  return { fields };
}

/** `"••••"` and the last 4 characters; a value of 4 characters or fewer shows none of them. */
export function maskSecret(value: string): string {
  const characters = Array.from(value);
  return characters.length <= 4 ? '••••' : `••••${characters.slice(-4).join('')}`;
}

/** Masks the secret fields. A name the provider does not list is masked too, in case it holds one. */
export function maskFields(provider: CredentialProvider, fields: Record<string, string>): Record<string, string> {
  const shown = new Set(
    rulesOf(provider)
      .filter((rule) => !rule.secret)
      .map((rule) => rule.name),
  );
  const masked: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    masked[name] = shown.has(name) ? value : maskSecret(value);
  }
  return masked;
}

/** The table's rules of one provider, as plain rules (their literal names matter only to `FieldsOf`). */
function rulesOf(provider: CredentialProvider): readonly FieldRule[] {
  return PROVIDER_FIELDS[provider];
}

function field<Name extends string, Optional extends boolean = false>(name: Name, check?: Check, optional?: Optional): FieldRule<Name, Optional> {
  return { name, secret: false, optional: (optional ?? false) as Optional, check };
}

function secret<Name extends string>(name: Name, check?: Check): FieldRule<Name, false> {
  return { name, secret: true, optional: false, check };
}

// eslint-disable-next-line no-control-regex -- the C0 controls and DEL are what this looks for: a credential field must not carry them
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

function checkValue(rule: FieldRule, raw: unknown, options: CredentialValidationOptions): { value: string } | { problem: string } {
  if (typeof raw !== 'string') return { problem: 'must be a string' };
  if (raw.length > MAX_FIELD_LENGTH) return { problem: `must be at most ${MAX_FIELD_LENGTH} characters` };
  // A secret with stray whitespace is refused rather than silently altered: it would fail upstream later.
  const value = rule.secret ? raw : raw.trim();
  if (value.trim() === '') return { problem: 'must not be empty' };
  if (CONTROL_CHARACTER.test(value)) return { problem: 'must not contain control characters' };
  return rule.check ? rule.check(value, options) : { value };
}

function checkStandardBase64(value: string): { value: string } | { problem: string } {
  const problem = { problem: 'must be standard base64 with = padding, as Sinch issues it' };
  if (value.length % 4 !== 0 || !PADDED_BASE64.test(value)) return problem;
  const bytes = Buffer.from(value, 'base64');
  // Non-zero padding bits would decode silently to the same bytes as another spelling.
  if (bytes.length < 1 || bytes.toString('base64') !== value) return problem;
  return { value };
}

/** The space's URL is tenant-supplied and receives the tenant's Basic auth: the outbound-address rules apply. */
function checkSpaceUrl(value: string, options: CredentialValidationOptions): { value: string } | { problem: string } {
  return checkOutboundUrl(value, { allowInsecure: options.allowInsecureUrls });
}

function twilioSid(prefix: 'AC' | 'SK' | 'AP'): Check {
  const pattern = new RegExp(`^${prefix}[0-9a-fA-F]{32}$`);
  return (value) => (pattern.test(value) ? { value: `${prefix}${value.slice(2).toLowerCase()}` } : { problem: `must be "${prefix}" followed by 32 hexadecimal characters` });
}
