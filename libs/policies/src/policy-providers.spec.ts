import { TOKEN_PROVIDERS, tokenRouteOf } from '@mintline/providers/provider-registry';
import { isPolicyProvider, POLICY_PROVIDERS, PROVIDER_LIFETIMES } from './policy-providers';

describe('the providers that take token policies', () => {
  it('include every provider of POST /api/tokens/{provider}', () => {
    expect(TOKEN_PROVIDERS.filter((provider) => !isPolicyProvider(provider))).toEqual([]);
  });

  it("know each token route's default lifetime, and whether it is fixed, as the route's own grant declares it", () => {
    // The least each route's body needs; the lifetime is left to the route's default.
    const minimal: Record<string, Record<string, unknown>> = { livekit: { room: 'r' }, agora: { channel: 'c' } };
    for (const provider of TOKEN_PROVIDERS) {
      const { route } = tokenRouteOf(provider)!;
      const grant = route.grant(route.parse(minimal[provider] ?? {}));
      expect({ provider, ttlSeconds: grant.ttlSeconds, fixed: grant.fixedTtl }).toEqual({ provider, ...PROVIDER_LIFETIMES[provider as keyof typeof PROVIDER_LIFETIMES] });
    }
  });

  it('each have a lifetime the evaluate route judges by when none is asked', () => {
    for (const provider of POLICY_PROVIDERS) expect(PROVIDER_LIFETIMES[provider].ttlSeconds).toBeGreaterThanOrEqual(60);
    expect(PROVIDER_LIFETIMES.sinch).toEqual({ ttlSeconds: 600, fixed: true });
    expect(PROVIDER_LIFETIMES.telnyx).toEqual({ ttlSeconds: 86_400, fixed: true });
  });

  it('are matched exactly (no case folding, no other names)', () => {
    for (const name of ['LIVEKIT', 'livekit ', 'sinch-voice', 'signalwire', 'call-token', '', 'constructor', '__proto__']) expect(isPolicyProvider(name)).toBe(false);
  });
});
