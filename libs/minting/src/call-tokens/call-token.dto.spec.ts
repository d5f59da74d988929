import { ApiError } from '@mintline/common/errors/api-error';
import { createValidationPipe } from '@mintline/common/errors/validation.pipe';
import { CreateCallTokenDto, RedeemCallTokenDto } from './call-token.dto';

/** The same DTO without its own check (its decorators inherited): what class-transformer and class-validator alone make of a body. */
function withoutOwnCheck<T extends new (...args: any[]) => object>(dto: T): T {
  const full = class extends dto {};
  Object.defineProperty(full, 'accepts', { value: undefined });
  return full;
}
const FullCreate = withoutOwnCheck(CreateCallTokenDto);
const FullRedeem = withoutOwnCheck(RedeemCallTokenDto);

const pipe = createValidationPipe();

async function outcome(metatype: unknown, value: unknown): Promise<{ ok: unknown } | { refused: unknown }> {
  try {
    return { ok: await pipe.transform(value, { type: 'body', metatype: metatype as never, data: undefined }) };
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    const refusal = error as ApiError;
    return { refused: { status: refusal.status, code: refusal.code, details: refusal.details } };
  }
}

const UUID = '3f1f5c1e-9a4b-4c7d-8e2f-0a1b2c3d4e5f';

describe('call-token bodies: the DTOs’ own check (accepts) agrees with the full validation', () => {
  const creates: unknown[] = [
    { endpointId: UUID },
    { endpointId: UUID.toUpperCase() },
    { endpointId: UUID, ttlSeconds: 30 },
    { endpointId: UUID, ttlSeconds: 900 },
    { endpointId: UUID, ttlSeconds: 29 },
    { endpointId: UUID, ttlSeconds: 901 },
    { endpointId: UUID, ttlSeconds: 60.5 },
    { endpointId: UUID, ttlSeconds: '60' },
    { endpointId: UUID, ttlSeconds: null },
    { endpointId: 'not-a-uuid' },
    { endpointId: '00000000-0000-0000-0000-000000000000' },
    { endpointId: 42 },
    {},
    { endpointId: UUID, extra: 1 },
    [UUID],
    'text',
    null,
    Object.assign(Object.create({ inherited: true }), { endpointId: UUID }),
  ];
  const redeems: unknown[] = [
    { token: `mct_${'a'.repeat(43)}` },
    { token: 'x'.repeat(256) },
    { token: 'x'.repeat(257) },
    { token: '😀'.repeat(200) },
    { token: '' },
    { token: 5 },
    { token: null },
    {},
    { token: 'x', other: 'y' },
    [],
  ];

  it.each(creates.map((body) => [JSON.stringify(body), body]))('CreateCallTokenDto %s', async (_, body) => {
    const fast = await outcome(CreateCallTokenDto, body);
    expect(fast).toEqual(await outcome(FullCreate, body));
    if ('ok' in fast) expect(fast.ok).toBeInstanceOf(CreateCallTokenDto);
  });

  it.each(redeems.map((body) => [JSON.stringify(body), body]))('RedeemCallTokenDto %s', async (_, body) => {
    const fast = await outcome(RedeemCallTokenDto, body);
    expect(fast).toEqual(await outcome(FullRedeem, body));
    if ('ok' in fast) expect(fast.ok).toBeInstanceOf(RedeemCallTokenDto);
  });

  it('takes the common bodies without class-validator', () => {
    expect(CreateCallTokenDto.accepts({ endpointId: UUID, ttlSeconds: 120 })).toEqual({ endpointId: UUID, ttlSeconds: 120 });
    expect(RedeemCallTokenDto.accepts({ token: 'mct_x' })).toEqual({ token: 'mct_x' });
    expect(CreateCallTokenDto.accepts({ endpointId: UUID, extra: 1 })).toBeUndefined();
  });
});
