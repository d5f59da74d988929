'use strict';
// The Sinch registration token, written out for the two reference servers (the service has its own in
// libs/providers). Key = HMAC-SHA256(base64-decoded secret, UTF-8 "YYYYMMDD" of iat's UTC date).
const { createHmac, randomUUID } = require('node:crypto');

function utcDate(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 10).replace(/-/g, '');
}

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function sinchToken(applicationKey, applicationSecret, userId, iat = Math.floor(Date.now() / 1000)) {
  const day = utcDate(iat);
  const key = createHmac('sha256', Buffer.from(applicationSecret, 'base64')).update(day, 'utf8').digest();
  const header = b64url({ alg: 'HS256', kid: `hkdfv1-${day}` });
  const payload = b64url({
    exp: iat + 600,
    iat,
    iss: `//rtc.sinch.com/applications/${applicationKey}`,
    nonce: randomUUID(),
    sub: `//rtc.sinch.com/applications/${applicationKey}/users/${userId}`,
  });
  const signature = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

module.exports = { sinchToken, utcDate };
