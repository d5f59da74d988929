'use strict';
// Reference (a): the runtime's limit. A bare node:http server that verifies an HS256 bearer by hand and
// signs the same Sinch token; no framework, no database, no audit.
const http = require('node:http');
const { createHmac, timingSafeEqual } = require('node:crypto');
const { sinchToken } = require('./sinch-token');

const { PORT, JWT_SECRET, APP_KEY, APP_SECRET } = process.env;

function verify(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
  if (header.alg !== 'HS256') return undefined;
  const expected = createHmac('sha256', JWT_SECRET).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  return claims.exp > Date.now() / 1000 ? claims : undefined;
}

http
  .createServer((req, res) => {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
    const claims = match && req.url.startsWith('/api/calls/token/sinch') ? verify(match[1]) : undefined;
    if (!claims) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"success":false}');
      return;
    }
    const body = JSON.stringify({ token: sinchToken(APP_KEY, APP_SECRET, claims.sub), applicationKey: APP_KEY, userId: claims.sub, callerIdentifier: '', expiresIn: 600 });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  })
  .listen(Number(PORT), '127.0.0.1', () => process.send?.('ready'));
