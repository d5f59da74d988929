import { createPrivateKey } from 'node:crypto';
import { PADDED_BASE64 } from '@mintline/common/key-list';
import { checkOutboundUrl, OutboundUrlRules } from '../http/outbound-address';

/**
 * The building blocks of a provider's credential fields (API.md, "Provider credentials" and "More
 * providers"). Each provider folder lists its fields with these; the registry (provider-registry.ts)
 * gathers them, and credential validation, masking, the typed `FieldsOf` and the OpenAPI bodies all
 * come from those lists.
 */

export interface CredentialValidationOptions {
  /** Mirrors env ALLOW_INSECURE_PROVIDER_URLS: accept plain http provider URLs and non-public hosts (local test doubles). */
  allowInsecureUrls: boolean;
}

/** The longest value a field takes unless its rule says otherwise. */
export const MAX_FIELD_LENGTH = 2048;

export type FieldCheckResult = { value: string } | { problem: string };

/** A field's own rule, after the shared ones (string, length, not empty, no control characters). Its problem never repeats the value. */
export type FieldCheck = (value: string, options: CredentialValidationOptions) => FieldCheckResult;

export interface CredentialFieldSpec {
  readonly name: string;
  /** Encrypted at rest and masked in every answer. */
  readonly secret: boolean;
  readonly optional: boolean;
  /** The longest value accepted (MAX_FIELD_LENGTH unless the field needs more, as a PEM key does). */
  readonly maxLength: number;
  /** Line breaks are part of the value (a PEM key); other control characters are still refused. */
  readonly multiline: boolean;
  /** For the OpenAPI document: what the field holds. */
  readonly description?: string;
}

export interface FieldRule<Name extends string = string, Optional extends boolean = boolean> extends CredentialFieldSpec {
  readonly name: Name;
  readonly optional: Optional;
  readonly check?: FieldCheck;
}

interface FieldOptions {
  check?: FieldCheck;
  maxLength?: number;
  multiline?: boolean;
  description?: string;
}

/** A required, non-secret field (stored in the clear, shown as it is). */
export function field<Name extends string>(name: Name, options: FieldOptions = {}): FieldRule<Name, false> {
  return rule(name, false, false, options);
}

/** An optional, non-secret field. */
export function optionalField<Name extends string>(name: Name, options: FieldOptions = {}): FieldRule<Name, true> {
  return rule(name, false, true, options);
}

/** A required secret field: encrypted at rest, never returned (masked "••••" + its last 4 characters). */
export function secret<Name extends string>(name: Name, options: FieldOptions = {}): FieldRule<Name, false> {
  return rule(name, true, false, options);
}

function rule<Name extends string, Optional extends boolean>(name: Name, isSecret: boolean, optional: Optional, options: FieldOptions): FieldRule<Name, Optional> {
  return {
    name,
    secret: isSecret,
    optional,
    maxLength: options.maxLength ?? MAX_FIELD_LENGTH,
    multiline: options.multiline ?? false,
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(options.check ? { check: options.check } : {}),
  };
}

/** Standard base64 with `=` padding and zero padding bits (one spelling per byte string), as Sinch issues secrets. */
export function checkStandardBase64(value: string): FieldCheckResult {
  const problem = { problem: 'must be standard base64 with = padding, as Sinch issues it' };
  if (value.length % 4 !== 0 || !PADDED_BASE64.test(value)) return problem;
  const bytes = Buffer.from(value, 'base64');
  // Non-zero padding bits would decode silently to the same bytes as another spelling.
  if (bytes.length < 1 || bytes.toString('base64') !== value) return problem;
  return { value };
}

/**
 * A tenant-supplied URL that will receive the tenant's credentials: the outbound-address rules apply
 * (https, or the listed secure schemes; no credentials, query or fragment; a public host). Stored
 * normalised (origin and path, no trailing slash).
 */
export function outboundUrl(schemes: OutboundUrlRules['schemes'] = ['https']): FieldCheck {
  return (value, options) => checkOutboundUrl(value, { allowInsecure: options.allowInsecureUrls, schemes });
}

/** A Twilio SID: its two-letter prefix and 32 hex characters, stored with lower-case hex. */
export function twilioSid(prefix: 'AC' | 'SK' | 'AP' | 'IS'): FieldCheck {
  const pattern = new RegExp(`^${prefix}[0-9a-fA-F]{32}$`);
  return (value) => (pattern.test(value) ? { value: `${prefix}${value.slice(2).toLowerCase()}` } : { problem: `must be "${prefix}" followed by 32 hexadecimal characters` });
}

/** Exactly 32 hexadecimal characters (Agora's App ID and App Certificate), stored lower-case. */
export function checkHex32(value: string): FieldCheckResult {
  return /^[0-9a-fA-F]{32}$/.test(value) ? { value: value.toLowerCase() } : { problem: 'must be 32 hexadecimal characters' };
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A UUID in its canonical hyphenated form, stored lower-case. */
export function checkUuid(value: string): FieldCheckResult {
  return UUID.test(value) ? { value: value.toLowerCase() } : { problem: 'must be a UUID' };
}

/**
 * A PEM private key that node:crypto reads and that is RSA (PKCS#1 or PKCS#8, unencrypted): what an
 * RS256 signature needs. Kept exactly as sent.
 */
export function checkRsaPrivateKeyPem(value: string): FieldCheckResult {
  const problem = { problem: 'must be an unencrypted RSA private key in PEM form' };
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(value)) return problem;
  try {
    const key = createPrivateKey({ key: value, format: 'pem' });
    return key.asymmetricKeyType === 'rsa' ? { value } : problem;
  } catch {
    return problem;
  }
}
