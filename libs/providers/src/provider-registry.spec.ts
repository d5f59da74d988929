import { ApiError } from '@mintline/common/errors/api-error';
import { CREDENTIAL_PROVIDERS, PROVIDER_REGISTRY, registryInjectables, TOKEN_PROVIDERS, tokenRouteOf } from './provider-registry';
import { LiveKitRoomsCheck } from './livekit/livekit-rooms.check';
import { LiveKitTokens } from './livekit/livekit.tokens';

function route(name: string) {
  const registered = tokenRouteOf(name);
  if (!registered) throw new Error(`no route ${name}`);
  return registered.route;
}

function problemsOf(name: string, body: Record<string, unknown>) {
  try {
    route(name).parse(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return (error as ApiError).details;
  }
  throw new Error('expected a validation error');
}

describe('the provider registry', () => {
  it('keys each entry by its credentials name and derives the token routes and injectables from the entries', () => {
    expect(CREDENTIAL_PROVIDERS).toEqual(Object.keys(PROVIDER_REGISTRY));
    for (const provider of CREDENTIAL_PROVIDERS) expect(PROVIDER_REGISTRY[provider].credentials).toBe(provider);
    expect(TOKEN_PROVIDERS).toEqual(expect.arrayContaining(['sinch', 'twilio', 'livekit', 'vonage']));
    expect(tokenRouteOf('sinch')?.credentials).toBe('sinch-voice');
    expect(tokenRouteOf('livekit')?.credentials).toBe('livekit');
    expect(tokenRouteOf('sinch-voice')).toBeUndefined();
    expect(tokenRouteOf('__proto__')).toBeUndefined();
    expect(registryInjectables()).toEqual(expect.arrayContaining([LiveKitTokens, LiveKitRoomsCheck]));
  });

  it('documents every request and answer property with bounds (closed, bounded schemas for the OpenAPI document)', () => {
    for (const name of TOKEN_PROVIDERS) {
      for (const schema of [...Object.values(route(name).request.properties), ...Object.values(route(name).answer)]) {
        if (schema.type === 'string') expect(schema.maxLength ?? schema.format).toBeDefined();
        if (schema.type === 'integer') expect([schema.minimum, schema.maximum, schema.format]).toEqual([expect.any(Number), expect.any(Number), 'int32']);
        if (schema.type === 'object') expect(schema.additionalProperties).toBe(false);
      }
    }
  });
});

describe('the token routes, as declared', () => {
  it('twilio: the scope follows what is asked, read from any body', () => {
    const scopes = route('twilio').scopes;
    expect(scopes?.({})).toEqual(['CREATE_CALL_TOKEN']);
    expect(scopes?.({ voice: false, conversations: true })).toEqual(['CREATE_CHAT_TOKEN']);
    expect(scopes?.({ voice: false, sync: true })).toEqual(['CREATE_CHAT_TOKEN']);
    expect(scopes?.({ conversations: true })).toEqual(['CREATE_CALL_TOKEN', 'CREATE_CHAT_TOKEN']);
    expect(scopes?.({ voice: false, video: {}, sync: true })).toEqual(['CREATE_CALL_TOKEN', 'CREATE_CHAT_TOKEN']);
    for (const odd of [null, [], 'x', 7, { voice: 'false', conversations: 'true' }]) expect(scopes?.(odd)).toEqual(['CREATE_CALL_TOKEN']);
  });

  it('twilio: publish is the voice grant, asked explicitly or by default, or none without voice', () => {
    const { parse, grant } = route('twilio');
    expect(grant(parse({}))).toEqual({ room: null, ttlSeconds: 3600, fixedTtl: false, publish: 'default' });
    expect(grant(parse({ voice: true, video: { room: 'r' }, ttlSeconds: 60 }))).toEqual({ room: 'r', ttlSeconds: 60, fixedTtl: false, publish: 'asked' });
    expect(grant(parse({ voice: false, conversations: true }))).toMatchObject({ publish: 'none' });
  });

  it('livekit: publish asked when a publish right is sent as true, none when both are refused', () => {
    const { parse, grant, target } = route('livekit');
    expect(grant(parse({ room: 'a' }))).toEqual({ room: 'a', ttlSeconds: 3600, fixedTtl: false, publish: 'default' });
    expect(grant(parse({ room: 'a', canPublishData: true }))).toMatchObject({ publish: 'asked' });
    expect(grant(parse({ room: 'a', canPublish: false, canPublishData: false }))).toMatchObject({ publish: 'none' });
    expect(grant(parse({ room: 'a', canPublish: false }))).toMatchObject({ publish: 'default' });
    expect(target(parse({ room: 'a b' }), {})).toBe('livekit:a b');
  });

  it('sinch: a fixed 600-second lifetime, nothing to ask', () => {
    const { parse, grant } = route('sinch');
    expect(grant(parse({}))).toEqual({ room: null, ttlSeconds: 600, fixedTtl: true, publish: 'none' });
    expect(problemsOf('sinch', { ttlSeconds: 60 })).toEqual([{ field: 'ttlSeconds', message: 'is not a field of a sinch token request' }]);
  });

  it('names every problem of a body at once', () => {
    expect(problemsOf('livekit', { ttlSeconds: 10, canSubscribe: null, roomAdmin: true })).toEqual([
      { field: 'room', message: 'is required' },
      { field: 'ttlSeconds', message: 'must be an integer from 60 to 86400' },
      { field: 'canSubscribe', message: 'must be true or false' },
      { field: 'roomAdmin', message: 'is not a field of a livekit token request' },
    ]);
    expect(problemsOf('vonage', { ttlSeconds: 86_401 })).toEqual([{ field: 'ttlSeconds', message: 'must be an integer from 60 to 86400' }]);
  });
});
