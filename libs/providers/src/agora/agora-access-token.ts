import { createHmac } from 'node:crypto';
import { deflateSync } from 'node:zlib';

/**
 * Agora's AccessToken2 ("007" tokens), as its reference builders lay it out (AgoraIO/Tools,
 * DynamicKey/AgoraDynamicKey, AccessToken2 in each language):
 *
 *   token        = "007" + base64(zlib-deflate(content))
 *   content      = string(signature) + signingInfo
 *   signingInfo  = string(appId) + u32(issueTs) + u32(expire) + u32(salt) + u16(#services) + service...
 *   service      = u16(type) + u16(#privileges) + (u16(privilege) + u32(expire))... + the type's own fields
 *   signingKey   = HMAC-SHA256(key = u32(salt), HMAC-SHA256(key = u32(issueTs), appCertificate))
 *   signature    = HMAC-SHA256(key = signingKey, signingInfo)
 *
 * Integers are little-endian; `string` is a u16 byte length followed by the bytes. `expire` (the
 * token's) and each privilege's expiry count seconds from `issueTs`, not instants. Services are packed
 * in ascending type order and privileges in ascending key order, as the reference does.
 */
export const AGORA_TOKEN_VERSION = '007';

export const AGORA_RTC_SERVICE = 1;
export const AGORA_RTM_SERVICE = 2;

/** RTC privileges (ServiceRtc.kPrivilege*). */
export const AGORA_RTC_JOIN_CHANNEL = 1;
export const AGORA_RTC_PUBLISH_AUDIO = 2;
export const AGORA_RTC_PUBLISH_VIDEO = 3;
export const AGORA_RTC_PUBLISH_DATA = 4;
/** RTM privilege (ServiceRtm.kPrivilegeLogin). */
export const AGORA_RTM_LOGIN = 1;

/** The salt's range in the reference builders: 1..99,999,999. */
export const AGORA_MAX_SALT = 99_999_999;

const HEX_32 = /^[0-9a-fA-F]{32}$/;
const U32_MAX = 0xffff_ffff;

export type AgoraService =
  /** RTC for a channel and a user account (a string uid; the reference writes "" for uid 0). */
  | { type: typeof AGORA_RTC_SERVICE; privileges: ReadonlyMap<number, number>; channel: string; account: string }
  /** RTM (Signaling) login for a user id. */
  | { type: typeof AGORA_RTM_SERVICE; privileges: ReadonlyMap<number, number>; userId: string };

export interface AgoraAccessTokenInput {
  appId: string;
  appCertificate: string;
  /** Seconds since the epoch; the token counts its lifetime from here. */
  issueTs: number;
  /** Seconds from issueTs until the token itself expires. */
  expireSeconds: number;
  /** 1..99,999,999, random per token: it makes the signing key unique to the token. */
  salt: number;
  services: readonly AgoraService[];
}

/** Builds the `007…` token. Throws on input the reference would refuse or pack wrongly (it returns ''). */
export function buildAgoraAccessToken(input: AgoraAccessTokenInput): string {
  const { appId, appCertificate, issueTs, expireSeconds, salt, services } = input;
  if (!HEX_32.test(appId)) throw new Error('Agora appId must be 32 hexadecimal characters');
  if (!HEX_32.test(appCertificate)) throw new Error('Agora appCertificate must be 32 hexadecimal characters');
  if (services.length === 0) throw new Error('An Agora token needs at least one service');
  if (!Number.isInteger(salt) || salt < 1 || salt > AGORA_MAX_SALT) throw new Error(`Agora salt must be an integer in 1..${AGORA_MAX_SALT}`);
  checkU32('issueTs', issueTs);
  checkU32('expireSeconds', expireSeconds);

  const ordered = [...services].sort((left, right) => left.type - right.type);
  const signingInfo = new Packer().string(appId).u32(issueTs).u32(expireSeconds).u32(salt).u16(ordered.length);
  for (const service of ordered) packService(signingInfo, service);
  const info = signingInfo.bytes();

  const signature = hmac(agoraSigningKey(appCertificate, issueTs, salt), info);
  const content = Buffer.concat([new Packer().bytesField(signature).bytes(), info]);
  return `${AGORA_TOKEN_VERSION}${deflateSync(content).toString('base64')}`;
}

/** The per-token key: the certificate (its ASCII text, as the reference uses it) under issueTs, then under salt. */
export function agoraSigningKey(appCertificate: string, issueTs: number, salt: number): Buffer {
  const underIssueTs = hmac(new Packer().u32(issueTs).bytes(), Buffer.from(appCertificate, 'utf8'));
  return hmac(new Packer().u32(salt).bytes(), underIssueTs);
}

function packService(packer: Packer, service: AgoraService): void {
  packer.u16(service.type);
  const keys = [...service.privileges.keys()].sort((left, right) => left - right);
  packer.u16(keys.length);
  for (const key of keys) {
    const expire = service.privileges.get(key) as number;
    checkU32('privilege expiry', expire);
    packer.u16(key).u32(expire);
  }
  if (service.type === AGORA_RTC_SERVICE) packer.string(service.channel).string(service.account);
  else packer.string(service.userId);
}

function hmac(key: Buffer, message: Buffer): Buffer {
  return createHmac('sha256', key).update(message).digest();
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new Error(`Agora ${name} must be an unsigned 32-bit integer`);
}

/** Little-endian writer for the token's fields. */
class Packer {
  private readonly chunks: Buffer[] = [];

  u16(value: number): this {
    const buffer = Buffer.alloc(2);
    buffer.writeUInt16LE(value);
    this.chunks.push(buffer);
    return this;
  }

  u32(value: number): this {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32LE(value);
    this.chunks.push(buffer);
    return this;
  }

  string(value: string): this {
    return this.bytesField(Buffer.from(value, 'utf8'));
  }

  bytesField(value: Buffer): this {
    if (value.length > 0xffff) throw new Error('An Agora token field is limited to 65535 bytes');
    this.u16(value.length);
    this.chunks.push(value);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
