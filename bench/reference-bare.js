'use strict';
// Reference (a): the runtime's limit. A bare node:http server that verifies an HS256 bearer by hand and
// signs the same Sinch token; no framework, no database, no audit.
const http = require('node:http');
const { verifyBearer } = require('./bearer');
const { sinchToken } = require('./sinch-token');

const { PORT, JWT_SECRET, APP_KEY, APP_SECRET } = process.env;

http
  .createServer((req, res) => {
    const claims = req.url.startsWith('/api/calls/token/sinch') ? verifyBearer(req.headers.authorization, JWT_SECRET) : undefined;
    if (!claims) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"success":false}');
      return;
    }
    const body = JSON.stringify({ token: sinchToken(APP_KEY, APP_SECRET, claims.sub), applicationKey: APP_KEY, userId: claims.sub, callerIdentifier: '', expiresIn: 600 });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  })
  .listen(Number(PORT), '127.0.0.1', () => process.send?.('ready'));
