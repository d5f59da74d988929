'use strict';
// Reference (b): what a team would otherwise write. Express + jsonwebtoken + pg: verify the bearer, read
// the org's credential row, sign the token, insert one audit row (its own commit), answer.
const express = require('express');
const jwt = require('jsonwebtoken');
const { Pool } = require('pg');
const { createHash, createHmac, randomUUID } = require('node:crypto');
const { utcDate } = require('./sinch-token');

const { PORT, JWT_SECRET, DATABASE_URL } = process.env;
const pool = new Pool({ connectionString: DATABASE_URL, max: 20 });
const app = express();

app.get('/api/calls/token/sinch', async (req, res) => {
  try {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
    const claims = jwt.verify(match ? match[1] : '', JWT_SECRET, { algorithms: ['HS256'] });
    const { rows } = await pool.query('SELECT application_key, application_secret FROM naive_credentials WHERE org_id = $1', [claims.org]);
    const { application_key: applicationKey, application_secret: applicationSecret } = rows[0];
    const iat = Math.floor(Date.now() / 1000);
    const day = utcDate(iat);
    const key = createHmac('sha256', Buffer.from(applicationSecret, 'base64')).update(day, 'utf8').digest();
    const token = jwt.sign(
      {
        iss: `//rtc.sinch.com/applications/${applicationKey}`,
        sub: `//rtc.sinch.com/applications/${applicationKey}/users/${claims.sub}`,
        iat,
        exp: iat + 600,
        nonce: randomUUID(),
      },
      key,
      { algorithm: 'HS256', header: { alg: 'HS256', kid: `hkdfv1-${day}` }, noTimestamp: true },
    );
    await pool.query('INSERT INTO naive_audit (id, org_id, user_id, at, fingerprint) VALUES ($1, $2, $3, now(), $4)', [
      randomUUID(),
      claims.org,
      claims.sub,
      createHash('sha256').update(token).digest('hex').slice(0, 16),
    ]);
    res.json({ token, applicationKey, userId: claims.sub, callerIdentifier: '', expiresIn: 600 });
  } catch {
    res.status(401).json({ success: false });
  }
});

app.listen(Number(PORT), '127.0.0.1', () => process.send?.('ready'));
