#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// jwt-tool.js: small helpers for shell tests around the fake IdP. Node standard library only.
//
//   jwt-tool.js get FIELD < json          print a top-level field (strings raw, others as JSON);
//                                         exit 1 when the field is absent
//   jwt-tool.js has FIELD < json          exit 0 when the field is present
//   jwt-tool.js decode < jwt              print {"header":..., "payload":...}
//   jwt-tool.js verify JWKS-FILE ISS AUD < jwt
//                                         independent check of an ID token: signature against the JWKS
//                                         (RS256/ES256 only), kid, iss, aud, exp, iat. Prints "ok" or the
//                                         first problem; exit 0 only when ok
//   jwt-tool.js assertion KEY-PEM CLIENT_ID AUD
//                                         print a private_key_jwt client assertion (RFC 7523) signed ES256/RS256
'use strict';

const crypto = require('crypto');
const fs = require('fs');

function stdin() {
        return fs.readFileSync(0, 'utf8').trim();
}
function b64json(s) {
        return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
}

function verify(jwt, jwks, iss, aud) {
        const parts = jwt.split('.');
        if (parts.length !== 3) return 'not a JWS compact serialization';
        let h, p;
        try {
                h = b64json(parts[0]);
                p = b64json(parts[1]);
        } catch {
                return 'header or payload is not JSON';
        }
        if (!['RS256', 'ES256'].includes(h.alg)) return `alg ${h.alg} not allowed`;
        const jwk = jwks.keys.find((k) => k.kid === h.kid);
        if (!jwk) return `unknown kid ${h.kid}`;
        if (jwk.alg && jwk.alg !== h.alg) return 'alg does not match the key';
        const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
        const data = Buffer.from(parts[0] + '.' + parts[1]);
        const sig = Buffer.from(parts[2], 'base64url');
        const ok = h.alg === 'ES256' ? crypto.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig)
                                     : crypto.verify('sha256', data, key, sig);
        if (!ok) return 'bad signature';
        if (p.iss !== iss) return `iss ${p.iss}`;
        const auds = Array.isArray(p.aud) ? p.aud : [p.aud];
        if (!auds.includes(aud)) return `aud ${p.aud}`;
        if (auds.length > 1 && p.azp !== aud) return `azp ${p.azp}`;
        const now = Date.now() / 1000;
        if (typeof p.exp !== 'number' || p.exp < now - 60) return 'expired';
        if (typeof p.iat !== 'number' || p.iat > now + 60) return 'iat in the future';
        if (typeof p.sub !== 'string' || !p.sub) return 'no sub';
        return null;
}

const [cmd, ...rest] = process.argv.slice(2);
switch (cmd) {
case 'get':
case 'has': {
        const o = JSON.parse(stdin());
        if (!(rest[0] in o)) process.exit(1);
        if (cmd === 'get') {
                const v = o[rest[0]];
                process.stdout.write((typeof v === 'string' ? v : JSON.stringify(v)) + '\n');
        }
        break;
}
case 'decode': {
        const [h, p] = stdin().split('.');
        process.stdout.write(JSON.stringify({ header: b64json(h), payload: b64json(p) }) + '\n');
        break;
}
case 'verify': {
        const why = verify(stdin(), JSON.parse(fs.readFileSync(rest[0], 'utf8')), rest[1], rest[2]);
        process.stdout.write((why || 'ok') + '\n');
        process.exit(why ? 1 : 0);
        break;
}
case 'assertion': {
        const key = crypto.createPrivateKey(fs.readFileSync(rest[0]));
        const alg = key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
        const now = Math.floor(Date.now() / 1000);
        const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const input = enc({ alg, typ: 'JWT' }) + '.' + enc({ iss: rest[1], sub: rest[1], aud: rest[2], iat: now,
                                                              exp: now + 60, jti: crypto.randomUUID() });
        const sig = crypto.sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
        process.stdout.write(input + '.' + sig.toString('base64url') + '\n');
        break;
}
default:
        process.stderr.write('usage: jwt-tool.js get|has|decode|verify|assertion ...\n');
        process.exit(2);
}
