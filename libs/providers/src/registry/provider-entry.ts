import type { Type } from '@nestjs/common';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { Scope } from '@mintline/access/scopes';
import type { FieldRule } from './credential-field-rules';
import type { MintGrant } from './mint-grant';

/**
 * What one provider folder declares, and the registry (provider-registry.ts) lists: its credential
 * fields, how its credentials are checked, and, when it mints through `POST /api/tokens/{provider}`,
 * its request, its scopes, what its token grants, and the injectable that mints. Everything else
 * (validation, masking, `FieldsOf`, the OpenAPI bodies, the route's docs, dependency injection) is
 * derived from these entries, so adding a provider is its folder plus one line in the registry.
 */
export interface ProviderEntry<
  Credential extends string = string,
  Rules extends readonly FieldRule[] = readonly FieldRule[],
  Request = unknown,
  Answer = unknown,
  TokenName extends string = string,
> {
  /** The name under /api/credentials/{provider} and in the credentials table. */
  readonly credentials: Credential;
  /** For the docs: the product, e.g. "LiveKit". */
  readonly title: string;
  readonly fields: Rules;
  /** What a mint without these credentials answers: 400 with this code. Absent: nothing mints with them alone. */
  readonly notConfiguredCode?: `${string}_NOT_CONFIGURED`;
  /** How `POST /api/credentials/{provider}/verify` checks them. */
  readonly verify: CredentialVerification<FieldsFromRules<Rules>>;
  /** Present when the provider mints through `POST /api/tokens/{tokens.name}`. */
  readonly tokens?: TokenRoute<FieldsFromRules<Rules>, Request, Answer, TokenName>;
}

/**
 * `format`: the provider offers no check that does not cost something (a call placed), so the stored
 * fields are checked against their rules again and `detail` says what that proves. `upstream`: an
 * injectable asks the provider.
 */
export type CredentialVerification<Fields> = { kind: 'format'; detail: string } | { kind: 'upstream'; checker: Type<CredentialCheck<Fields>> };

export interface VerifyResult {
  ok: boolean;
  /** What was checked and what was found; never a secret, never an upstream body. */
  detail: string;
}

export interface CredentialCheck<Fields> {
  verify(fields: Fields, orgId: string): Promise<VerifyResult>;
}

/** One provider's `POST /api/tokens/{name}`. */
export interface TokenRoute<Fields, Request, Answer, Name extends string = string> {
  /** The path's provider, and the audit entry's `provider`. */
  readonly name: Name;
  /** One line for the route's documentation. */
  readonly summary: string;
  /** The body's properties besides `userId` (which every token route takes), each closed and bounded. */
  readonly request: { readonly properties: Record<string, SchemaObject>; readonly required?: readonly string[] };
  /**
   * The body (without `userId`) as the mint's request, or a 400 VALIDATION_FAILED naming every bad or
   * unknown field (ApiError.validation).
   */
  parse(body: Record<string, unknown>): Request;
  /** The answer's properties besides `token`, `userId` and `expiresIn`, all of them required. */
  readonly answer: Record<string, SchemaObject>;
  /**
   * The scopes this request needs, decided from its raw body before it is validated (so it must accept
   * anything): `CREATE_CALL_TOKEN` unless the provider says otherwise for what is asked.
   */
  scopes?(body: unknown): readonly Scope[];
  /** For the org's token policy: what the token would grant (see MintGrant). */
  grant(request: Request): MintGrant;
  /** The audit entry's `target`: the room, channel or service the token is for, e.g. `livekit:<room>`. */
  target(request: Request, fields: Fields): string;
  /** The injectable that mints (registered in ProvidersModule from the registry). */
  readonly minter: Type<TokenMinter<Fields, Request, Answer>>;
}

/** Whom a token is for, and what a mint may look up about them (lazily: most mints need neither). */
export interface MintSubject {
  readonly orgId: string;
  readonly userId: string;
  /** The user's display name, or null when none is set. */
  name(): Promise<string | null>;
  /** The user's default caller ID with the provider (E.164), or "". */
  callerId(provider: 'sinch' | 'twilio'): Promise<string>;
}

export interface TokenMintInput<Fields, Request> {
  fields: Fields;
  request: Request;
  subject: MintSubject;
  /** The grant in force: the one `grant(request)` declared, possibly narrowed by the org's policy. Mints honour it. */
  grant: MintGrant;
}

export interface MintedToken<Answer> {
  /** Never logged or stored; the audit keeps its fingerprint. */
  token: string;
  expiresAt: Date;
  /** The answer's `expiresIn`, in seconds. */
  expiresIn: number;
  /** The answer's provider-specific fields (TokenRoute.answer). */
  answer: Answer;
}

export interface TokenMinter<Fields, Request, Answer> {
  mint(input: TokenMintInput<Fields, Request>): Promise<MintedToken<Answer>>;
}

/**
 * A provider's decrypted fields, typed from its rules: `{ url: string; apiKey: string; apiSecret: string }`
 * for LiveKit, optional fields optional.
 */
export type FieldsFromRules<Rules extends readonly FieldRule[]> = Flatten<
  { [R in Rules[number] as R['optional'] extends true ? never : R['name']]: string } & {
    [R in Rules[number] as R['optional'] extends true ? R['name'] : never]?: string;
  }
>;

type Flatten<T> = { [K in keyof T]: T[K] };

/** Declares a provider's entry, keeping its literal names, field list, not-configured code and token route name for the registry's types. */
export function defineProvider<
  const Credential extends string,
  const Rules extends readonly FieldRule[],
  Request = never,
  Answer = never,
  const TokenName extends string = never,
  const Code extends `${string}_NOT_CONFIGURED` = never,
>(
  entry: ProviderEntry<Credential, Rules, Request, Answer, TokenName> & { readonly notConfiguredCode?: Code },
): ProviderEntry<Credential, Rules, Request, Answer, TokenName> & NotConfiguredOf<Code> {
  return entry as ProviderEntry<Credential, Rules, Request, Answer, TokenName> & NotConfiguredOf<Code>;
}

type NotConfiguredOf<Code extends string> = [Code] extends [never] ? { readonly notConfiguredCode?: undefined } : { readonly notConfiguredCode: Code };
