'use strict';
// The HS256 bearer check of the bare and Nest references, written out by hand: split, check the header's
// alg, compare the HMAC in constant time, check exp. Answers the claims, or undefined when refused.
const { createHmac, timingSafeEqual } = require('node:crypto');

function verifyBearer(authorization, secret) {
  const match = /^Bearer (\S+)$/.exec(authorization || '');
  if (!match) return undefined;
  const parts = match[1].split('.');
  if (parts.length !== 3) return undefined;
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
  if (header.alg !== 'HS256') return undefined;
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  return claims.exp > Date.now() / 1000 ? claims : undefined;
}

module.exports = { verifyBearer };
