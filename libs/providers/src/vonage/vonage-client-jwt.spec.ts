import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { buildVonageClientJwt, VONAGE_CLIENT_SDK_ACL_PATHS } from './vonage-client-jwt';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('buildVonageClientJwt', () => {
  const input = { applicationId: randomUUID(), privateKey, subject: randomUUID(), issuedAt: Math.floor(Date.now() / 1000), ttlSeconds: 900, jti: randomUUID() };

  it('signs RS256 with the application key: application_id, iat, exp, jti, sub and the ten ACL paths, each open', () => {
    const token = buildVonageClientJwt(input);
    const verified = jwt.verify(token, publicKey, { algorithms: ['RS256'], complete: true });
    expect(verified.header).toStrictEqual({ alg: 'RS256', typ: 'JWT' });
    expect(verified.payload).toStrictEqual({
      application_id: input.applicationId,
      iat: input.issuedAt,
      exp: input.issuedAt + 900,
      jti: input.jti,
      sub: input.subject,
      acl: { paths: Object.fromEntries(VONAGE_CLIENT_SDK_ACL_PATHS.map((path) => [path, {}])) },
    });
    expect(VONAGE_CLIENT_SDK_ACL_PATHS).toHaveLength(10);
    expect(() => jwt.verify(token, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }), { algorithms: ['RS256'] })).toThrow(
      /invalid signature/,
    );
  });

  it('refuses a key that is not RSA', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => buildVonageClientJwt({ ...input, privateKey: ec })).toThrow(/RSA/);
  });
});
