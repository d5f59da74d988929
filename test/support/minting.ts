import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { allAuditPages } from './audit';
import type { Client, HttpResult } from './http';
import type { TestApp } from './test-app';

/** Sinch's published example application (docs and reference implementation). */
export const SINCH_EXAMPLE_KEY = 'a32e5a8d-f7d8-411c-9645-9038e8dd051d';
export const SINCH_EXAMPLE_SECRET = 'ax8hTTQJF0OPXL32r1LHMA==';

/** base64url of `{"alg":"HS256","kid":"hkdfv1-`: the start of every Sinch registration token. */
export const SINCH_TOKEN_PREFIX = Buffer.from('{"alg":"HS256","kid":"hkdfv1-').toString('base64url').slice(0, 36);

/** A fresh Sinch-style application secret: 16 random bytes in padded standard base64. */
export function randomSinchSecret(): string {
  return randomBytes(16).toString('base64');
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** Fresh twilio credentials in Twilio's formats (SIDs of prefix + 32 hex; an API key secret of 32 alphanumerics). */
export function twilioCredentials(): { accountSid: string; apiKeySid: string; apiKeySecret: string; twimlAppSid: string } {
  return {
    accountSid: `AC${randomHex(16)}`,
    apiKeySid: `SK${randomHex(16)}`,
    apiKeySecret: randomBytes(24)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .padEnd(32, 'q')
      .slice(0, 32),
    twimlAppSid: `AP${randomHex(16)}`,
  };
}

/** The first 16 hex characters of SHA-256 of the token (API.md, Audit). */
export function fingerprintOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 16);
}

/** `YYYYMMDD` of a Unix time (seconds) in UTC. */
export function utcKeyDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10).replace(/-/g, '');
}

export interface SinchClaims {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  nonce: string;
}

/**
 * Checks a Sinch RTC registration token under Sinch's documented rules, computed here independently of the
 * service: header exactly `{alg: HS256, kid: hkdfv1-YYYYMMDD}`, signing key HMAC-SHA256(base64-decoded
 * secret, "YYYYMMDD" of iat's UTC date), HS256 signature, iss/sub naming the application and user,
 * `exp = iat + 600`, a nonce. Returns the claims.
 */
export function verifySinchToken(token: string, applicationKey: string, applicationSecret: string, userId: string): SinchClaims {
  expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const [headerPart, payloadPart, signaturePart] = token.split('.');
  const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
  const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as SinchClaims;

  expect(typeof claims.iat).toBe('number');
  expect(Number.isInteger(claims.iat)).toBe(true);
  const keyDate = utcKeyDate(claims.iat);
  expect(header).toEqual({ alg: 'HS256', kid: `hkdfv1-${keyDate}` });

  const signingKey = createHmac('sha256', Buffer.from(applicationSecret, 'base64')).update(keyDate, 'utf8').digest();
  // By hand with node:crypto ...
  const expected = createHmac('sha256', signingKey).update(`${headerPart}.${payloadPart}`, 'utf8').digest('base64url');
  expect(signaturePart).toBe(expected);
  // ... and with a JWT library, HS256 only.
  const verified = jwt.verify(token, signingKey, { algorithms: ['HS256'], ignoreExpiration: false }) as Record<string, unknown>;
  expect(verified.iat).toBe(claims.iat);

  const application = `//rtc.sinch.com/applications/${applicationKey}`;
  expect(claims.iss).toBe(application);
  expect(claims.sub).toBe(`${application}/users/${userId}`);
  expect(claims.exp).toBe(claims.iat + 600);
  expect(typeof claims.nonce).toBe('string');
  expect(claims.nonce.length).toBeGreaterThan(0);
  // Issued just now (the service runs on the real clock here).
  expect(Math.abs(claims.iat - Date.now() / 1000)).toBeLessThan(120);
  return claims;
}

/** PUTs sinch-voice credentials and insists on 200. */
export async function putSinchVoice(admin: Client, applicationKey: string, applicationSecret: string): Promise<HttpResult> {
  const response = await admin.put('/api/credentials/sinch-voice', { applicationKey, applicationSecret });
  if (response.status !== 200) throw new Error(`PUT sinch-voice failed: ${response.status} ${response.text}`);
  return response;
}

