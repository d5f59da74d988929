import { ApiError, ErrorDetail } from '@mintline/common/errors/api-error';
import {
  CREDENTIAL_PROVIDERS,
  CredentialProvider,
  fieldRulesOf,
  isCredentialProvider,
  MintCredentialProvider,
  NOT_CONFIGURED_CODES,
} from '@mintline/providers/provider-registry';
import { CredentialValidationOptions, FieldCheckResult, FieldRule } from '@mintline/providers/registry/credential-field-rules';

/**
 * Credential validation and masking, from the provider registry's field rules
 * (libs/providers/src/provider-registry.ts): what a provider's fields are, which are secret, and how
 * each is checked is declared once, in the provider's folder.
 */

/** The 400 for a mint whose org has no credentials of the provider. */
export function notConfigured(provider: MintCredentialProvider): ApiError {
  return new ApiError(400, NOT_CONFIGURED_CODES[provider], `This org has no ${provider} credentials`);
}

export function secretFieldNames(provider: CredentialProvider): readonly string[] {
  return fieldRulesOf(provider)
    .filter((rule) => rule.secret)
    .map((rule) => rule.name);
}

export function isSecretField(provider: CredentialProvider, name: string): boolean {
  return fieldRulesOf(provider).some((rule) => rule.secret && rule.name === name);
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
  const rules = fieldRulesOf(provider);
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
    fieldRulesOf(provider)
      .filter((rule) => !rule.secret)
      .map((rule) => rule.name),
  );
  const masked: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    masked[name] = shown.has(name) ? value : maskSecret(value);
  }
  return masked;
}

// eslint-disable-next-line no-control-regex -- the C0 controls and DEL are what this looks for: a credential field must not carry them
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- the same, but line breaks (CR, LF) are part of a multi-line value such as a PEM key
const CONTROL_CHARACTER_BUT_LINE_BREAKS = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]/;

function checkValue(rule: FieldRule, raw: unknown, options: CredentialValidationOptions): FieldCheckResult {
  if (typeof raw !== 'string') return { problem: 'must be a string' };
  if (raw.length > rule.maxLength) return { problem: `must be at most ${rule.maxLength} characters` };
  // A secret with stray whitespace is refused rather than silently altered: it would fail upstream later.
  const value = rule.secret ? raw : raw.trim();
  if (value.trim() === '') return { problem: 'must not be empty' };
  if ((rule.multiline ? CONTROL_CHARACTER_BUT_LINE_BREAKS : CONTROL_CHARACTER).test(value)) return { problem: 'must not contain control characters' };
  return rule.check ? rule.check(value, options) : { value };
}
