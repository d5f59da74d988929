/**
 * Agora's own AccessToken2 (the `agora-token` package, a devDependency) to parse and verify the tokens
 * Mintline builds. Its index exports only the builders, so the parser is taken from its source file.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const reference = require('agora-token/src/AccessToken2') as AgoraReferenceModule;

interface ReferenceService {
  service_type(): number;
  __privileges: Record<string, number>;
  __channel_name?: Buffer;
  __uid?: Buffer;
  __user_id?: Buffer;
}

interface ReferenceToken {
  appId: Buffer | string;
  issueTs: number;
  expire: number;
  salt: number;
  services: ReferenceService[];
  from_string(token: string): boolean;
  verifySignature(appCertificate: string): boolean;
  build(): string;
  add_service(service: unknown): void;
}

interface AgoraReferenceModule {
  AccessToken2: new (appId?: string, appCertificate?: string, issueTs?: number, expire?: number) => ReferenceToken;
  ServiceRtc: (new (channel: string, uid: string | number) => { add_privilege(privilege: number, expire: number): void }) & Record<string, number>;
  ServiceRtm: (new (userId: string) => { add_privilege(privilege: number, expire: number): void }) & Record<string, number>;
}

export interface ParsedAgoraToken {
  /** The signature checks out with the certificate given. */
  verified: boolean;
  appId: string;
  issueTs: number;
  expire: number;
  salt: number;
  services: Array<{ type: number; privileges: Record<number, number>; channel?: string; account?: string; userId?: string }>;
}

/** Parses a `007…` token with agora-token and checks its signature; throws when it does not parse. */
export function parseAgoraToken(token: string, appCertificate: string): ParsedAgoraToken {
  const parsed = new reference.AccessToken2();
  if (!parsed.from_string(token)) throw new Error('agora-token could not parse the token');
  return {
    verified: parsed.verifySignature(appCertificate),
    appId: parsed.appId.toString(),
    issueTs: parsed.issueTs,
    expire: parsed.expire,
    salt: parsed.salt,
    services: parsed.services.map((service) => ({
      type: service.service_type(),
      privileges: Object.fromEntries(Object.entries(service.__privileges).map(([key, value]) => [Number(key), value])),
      ...(service.__channel_name !== undefined ? { channel: service.__channel_name.toString() } : {}),
      ...(service.__uid !== undefined ? { account: service.__uid.toString() } : {}),
      ...(service.__user_id !== undefined ? { userId: service.__user_id.toString() } : {}),
    })),
  };
}

/**
 * The token agora-token itself builds for the same inputs, with its random salt replaced by ours so the
 * two can be compared byte for byte. `rtc` as RtcTokenBuilder2.buildTokenWithUserAccount adds its
 * privileges, `rtm` as RtmTokenBuilder2.buildToken.
 */
export function referenceAgoraToken(input: {
  appId: string;
  appCertificate: string;
  issueTs: number;
  expire: number;
  salt: number;
  service: { kind: 'rtc'; channel: string; account: string; publisher: boolean } | { kind: 'rtm'; userId: string };
}): string {
  const token = new reference.AccessToken2(input.appId, input.appCertificate, input.issueTs, input.expire);
  token.salt = input.salt;
  if (input.service.kind === 'rtc') {
    const rtc = new reference.ServiceRtc(input.service.channel, input.service.account);
    rtc.add_privilege(reference.ServiceRtc.kPrivilegeJoinChannel, input.expire);
    if (input.service.publisher) {
      rtc.add_privilege(reference.ServiceRtc.kPrivilegePublishAudioStream, input.expire);
      rtc.add_privilege(reference.ServiceRtc.kPrivilegePublishVideoStream, input.expire);
      rtc.add_privilege(reference.ServiceRtc.kPrivilegePublishDataStream, input.expire);
    }
    token.add_service(rtc);
  } else {
    const rtm = new reference.ServiceRtm(input.service.userId);
    rtm.add_privilege(reference.ServiceRtm.kPrivilegeLogin, input.expire);
    token.add_service(rtm);
  }
  return token.build();
}