/** POST /api/api-keys's answer: the key, with its token (shown this once). */
export interface CreatedApiKey {
  id: string;
  name: string;
  scopes: string[];
  orgId: string;
  expiresAt: string | null;
  maxRequestsPerDay: number | null;
  token: string;
}

/**
 * An API key with these scopes, made by `by` (insisting on 201). The third argument is its name, or the
 * rest of the body (`name`, `expiresAt`, `maxRequestsPerDay`, `subOrgId`, or a field under test).
 */
export async function createApiKey(by: Client, scopes: readonly string[], nameOrBody: string | Record<string, unknown> = {}): Promise<CreatedApiKey> {
  const body = typeof nameOrBody === 'string' ? { name: nameOrBody } : nameOrBody;
  const response = await by.post('/api/api-keys', { name: `key ${scopes.join(' ')}`.slice(0, 100), scopes, ...body });
  if (response.status !== 201) throw new Error(`API key create failed: ${response.status} ${response.text}`);
  return response.body;
}

/** Every (non-empty) way a secret could be written down trivially: as is, base64/base64url/hex of its text, and of its decoded bytes. */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const text = Buffer.from(secret, 'utf8');
  forms.add(text.toString('base64'));
  forms.add(text.toString('base64url'));
  forms.add(text.toString('hex'));
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(secret) && secret.length % 4 === 0) {
    const decoded = Buffer.from(secret, 'base64');
    forms.add(decoded.toString('hex'));
    forms.add(decoded.toString('base64url'));
    // Only printable decoded bytes are worth looking for as text.
    const latin = decoded.toString('latin1');
    if (/^[\x20-\x7e]{8,}$/.test(latin)) forms.add(latin);
  }
  return [...forms].filter((form) => form.length >= 8);
}

/** Asserts that no form of any of the secrets appears in the text; names the place on failure. */
export function expectNoSecrets(place: string, text: string, secrets: string[]): void {
  const found: string[] = [];
  const lower = text.toLowerCase();
  for (const secret of secrets) {
    for (const form of secretForms(secret)) {
      // Hex forms could be written in either case.
      const hit = /^[0-9a-f]+$/i.test(form) ? lower.includes(form.toLowerCase()) : text.includes(form);
      if (hit) found.push(`${form} (form of a secret ending ${secret.slice(-4)})`);
    }
  }
  expect({ place, found }).toEqual({ place, found: [] });
}

/**
 * The whole database as text: pg_dump when the binary is there and works, else every public table row by
 * row (`SELECT t::text FROM table t`).
 */
export async function dumpDatabase(app: TestApp): Promise<string> {
  try {
    return execFileSync('pg_dump', ['--no-owner', app.db.url], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    const tables = await app.db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const parts: string[] = [];
    for (const { table_name } of tables) {
      const rows = await app.db.query<{ row: string }>(`SELECT t::text AS row FROM public."${table_name.replace(/"/g, '""')}" t`);
      parts.push(`-- ${table_name}`, ...rows.map((r) => r.row));
    }
    return parts.join('\n');
  }
}

/** Every mint audit entry of the caller's org matching the query, all pages, newest first. */
export async function allMintEntries(reader: Client, query = ''): Promise<any[]> {
  return allAuditPages(reader, `/api/audit/mints${query ? `?${query}` : ''}`);
}

/** The audit entry of one request, found by its request id (undefined when there is none). */
export async function mintEntryOf(reader: Client, requestId: string | null): Promise<any | undefined> {
  expect(requestId).toBeTruthy();
  const all = await allMintEntries(reader);
  const matching = all.filter((entry) => entry.requestId === requestId);
  expect(matching.length).toBeLessThanOrEqual(1);
  return matching[0];
}

/** A fresh request id, sent as X-Request-Id so the audit entry can be found. */
export function newRequestId(label = 'req'): string {
  return `${label}-${randomBytes(8).toString('hex')}`;
}
