import type { Type } from '@nestjs/common';
import { AGORA } from './agora/agora.entry';
import { LIVEKIT } from './livekit/livekit.entry';
import type { CredentialFieldSpec, FieldRule } from './registry/credential-field-rules';
import type { FieldsFromRules, ProviderEntry, TokenRoute } from './registry/provider-entry';
import { SIGNALWIRE } from './signalwire/signalwire.entry';
import { SINCH_PROJECT } from './sinch-project/sinch-project.entry';
import { SINCH_VOICE } from './sinch-voice/sinch-voice.entry';
import { TELNYX } from './telnyx/telnyx.entry';
import { TWILIO } from './twilio/twilio.entry';
import { VONAGE } from './vonage/vonage.entry';

/**
 * The one provider registry: each provider's folder declares its entry (registry/provider-entry.ts),
 * and this table lists it once, under its credentials name. Credential validation and masking
 * (libs/credentials), the OpenAPI bodies of /api/credentials and /api/tokens, `FieldsOf`, the
 * not-configured codes, verification and the token routes are all derived from it.
 *
 * Adding a provider: a folder `libs/providers/src/<provider>/` with `<provider>.entry.ts` (fields,
 * verify, and `tokens` when it mints through POST /api/tokens/{name}) and its minter/checker
 * injectables, then one line here. A new credentials name also needs the credentials table's CHECK
 * widened by a migration, and a new token route name the audit's provider list (libs/audit).
 */
export const PROVIDER_REGISTRY = {
  'sinch-voice': SINCH_VOICE,
  'sinch-project': SINCH_PROJECT,
  signalwire: SIGNALWIRE,
  twilio: TWILIO,
  livekit: LIVEKIT,
  agora: AGORA,
  vonage: VONAGE,
  telnyx: TELNYX,
} as const;

type Registry = typeof PROVIDER_REGISTRY;

/** Each entry sits under its own credentials name (the key is what the table, the path and the cipher's binding use). */
type Misfiled = { [K in keyof Registry]: Registry[K]['credentials'] extends K ? never : K }[keyof Registry];
export const REGISTRY_KEYS_MATCH: [Misfiled] extends [never] ? true : { misfiled: Misfiled } = true;

/** The providers an org stores credentials for (API.md, "Provider credentials" and "More providers"), in the registry's order. */
export type CredentialProvider = keyof Registry;

export const CREDENTIAL_PROVIDERS = Object.keys(PROVIDER_REGISTRY) as CredentialProvider[];

/**
 * A provider's decrypted fields, typed from its entry: `FieldsOf<'twilio'>` is `{ accountSid: string;
 * apiKeySid: string; apiKeySecret: string; twimlAppSid: string; conversationsServiceSid?: string;
 * syncServiceSid?: string }`.
 */
export type FieldsOf<P extends CredentialProvider> = FieldsFromRules<Registry[P]['fields']>;

/** The providers a mint requires credentials of, each with its 400 `{PROVIDER}_NOT_CONFIGURED`. */
export type MintCredentialProvider = { [P in CredentialProvider]: Registry[P] extends { notConfiguredCode: string } ? P : never }[CredentialProvider];

/** What minting without a provider's credentials answers (API.md: 400 `{PROVIDER}_NOT_CONFIGURED`). */
export const NOT_CONFIGURED_CODES = Object.fromEntries(
  Object.values(PROVIDER_REGISTRY).flatMap((entry: ProviderEntry) => (entry.notConfiguredCode ? [[entry.credentials, entry.notConfiguredCode]] : [])),
) as { [P in MintCredentialProvider]: `${string}_NOT_CONFIGURED` };

export function isCredentialProvider(value: unknown): value is CredentialProvider {
  return typeof value === 'string' && Object.hasOwn(PROVIDER_REGISTRY, value);
}

export function providerEntry<P extends CredentialProvider>(provider: P): Registry[P] {
  return PROVIDER_REGISTRY[provider];
}

/** A provider's field rules, as plain rules (their literal names matter only to `FieldsOf`). */
export function fieldRulesOf(provider: CredentialProvider): readonly FieldRule[] {
  return PROVIDER_REGISTRY[provider].fields;
}

export function credentialFields(provider: CredentialProvider): readonly CredentialFieldSpec[] {
  return fieldRulesOf(provider).map(({ name, secret, optional, maxLength, multiline, description }) => ({
    name,
    secret,
    optional,
    maxLength,
    multiline,
    ...(description !== undefined ? { description } : {}),
  }));
}

/** The path names of POST /api/tokens/{provider}, e.g. `livekit`, `sinch`. */
export type TokenProvider = { [P in CredentialProvider]: NonNullable<Registry[P]['tokens']> extends { name: infer N extends string } ? N : never }[CredentialProvider];

/** One token route of the registry, as the mint route sees every one of them alike. */
export interface RegisteredTokenRoute {
  /** The credentials the route mints with. */
  credentials: MintCredentialProvider;
  route: TokenRoute<Record<string, string>, unknown, Record<string, unknown>>;
}

const TOKEN_ROUTES: ReadonlyMap<string, RegisteredTokenRoute> = new Map(
  Object.values(PROVIDER_REGISTRY).flatMap((entry: ProviderEntry) =>
    entry.tokens ? [[entry.tokens.name, { credentials: entry.credentials as MintCredentialProvider, route: entry.tokens as RegisteredTokenRoute['route'] }]] : [],
  ),
);

/** The path names of POST /api/tokens/{provider}, in the registry's order. */
export const TOKEN_PROVIDERS = [...TOKEN_ROUTES.keys()] as TokenProvider[];

/** The token route of a path's provider, or undefined (404) for a name the registry does not mint. */
export function tokenRouteOf(name: string): RegisteredTokenRoute | undefined {
  return TOKEN_ROUTES.get(name);
}

/** Every injectable the entries name (minters and checkers): ProvidersModule registers them. */
export function registryInjectables(): Type[] {
  const types = new Set<Type>();
  for (const entry of Object.values(PROVIDER_REGISTRY) as ProviderEntry[]) {
    if (entry.verify.kind === 'upstream') types.add(entry.verify.checker);
    if (entry.tokens) types.add(entry.tokens.minter);
  }
  return [...types];
}
