import type { Client } from './http';
import { twilioCredentials } from './minting';

/**
 * A load that exercises every mint path rather than one: Sinch and Twilio voice tokens, SignalWire chat
 * tokens (from a fake space), call-token mints, and redemptions of the call tokens minted so far. The
 * outage and shutdown specs drive it and hold every answer to the same rules: success with its token
 * and its committed audit entry, or 503 UNAVAILABLE.
 */
export type MintKind = 'sinch' | 'twilio' | 'signalwire-chat' | 'call-token' | 'redeem';

export const MINT_KINDS: readonly MintKind[] = ['sinch', 'twilio', 'signalwire-chat', 'call-token', 'redeem'];

export interface MixRequest {
  kind: MintKind;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** A redemption carries no credential: the call token is the credential. */
  anonymous: boolean;
  /** The call token a redemption sends (its audit entry carries that token's fingerprint). */
  redeemed?: string;
}

/**
 * Makes an org ready for the mix: WebRTC on with one endpoint, Twilio credentials, and SignalWire
 * credentials for the fake space at `spaceUrl` (the service must allow insecure provider URLs).
 */
export async function prepareMintMix(
  admin: Client,
  operator: Client,
  orgId: string,
  signalWire: { spaceUrl: string; projectId: string; apiToken: string },
): Promise<{ endpointId: string }> {
  const answers = [
    await operator.patch(`/api/orgs/${orgId}`, { features: { webrtc: true } }),
    await admin.put('/api/credentials/twilio', twilioCredentials()),
    await admin.put('/api/credentials/signalwire', { spaceUrl: signalWire.spaceUrl, projectId: signalWire.projectId, apiToken: signalWire.apiToken }),
  ];
  for (const answer of answers) if (answer.status !== 200) throw new Error(`mint mix setup: ${answer.status} ${answer.text}`);
  const endpoint = await admin.post('/api/endpoints', { name: 'Load line', webrtc: true });
  if (endpoint.status !== 201) throw new Error(`mint mix endpoint: ${endpoint.status} ${endpoint.text}`);
  return { endpointId: endpoint.body.id };
}

export class MintMix {
  /** Call tokens minted by the load and not yet handed to a redemption. */
  private readonly unredeemed: string[] = [];

  /** `userId`: the user an API-key client mints for. */
  constructor(
    private readonly endpointId: string,
    private readonly userId: string,
  ) {}

  /** Client `client`'s `n`-th request: the clients walk the kinds in step, each from its own start. */
  next(client: number, n: number, byApiKey: boolean): MixRequest {
    let kind = MINT_KINDS[(client + n) % MINT_KINDS.length];
    const redeemed = kind === 'redeem' ? this.unredeemed.shift() : undefined;
    if (kind === 'redeem' && !redeemed) kind = 'call-token';
    const forUser = byApiKey ? `?userId=${this.userId}` : '';
    switch (kind) {
      case 'sinch':
        return { kind, method: 'GET', path: `/api/calls/token/sinch${forUser}`, anonymous: false };
      case 'twilio':
        return { kind, method: 'GET', path: `/api/calls/token/twilio${forUser}`, anonymous: false };
      case 'signalwire-chat':
        return {
          kind,
          method: 'POST',
          path: '/api/chat/tokens',
          body: { ttl: 5, channels: { load: { read: true, write: true } }, ...(byApiKey ? { userId: this.userId } : {}) },
          anonymous: false,
        };
      case 'call-token':
        return { kind, method: 'POST', path: '/api/call-tokens', body: { endpointId: this.endpointId, ttlSeconds: 300 }, anonymous: false };
      case 'redeem':
        return { kind, method: 'POST', path: '/api/call-tokens/redeem', body: { token: redeemed }, anonymous: true, redeemed };
    }
  }

  /**
   * Feeds an answer back: a minted call token becomes one to redeem, and so does one whose redemption
   * was refused 503 (a redemption that could not be audited did not happen: the token is still good).
   */
  answered(request: MixRequest, status: number | undefined, body: any): void {
    if (request.kind === 'call-token' && status === 201 && typeof body?.token === 'string') this.unredeemed.push(body.token);
    if (request.kind === 'redeem' && status === 503) this.unredeemed.push(request.redeemed!);
  }
}

/** The status a request of this kind succeeds with. */
export function successStatus(kind: MintKind): number {
  return kind === 'call-token' ? 201 : 200;
}

/**
 * The token a successful answer handed out (a redemption: the token it used up), or a description of
 * what is wrong with the answer.
 */
export function tokenOf(request: Pick<MixRequest, 'kind' | 'redeemed'>, body: any): { token: string } | { problem: string } {
  if (request.kind === 'redeem') {
    if (typeof body?.sessionId !== 'string') return { problem: 'redeemed without a sessionId' };
    return { token: request.redeemed! };
  }
  if (typeof body?.token !== 'string') return { problem: `${successStatus(request.kind)} without a token` };
  return { token: body.token };
}
