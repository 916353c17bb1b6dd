#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// fake-idp.js: a fault-injecting OAuth 2.0 Device Authorization Grant (RFC 8628) + OpenID Connect
// provider for the pam_devflow tests. Node 20 standard library only.
//
//   node tests/idp/fake-idp.js --dir DIR [--certs CERTDIR] [--port 0] [--profile rfc] [--strict-interval]
//                              [--interval 5] [--expires-in 600] [--env-id ID] [--prefix /realms/x]
//                              [--alg RS256|ES256] [--verbose]
//
// Prints "LISTENING <port>" on stdout once ready, and writes:
//   DIR/port            the HTTPS port (test CA certificate, CERTDIR/server.pem)
//   DIR/wrong-port      a second HTTPS port, same application, serving CERTDIR/wrong-name.pem
//   DIR/http-port       a plain-HTTP port, same application (target of the https->http redirect fault)
//   DIR/requests.jsonl  one JSON line per request (control requests under /_test/ excepted)
//   DIR/secrets.txt     every secret issued or known, one per line, for leak checks
//
// tests/idp/README.md documents profiles, faults and the control API (/_test/...).
'use strict';

const https = require('https');
const http2 = require('http2');
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { URL, URLSearchParams } = require('url');
const { performance } = require('perf_hooks');

// ---------------------------------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
        const a = {
                port: 0, dir: null, certs: null, profile: 'rfc', strictInterval: false, interval: 5,
                expiresIn: 600, envId: 'a1b2c3d4-0000-4000-8000-00000000e001', prefix: '', alg: 'RS256',
                host: '127.0.0.1', verbose: false, http2: false,
        };
        for (let i = 2; i < argv.length; i++) {
                const k = argv[i];
                const v = () => {
                        if (i + 1 >= argv.length) die(`missing value after ${k}`);
                        return argv[++i];
                };
                switch (k) {
                case '--port': a.port = Number(v()); break;
                case '--dir': a.dir = v(); break;
                case '--certs': a.certs = v(); break;
                case '--profile': a.profile = v(); break;
                case '--strict-interval': a.strictInterval = true; break;
                case '--interval': { const x = v(); a.interval = x === 'none' ? null : Number(x); break; }
                case '--expires-in': a.expiresIn = Number(v()); break;
                case '--env-id': a.envId = v(); break;
                case '--prefix': a.prefix = v().replace(/\/+$/, ''); break;
                case '--alg': a.alg = v(); break;
                case '--host': a.host = v(); break;
                case '--verbose': a.verbose = true; break;
                case '--http2': a.http2 = true; break;
                case '--help': case '-h':
                        process.stdout.write('see tests/idp/README.md\n');
                        process.exit(0);
                        break;
                default: die(`unknown argument '${k}'`);
                }
        }
        if (!a.dir) die('--dir DIR is required');
        if (!a.certs) a.certs = a.dir;
        return a;
}

function die(msg) {
        process.stderr.write(`fake-idp: ${msg}\n`);
        process.exit(2);
}

const args = parseArgs(process.argv);
fs.mkdirSync(args.dir, { recursive: true });
const REQUESTS = path.join(args.dir, 'requests.jsonl');
const SECRETS = path.join(args.dir, 'secrets.txt');

function readCert(name) {
        const f = path.join(args.certs, name);
        try {
                return fs.readFileSync(f);
        } catch (e) {
                die(`cannot read ${f} (run tests/idp/make-certs.sh ${args.certs}): ${e.message}`);
        }
}
function readOptional(name) {
        try {
                return fs.readFileSync(path.join(args.certs, name));
        } catch {
                return null;
        }
}

const CERTS = {
        server: { cert: readCert('server.pem'), key: readCert('server-key.pem') },
        wrong_name: { cert: readCert('wrong-name.pem'), key: readCert('wrong-name-key.pem') },
        self_signed: { cert: readCert('self-signed.pem'), key: readCert('self-signed-key.pem') },
        expired: readOptional('expired.pem') ? { cert: readOptional('expired.pem'), key: readOptional('expired-key.pem') }
                                              : null,
        clientCa: readOptional('client-ca.pem'),
        clientJwtPub: readOptional('client-jwt.pub.pem'),
};

// ---------------------------------------------------------------------------------------------------
// Signing keys, generated at start. The JWKS publishes both; ID tokens use config.alg.

const KEYS = {
        RS256: { kid: 'rsa-' + crypto.randomBytes(4).toString('hex'),
                 ...crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) },
        ES256: { kid: 'ec-' + crypto.randomBytes(4).toString('hex'),
                 ...crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
};
// A key that is never published: "bad_signature"-like tests that need a valid-looking foreign key.
const FOREIGN_RSA = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });

function jwks() {
        const keys = [];
        for (const [alg, k] of Object.entries(KEYS)) {
                keys.push({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, use: 'sig', alg });
        }
        return { keys };
}

// ---------------------------------------------------------------------------------------------------
// Configuration that tests change at run time (/_test/config). DEFAULTS is what /_test/reset restores.

const DEFAULT_CLIENTS = {
        'devflow-test': { auth: 'none' },
        // '+', '%', ':' and '&' survive only when the client form-urlencodes id and secret (RFC 6749 §2.3.1).
        'devflow-basic': { auth: 'basic', secret: 'b4sic+s3cret:with/%special&chars' },
        'devflow-post': { auth: 'post', secret: 'post-s3cret' },
        'devflow-tls': { auth: 'tls', subject_cn: 'devflow-tls' },
        'devflow-jwt': { auth: 'private_key_jwt', public_key_pem: CERTS.clientJwtPub ? CERTS.clientJwtPub.toString()
                                                                                       : null },
};

function defaults() {
        return {
                profile: args.profile,
                strict_interval: args.strictInterval,
                poll_tolerance_ms: 0,     // a poll this much early still counts as on time
                interval: args.interval,  // null: the field is omitted (RFC 8628 §3.2: client uses 5)
                expires_in: args.expiresIn,
                token_expires_in: 3600,
                env_id: args.envId,
                path_prefix: args.prefix,
                alg: args.alg,            // RS256 | ES256
                id_token: 'valid',        // see brokenIdToken()
                userinfo: 'valid',        // valid | wrong_sub | error
                discovery_issuer: null,   // override the issuer announced in discovery
                token_endpoint: null,     // override the token endpoint announced in discovery (a whole URL)
                user_code: null,          // fixed user_code for the next codes, else random "WDJB-MJHT"
                refresh_token: true,
                faults: [],
                clients: JSON.parse(JSON.stringify(DEFAULT_CLIENTS)),
        };
}
let config = defaults();

const PROFILES = ['rfc', 'auth0', 'pingone', 'pingfederate', 'google', 'strings'];

// Endpoint paths per profile. issuerPath is appended to the origin to make the issuer.
function routes(cfg) {
        const p = cfg.path_prefix || '';
        switch (cfg.profile) {
        case 'auth0':
                // Auth0's issuer ends with a slash: "https://tenant.auth0.com/".
                return { issuerPath: '/', discovery: '/.well-known/openid-configuration',
                         jwks: '/.well-known/jwks.json', userinfo: '/userinfo', device: '/oauth/device/code',
                         token: '/oauth/token' };
        case 'pingone': {
                const b = `/${cfg.env_id}/as`;
                return { issuerPath: b, discovery: `${b}/.well-known/openid-configuration`, jwks: `${b}/jwks`,
                         userinfo: `${b}/userinfo`, device: `${b}/device_authorization`, token: `${b}/token` };
        }
        case 'pingfederate':
                return { issuerPath: '', discovery: '/.well-known/openid-configuration', jwks: '/pf/JWKS',
                         userinfo: '/idp/userinfo.openid', device: '/as/device_authz.oauth2',
                         token: '/as/token.oauth2' };
        case 'google':
                return { issuerPath: '', discovery: '/.well-known/openid-configuration', jwks: '/oauth2/v3/certs',
                         userinfo: '/v1/userinfo', device: '/device/code', token: '/token' };
        default: // rfc, strings
                return { issuerPath: p, discovery: `${p}/.well-known/openid-configuration`, jwks: `${p}/jwks`,
                         userinfo: `${p}/userinfo`, device: `${p}/device_authorization`, token: `${p}/token` };
        }
}

// HTTP status an error is sent with, per profile. The daemon must decide by the "error" field.
function errorStatus(error) {
        if (error === 'invalid_client') return 401;
        switch (config.profile) {
        case 'auth0':
                // Auth0: 403 for pending/expired/denied, 429 for slow_down.
                if (error === 'slow_down') return 429;
                if (['authorization_pending', 'expired_token', 'access_denied', 'invalid_grant'].includes(error))
                        return 403;
                return 400;
        case 'google':
                // Google, as observed: 428 Precondition Required while pending, 403 for slow_down/denied.
                if (error === 'authorization_pending') return 428;
                if (error === 'slow_down' || error === 'access_denied') return 403;
                return 400;
        default:
                return 400;
        }
}

// Which client authentication methods a profile accepts at all (others: 401 invalid_client).
function profileAcceptsAuth(method) {
        switch (config.profile) {
        case 'pingfederate': return ['basic', 'tls', 'private_key_jwt'].includes(method);
        case 'google': return method === 'post';
        default: return true;
        }
}

const PINGFEDERATE_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'groups', 'offline_access'];

// ---------------------------------------------------------------------------------------------------
// State: flows by device_code, access tokens, secrets, request log.

let flows = new Map();          // device_code -> flow
let accessTokens = new Map();   // access_token -> { flow, claims }
let usedJti = new Set();
let faultSeq = 0;
const ports = { https: 0, wrong: 0, http: 0 };
const hung = new Set();         // responses we never answer (fault "hang")
const sockets = new Set();      // every open socket, to drop them when the certificate changes

function nowMs() {
        return performance.timeOrigin + performance.now();
}

function secret(s) {
        if (s) fs.appendFileSync(SECRETS, s + '\n');
}
function recordSecretsOfClients() {
        for (const c of Object.values(config.clients)) secret(c.secret);
}

function record(entry) {
        fs.appendFileSync(REQUESTS, JSON.stringify(entry) + '\n');
        if (args.verbose)
                process.stderr.write(`fake-idp: ${JSON.stringify({ ...entry, device_code: undefined })}\n`);
}

function b64url(buf) {
        return Buffer.from(buf).toString('base64url');
}

// RFC 8628 §6.1: base-20 alphabet without vowels, 8 characters, shown as XXXX-XXXX.
function newUserCode() {
        if (config.user_code) return config.user_code;
        const alphabet = 'BCDFGHJKLMNPQRSTVWXZ';
        let s = '';
        for (let i = 0; i < 8; i++) s += alphabet[crypto.randomInt(alphabet.length)];
        return s.slice(0, 4) + '-' + s.slice(4);
}

function origin(req) {
        const scheme = req.socket.encrypted ? 'https' : 'http';
        const host = args.host.includes(':') ? `[${args.host}]` : args.host;
        return `${scheme}://${host}:${req.socket.localPort}`;
}
function issuer(req) {
        return origin(req) + routes(config).issuerPath;
}

// ---------------------------------------------------------------------------------------------------
// Faults. Each: { endpoint: "device"|"token"|"discovery"|"jwks"|"userinfo"|"all", type, count?, ... }.
// count: how many matching requests it applies to (default: all of them).

const FAULT_TYPES = ['delay', 'hang', 'status', 'malformed', 'huge', 'truncated', 'slow_down', 'wrong_cert',
                     'control_chars', 'oversized', 'missing', 'redirect_http', 'reset', 'drip'];

function addFault(f) {
        if (!f || typeof f !== 'object') throw new Error('fault must be an object');
        if (!FAULT_TYPES.includes(f.type)) throw new Error(`unknown fault type '${f.type}'`);
        const fault = { endpoint: 'all', ...f, id: ++faultSeq };
        if (fault.type === 'slow_down' && !f.endpoint) fault.endpoint = 'token';
        if (fault.type === 'wrong_cert') {
                applyCert(fault.cert || 'wrong_name');
                return fault;   // a listener property, not a per-request fault
        }
        config.faults.push(fault);
        return fault;
}

// Returns the faults that apply to this request, consuming their counts.
function takeFaults(endpoint) {
        const out = [];
        for (const f of config.faults) {
                if (f.endpoint !== 'all' && f.endpoint !== endpoint) continue;
                if (f.count !== undefined) {
                        if (f.count <= 0) continue;
                        f.count--;
                }
                out.push(f);
        }
        config.faults = config.faults.filter((f) => f.count === undefined || f.count > 0);
        return out;
}

let currentCert = 'server';
let httpsServer = null;
function applyCert(name) {
        const c = CERTS[name];
        if (!c) throw new Error(`unknown certificate '${name}'`);
        currentCert = name;
        httpsServer.setSecureContext(tlsOptions(c));
        // Connections already set up keep their certificate: close them, busy ones once their reply is out.
        for (const s of sockets) {
                if (s.server !== httpsServer || !s.encrypted) continue;
                if (s.busy > 0) s.dropWhenIdle = true;
                else s.end();
        }
}

const CONTROL = '\u001b]0;pwned\u0007';

// ---------------------------------------------------------------------------------------------------
// Replies

// send(ctx, status, obj): the normal way out, where faults that change the body apply.
function send(ctx, status, obj, extraHeaders = {}) {
        const { res, faults } = ctx;
        ctx.log.status = status;
        if (obj && obj.error) ctx.log.error = obj.error;

        let body = config.profile === 'strings' ? stringifyNumbers(obj) : obj;
        for (const f of faults) {
                if (f.type === 'control_chars' && body && typeof body === 'object') {
                        const fields = f.fields || ['verification_uri', 'verification_uri_complete', 'verification_url',
                                                    'user_code', 'error_description'];
                        for (const k of fields) {
                                if (k in body) body[k] = body[k] + CONTROL;
                                else if (k === 'error_description' && body.error) body[k] = 'bad' + CONTROL + 'thing';
                        }
                }
                if (f.type === 'oversized' && body && typeof body === 'object') {
                        const size = f.size || 100000;
                        const fields = f.fields || ['user_code', 'verification_uri', 'device_code', 'error_description'];
                        for (const k of fields) {
                                if (k in body || (k === 'error_description' && body.error))
                                        body[k] = (k.startsWith('verification') ? 'https://127.0.0.1/' : '') +
                                                  'X'.repeat(size);
                        }
                }
                if (f.type === 'missing' && body && typeof body === 'object') {
                        for (const k of (f.fields || ['device_code'])) delete body[k];
                }
        }

        const text = JSON.stringify(body);
        const f = replacingFault(ctx);
        if (f) return sendFault(ctx, f, text);

        ctx.log.status = status;
        res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store',
                                'Content-Length': Buffer.byteLength(text), ...extraHeaders });
        res.end(text);
}

// Faults that replace the reply (as opposed to delaying it or editing fields in it).
const REPLACING_FAULTS = ['status', 'malformed', 'huge', 'truncated', 'redirect_http', 'reset', 'drip'];
function replacingFault(ctx) {
        return ctx.faults.find((x) => REPLACING_FAULTS.includes(x.type));
}

function sendFault(ctx, f, text) {
        const { req, res } = ctx;
        ctx.log.fault = f.type;
        switch (f.type) {
        case 'status': {
                const st = f.status || 503;
                ctx.log.status = st;
                ctx.log.error = null;
                const body = f.body !== undefined ? String(f.body)
                        : st === 500 ? '{"error":"server_error"}'
                        : `<html><body><h1>${st} ${http.STATUS_CODES[st] || ''}</h1></body></html>`;
                res.writeHead(st, { 'Content-Type': st === 500 ? 'application/json' : 'text/html',
                                    'Content-Length': Buffer.byteLength(body),
                                    ...(f.retry_after ? { 'Retry-After': String(f.retry_after) } : {}) });
                return res.end(body);
        }
        case 'malformed': {
                const body = f.body !== undefined ? String(f.body) : text.slice(0, Math.max(1, text.length - 7)) + ',,}';
                ctx.log.status = 200;
                res.writeHead(f.status || 200, { 'Content-Type': 'application/json',
                                                  'Content-Length': Buffer.byteLength(body) });
                return res.end(body);
        }
        case 'huge': {
                // Valid JSON, so only a size cap stops it: {"error":..., "pad":"AAAA..."} of `size` bytes.
                const size = f.size || 5 * 1024 * 1024;
                const head = text.replace(/}$/, '') + (text.length > 2 ? ',' : '') + '"pad":"';
                const pad = Math.max(0, size - head.length - 2);
                ctx.log.bytes = head.length + pad + 2;
                const headers = { 'Content-Type': 'application/json' };
                if (!f.chunked) headers['Content-Length'] = ctx.log.bytes;
                res.writeHead(ctx.log.status || 200, headers);
                res.write(head);
                const chunk = 'A'.repeat(64 * 1024);
                let left = pad;
                const pump = () => {
                        while (left > 0) {
                                const n = Math.min(left, chunk.length);
                                left -= n;
                                if (!res.write(n === chunk.length ? chunk : chunk.slice(0, n))) {
                                        res.once('drain', pump);
                                        return;
                                }
                        }
                        res.end('"}');
                };
                res.on('error', () => {});
                return pump();
        }
        case 'truncated': {
                // Content-Length promises more than is sent, then the connection closes.
                const part = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
                res.writeHead(ctx.log.status || 200, { 'Content-Type': 'application/json',
                                                       'Content-Length': Buffer.byteLength(text) + 1000 });
                res.write(part);
                return setTimeout(() => req.socket.destroy(), 50);
        }
        case 'drip': {
                // The reply arrives one byte every `every_ms` (default 500): a total timeout must stop it.
                const every = f.every_ms || 500;
                res.writeHead(ctx.log.status || 200, { 'Content-Type': 'application/json',
                                                       'Content-Length': Buffer.byteLength(text) });
                let i = 0;
                const t = setInterval(() => {
                        if (res.destroyed || i >= text.length) {
                                clearInterval(t);
                                if (!res.destroyed) res.end();
                                return;
                        }
                        res.write(text[i++]);
                }, every);
                res.on('close', () => clearInterval(t));
                return;
        }
        case 'redirect_http': {
                const loc = `http://127.0.0.1:${ports.http}${req.url}`;
                ctx.log.status = f.status || 302;
                ctx.log.error = null;
                res.writeHead(ctx.log.status, { Location: loc, 'Content-Length': 0 });
                return res.end();
        }
        case 'reset':
                ctx.log.status = null;
                return req.socket.destroy();
        }
}

// JSON numbers at the top level become strings ("expires_in":"900"), as some IdPs send them.
function stringifyNumbers(obj) {
        if (!obj || typeof obj !== 'object') return obj;
        const out = {};
        for (const [k, v] of Object.entries(obj)) out[k] = typeof v === 'number' ? String(v) : v;
        return out;
}

function oauthError(ctx, error, description, extraHeaders) {
        const body = { error };
        if (description) body.error_description = description;
        send(ctx, errorStatus(error), body, extraHeaders);
}

// ---------------------------------------------------------------------------------------------------
// Client authentication (RFC 6749 §2.3.1, RFC 7523, RFC 8705)

// RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded, then joined by ':' for Basic.
function formDecode(s) {
        return decodeURIComponent(s.replace(/\+/g, ' '));
}

// Returns { methods: [...], clientId, ok, why }. `methods` is what the client used, in the log.
function authenticateClient(ctx, form, endpointUrl) {
        const { req } = ctx;
        const methods = [];
        let basicId = null, basicSecret = null;
        const h = req.headers.authorization;
        if (h && /^basic /i.test(h)) {
                methods.push('basic');
                const dec = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
                const i = dec.indexOf(':');
                try {
                        basicId = formDecode(i < 0 ? dec : dec.slice(0, i));
                        basicSecret = i < 0 ? '' : formDecode(dec.slice(i + 1));
                } catch {
                        return { methods, ok: false, why: 'bad encoding in Basic credentials' };
                }
        }
        if (form.has('client_secret')) methods.push('post');
        if (form.has('client_assertion') || form.has('client_assertion_type')) methods.push('private_key_jwt');
        const cert = req.socket.encrypted && req.socket.getPeerCertificate ? req.socket.getPeerCertificate() : null;
        const certOk = cert && Object.keys(cert).length > 0 && req.socket.authorized;
        if (certOk) methods.push('tls');

        const bodyId = form.get('client_id');
        if (basicId !== null && bodyId !== null && bodyId !== basicId)
                return { methods, clientId: basicId, ok: false, why: 'client_id differs from Basic user' };
        const clientId = basicId !== null ? basicId : bodyId;
        ctx.log.client_id = clientId;
        ctx.log.auth = methods.length ? methods.join('+') : 'none';

        const client = clientId !== null ? config.clients[clientId] : undefined;
        if (!client) return { methods, clientId, ok: false, why: 'unknown client' };

        // The method that counts; a TLS certificate only counts for a tls_client_auth client.
        const used = methods.filter((m) => m !== 'tls' || client.auth === 'tls');
        if (used.length > 1)
                return { methods, clientId, ok: false, why: 'more than one authentication method', multiple: true };
        const method = used[0] || 'none';
        if (!profileAcceptsAuth(method))
                return { methods, clientId, ok: false, why: `${config.profile} does not accept ${method}` };
        if (method !== client.auth)
                return { methods, clientId, ok: false, why: `client authenticates with ${client.auth}, not ${method}` };
        switch (method) {
        case 'basic':
                if (!safeEqual(basicSecret, client.secret)) return { methods, clientId, ok: false, why: 'bad secret' };
                break;
        case 'post':
                if (!safeEqual(form.get('client_secret'), client.secret))
                        return { methods, clientId, ok: false, why: 'bad secret' };
                break;
        case 'tls':
                if (client.subject_cn && cert.subject && cert.subject.CN !== client.subject_cn)
                        return { methods, clientId, ok: false, why: 'certificate subject mismatch' };
                break;
        case 'private_key_jwt': {
                const why = verifyClientAssertion(form, clientId, client, [endpointUrl, issuer(req)]);
                if (why) return { methods, clientId, ok: false, why };
                break;
        }
        }
        return { methods, clientId, ok: true };
}

function safeEqual(a, b) {
        if (typeof a !== 'string' || typeof b !== 'string') return false;
        const x = Buffer.from(a), y = Buffer.from(b);
        return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// RFC 7523 §3: iss = sub = client_id, aud = the endpoint (or the issuer), exp in the future, jti once.
function verifyClientAssertion(form, clientId, client, audiences) {
        if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
                return 'bad client_assertion_type';
        const jwt = form.get('client_assertion') || '';
        const parts = jwt.split('.');
        if (parts.length !== 3) return 'client_assertion is not a JWS';
        let header, payload;
        try {
                header = JSON.parse(Buffer.from(parts[0], 'base64url'));
                payload = JSON.parse(Buffer.from(parts[1], 'base64url'));
        } catch {
                return 'client_assertion is not JSON';
        }
        if (!client.public_key_pem && !client.jwk) return 'no key registered for client';
        const key = client.jwk ? crypto.createPublicKey({ key: client.jwk, format: 'jwk' })
                               : crypto.createPublicKey(client.public_key_pem);
        const data = Buffer.from(parts[0] + '.' + parts[1]);
        const sig = Buffer.from(parts[2], 'base64url');
        let ok = false;
        try {
                switch (header.alg) {
                case 'RS256': ok = crypto.verify('sha256', data, key, sig); break;
                case 'PS256': ok = crypto.verify('sha256', data, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
                                                                     saltLength: 32 }, sig); break;
                case 'ES256': ok = crypto.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig); break;
                default: return `client_assertion alg '${header.alg}' not accepted`;
                }
        } catch {
                ok = false;
        }
        if (!ok) return 'client_assertion signature invalid';
        if (payload.iss !== clientId || payload.sub !== clientId) return 'client_assertion iss/sub is not client_id';
        const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
        if (!aud.some((x) => audiences.includes(x))) return 'client_assertion aud is not this endpoint';
        const now = Date.now() / 1000;
        if (typeof payload.exp !== 'number' || payload.exp < now - 5) return 'client_assertion expired';
        if (payload.jti) {
                if (usedJti.has(payload.jti)) return 'client_assertion jti replayed';
                usedJti.add(payload.jti);
        }
        return null;
}

// Sends invalid_client; RFC 6749 §5.2: 401 with WWW-Authenticate when Basic was tried.
function rejectClient(ctx, a) {
        const headers = {};
        if (a.methods.includes('basic') || config.profile === 'pingfederate')
                headers['WWW-Authenticate'] = 'Basic realm="fake-idp"';
        if (a.multiple) return send(ctx, 400, { error: 'invalid_request', error_description: a.why });
        oauthError(ctx, 'invalid_client', a.why, headers);
}

// ---------------------------------------------------------------------------------------------------
// ID tokens

function signJwt(header, payload, alg, keyOverride) {
        const input = b64url(JSON.stringify(header)) + '.' + b64url(JSON.stringify(payload));
        let sig;
        if (alg === 'none') sig = Buffer.alloc(0);
        else if (alg === 'ES256')
                sig = crypto.sign('sha256', Buffer.from(input), { key: keyOverride || KEYS.ES256.privateKey,
                                                                  dsaEncoding: 'ieee-p1363' });
        else if (alg === 'HS256')
                sig = crypto.createHmac('sha256', keyOverride).update(input).digest();
        else sig = crypto.sign('sha256', Buffer.from(input), keyOverride || KEYS.RS256.privateKey);
        return input + '.' + b64url(sig);
}

// Modes of config.id_token: valid, bad_signature, wrong_iss, wrong_aud, expired, future_iat, alg_none,
// unknown_kid, foreign_key (signed by an unpublished key, with a published kid), hs256_confusion (HS256
// with the published RSA public key as HMAC secret), wrong_azp, missing_sub, missing (no id_token).
function makeIdToken(req, flow) {
        const mode = config.id_token;
        if (mode === 'missing') return undefined;
        const alg = config.alg === 'ES256' ? 'ES256' : 'RS256';
        const now = Math.floor(Date.now() / 1000);
        const payload = {
                iss: issuer(req), aud: flow.client_id, iat: now, exp: now + 300,
                auth_time: flow.approved_at ? Math.floor(flow.approved_at / 1000) : now,
                ...flow.claims,
        };
        let header = { alg, typ: 'JWT', kid: KEYS[alg].kid };
        let key;
        switch (mode) {
        case 'wrong_iss': payload.iss = 'https://evil.example'; break;
        case 'wrong_aud': payload.aud = 'someone-else'; break;
        case 'wrong_azp': payload.aud = [flow.client_id, 'someone-else']; payload.azp = 'someone-else'; break;
        case 'expired': payload.iat = now - 1200; payload.exp = now - 600; break;
        case 'future_iat': payload.iat = now + 3600; payload.exp = now + 7200; break;
        case 'missing_sub': delete payload.sub; break;
        case 'alg_none': header = { alg: 'none', typ: 'JWT' }; break;
        case 'unknown_kid': header.kid = 'no-such-kid'; break;
        case 'foreign_key': header = { alg: 'RS256', typ: 'JWT', kid: KEYS.RS256.kid }; key = FOREIGN_RSA.privateKey; break;
        case 'hs256_confusion':
                header = { alg: 'HS256', typ: 'JWT', kid: KEYS.RS256.kid };
                key = KEYS.RS256.publicKey.export({ format: 'pem', type: 'spki' });
                break;
        }
        for (const [k, v] of Object.entries(payload)) if (v === null) delete payload[k];
        let jwt = signJwt(header, payload, header.alg, key);
        if (mode === 'bad_signature') {
                // Flip bits in the middle of the signature: same length, same key, wrong value.
                const [h, p, s] = jwt.split('.');
                const sig = Buffer.from(s, 'base64url');
                sig[sig.length >> 1] ^= 0x5a;
                jwt = `${h}.${p}.${b64url(sig)}`;
        }
        return jwt;
}

const DEFAULT_CLAIMS = {
        sub: '248289761001', preferred_username: 'alice', name: 'Alice Example',
        email: 'alice@example.test', email_verified: true,
};

// ---------------------------------------------------------------------------------------------------
// Endpoint handlers

function handleDiscovery(ctx) {
        const o = origin(ctx.req), r = routes(config);
        send(ctx, 200, {
                issuer: config.discovery_issuer || issuer(ctx.req),
                authorization_endpoint: o + r.issuerPath.replace(/\/$/, '') + '/authorize',
                device_authorization_endpoint: o + r.device,
                token_endpoint: config.token_endpoint || o + r.token,
                userinfo_endpoint: o + r.userinfo,
                jwks_uri: o + r.jwks,
                response_types_supported: ['code'],
                subject_types_supported: ['public'],
                id_token_signing_alg_values_supported: ['RS256', 'ES256'],
                grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
                token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post',
                                                        'private_key_jwt', 'tls_client_auth'],
                scopes_supported: PINGFEDERATE_SCOPES,
                claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'amr', 'preferred_username',
                                   'email', 'email_verified', 'groups', 'name'],
        });
}

function handleJwks(ctx) {
        send(ctx, 200, jwks());
}

function handleDevice(ctx, form) {
        const o = origin(ctx.req);
        const a = authenticateClient(ctx, form, o + routes(config).device);
        if (!a.ok) return rejectClient(ctx, a);
        const scope = form.get('scope') || '';
        if (config.profile === 'pingfederate') {
                const bad = scope.split(/ +/).filter((s) => s && !PINGFEDERATE_SCOPES.includes(s));
                if (bad.length) return oauthError(ctx, 'invalid_scope', `unknown scope '${bad[0]}'`);
        }
        const flow = {
                device_code: b64url(crypto.randomBytes(32)),
                user_code: newUserCode(),
                client_id: a.clientId,
                scope,
                extra: Object.fromEntries([...form].filter(([k]) => !['client_id', 'client_secret', 'scope',
                                                                       'client_assertion', 'client_assertion_type']
                                                                      .includes(k))),
                created: nowMs(),
                expires_at: nowMs() + config.expires_in * 1000,
                interval: config.interval === null ? 5 : config.interval,
                status: 'pending',
                claims: null,
                polls: [],
                last_poll: null,
                expired_sent: false,
        };
        secret(flow.device_code);
        const body = {
                device_code: flow.device_code,
                user_code: flow.user_code,
                verification_uri: `${o}/device`,
                verification_uri_complete: `${o}/device?user_code=${encodeURIComponent(flow.user_code)}`,
                expires_in: config.expires_in,
        };
        if (config.interval !== null) body.interval = config.interval;
        if (config.profile === 'google') {
                // Google: "verification_url", and no complete URI.
                body.verification_url = body.verification_uri;
                delete body.verification_uri;
                delete body.verification_uri_complete;
        }
        ctx.log.user_code = flow.user_code;
        ctx.log.device_code = flow.device_code;
        // A reply that the fault turned into something else still created the flow: that is realistic.
        flows.set(flow.device_code, flow);
        send(ctx, 200, body);
}

function issueTokens(ctx, flow) {
        const access = b64url(crypto.randomBytes(32));
        const idt = makeIdToken(ctx.req, flow);
        const body = { access_token: access, token_type: 'Bearer', expires_in: config.token_expires_in, scope: flow.scope };
        if (idt !== undefined) body.id_token = idt;
        if (config.refresh_token) body.refresh_token = b64url(crypto.randomBytes(32));
        secret(access);
        secret(idt);
        secret(body.refresh_token);
        accessTokens.set(access, { flow });
        if (body.refresh_token) accessTokens.set('refresh:' + body.refresh_token, { flow });
        ctx.log.id_token_mode = config.id_token;
        return body;
}

function handleToken(ctx, form) {
        const o = origin(ctx.req);
        const grant = form.get('grant_type');
        ctx.log.grant_type = grant;
        const a = authenticateClient(ctx, form, o + routes(config).token);
        if (!a.ok) return rejectClient(ctx, a);

        if (grant === 'refresh_token') {
                const e = accessTokens.get('refresh:' + (form.get('refresh_token') || ''));
                if (!e || e.flow.client_id !== a.clientId) return oauthError(ctx, 'invalid_grant', 'unknown refresh token');
                return send(ctx, 200, issueTokens(ctx, e.flow));
        }
        if (grant !== 'urn:ietf:params:oauth:grant-type:device_code')
                return oauthError(ctx, 'unsupported_grant_type', `grant_type '${grant}'`);

        const dc = form.get('device_code');
        ctx.log.device_code = dc;
        if (!dc) return oauthError(ctx, 'invalid_request', 'device_code missing');
        const flow = flows.get(dc);
        if (!flow || flow.client_id !== a.clientId) return oauthError(ctx, 'invalid_grant', 'unknown device_code');
        ctx.log.user_code = flow.user_code;

        // Spacing: RFC 8628 §3.5, the client waits `interval` between polls (+5 s after each slow_down).
        const t = ctx.log.time;
        ctx.log.interval = flow.interval;
        if (flow.last_poll !== null) {
                ctx.log.since_prev_ms = Math.round((t - flow.last_poll) * 10) / 10;
                ctx.log.too_early = t - flow.last_poll < flow.interval * 1000 - config.poll_tolerance_ms;
        }
        flow.last_poll = t;
        flow.polls.push(t);

        // A poll that meets a 5xx, garbage, a redirect...: counted above, but the flow's state is untouched,
        // so the daemon can recover from it (a consumed approval would be lost otherwise).
        if (replacingFault(ctx)) return oauthError(ctx, 'authorization_pending', 'waiting for the user');
        if (flow.status === 'consumed') return oauthError(ctx, 'invalid_grant', 'device_code already used');
        if (flow.status !== 'denied' && nowMs() > flow.expires_at) flow.status = 'expired';
        if (flow.status === 'expired') {
                // Auth0 answers expired_token once, then invalid_grant.
                if (config.profile === 'auth0' && flow.expired_sent)
                        return oauthError(ctx, 'invalid_grant', 'Invalid or expired device code.');
                flow.expired_sent = true;
                return oauthError(ctx, 'expired_token', 'the device code has expired');
        }
        const slow = ctx.faults.some((f) => f.type === 'slow_down');
        if (slow || (config.strict_interval && ctx.log.too_early)) {
                flow.interval += 5;   // RFC 8628 §3.5: the client must add 5 s from now on
                return oauthError(ctx, 'slow_down', slow ? 'slow down' : 'polling too fast');
        }
        if (flow.status === 'denied') return oauthError(ctx, 'access_denied', 'the user denied the request');
        if (flow.status === 'pending') return oauthError(ctx, 'authorization_pending', 'waiting for the user');
        // approved
        flow.status = 'consumed';
        send(ctx, 200, issueTokens(ctx, flow));
}

function handleUserinfo(ctx) {
        const h = ctx.req.headers.authorization || '';
        const m = /^bearer (.+)$/i.exec(h);
        const e = m ? accessTokens.get(m[1].trim()) : undefined;
        if (!e || m[1].startsWith('refresh:')) {
                ctx.log.status = 401;
                ctx.log.error = 'invalid_token';
                const body = '{"error":"invalid_token"}';
                ctx.res.writeHead(401, { 'WWW-Authenticate': 'Bearer error="invalid_token"',
                                         'Content-Type': 'application/json', 'Content-Length': body.length });
                return ctx.res.end(body);
        }
        ctx.log.user_code = e.flow.user_code;
        if (config.userinfo === 'error') return send(ctx, 500, { error: 'server_error' });
        const claims = { ...e.flow.claims };
        if (config.userinfo === 'wrong_sub') claims.sub = 'someone-else-' + claims.sub;
        for (const [k, v] of Object.entries(claims)) if (v === null) delete claims[k];
        send(ctx, 200, claims);
}

// The user's side: a tiny page to enter a code and approve or deny (scripted-HTTP approvals).
function handleDevicePage(ctx, form) {
        const { req, res } = ctx;
        let msg = '';
        if (req.method === 'POST') {
                const f = findFlow(form.get('user_code'));
                if (!f) msg = 'unknown or used code';
                else if (form.get('action') === 'deny') { deny(f); msg = 'denied'; }
                else { approve(f, null); msg = 'approved'; }
        }
        const code = new URL(req.url, 'https://x').searchParams.get('user_code') || '';
        const esc = (s) => s.replace(/[^A-Za-z0-9 -]/g, (c) => `&#${c.charCodeAt(0)};`);
        const html = `<!doctype html><title>fake-idp device</title><p>${esc(msg)}</p>` +
                `<form method=post><input name=user_code value="${esc(code)}">` +
                `<button name=action value=approve>Approve</button><button name=action value=deny>Deny</button></form>`;
        ctx.log.status = 200;
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
        res.end(html);
}

// ---------------------------------------------------------------------------------------------------
// Flows and the control API

function normCode(s) {
        return String(s || '').toUpperCase().replace(/[^A-Z0-9]/g, '');
}

// By user_code (compared as RFC 8628 §6.1 suggests: case and dashes ignored), else the latest pending.
function findFlow(userCode) {
        const all = [...flows.values()];
        if (userCode) return all.find((f) => normCode(f.user_code) === normCode(userCode)) ||
                             all.find((f) => f.user_code === userCode);
        return all.filter((f) => f.status === 'pending').pop();
}

function approve(flow, claims) {
        flow.status = 'approved';
        flow.approved_at = Date.now();
        flow.claims = { ...DEFAULT_CLAIMS, ...(claims || {}) };
}
function deny(flow) {
        flow.status = 'denied';
}

function flowView(f) {
        return {
                user_code: f.user_code, device_code: f.device_code, client_id: f.client_id, scope: f.scope,
                extra: f.extra, status: f.status, interval: f.interval,
                expires_in_ms: Math.round(f.expires_at - nowMs()), polls: f.polls.map((p) => Math.round(p * 10) / 10),
                claims: f.claims,
        };
}

function publicConfig() {
        const c = { ...config, clients: {} };
        for (const [id, cl] of Object.entries(config.clients)) c.clients[id] = { auth: cl.auth };
        return { ...c, ports, cert: currentCert, routes: routes(config), issuer_path: routes(config).issuerPath };
}

function applyConfig(body) {
        for (const [k, v] of Object.entries(body)) {
                switch (k) {
                case 'profile':
                        if (!PROFILES.includes(v)) throw new Error(`unknown profile '${v}'`);
                        config.profile = v;
                        break;
                case 'fault':   // replaces all faults: null, one object, or a list
                case 'faults':
                        config.faults = [];
                        if (currentCert !== 'server') applyCert('server');
                        for (const f of (v === null ? [] : Array.isArray(v) ? v : [v])) addFault(f);
                        break;
                case 'clients':
                        for (const [id, cl] of Object.entries(v)) {
                                if (cl === null) delete config.clients[id];
                                else {
                                        config.clients[id] = cl;
                                        secret(cl.secret);
                                }
                        }
                        break;
                case 'interval':
                        if (v !== null && !(typeof v === 'number' && v >= 0)) throw new Error('interval: number or null');
                        config.interval = v;
                        break;
                case 'cert':
                        applyCert(v);
                        break;
                case 'strict_interval': case 'poll_tolerance_ms': case 'expires_in': case 'token_expires_in':
                case 'env_id': case 'path_prefix': case 'alg': case 'id_token': case 'userinfo':
                case 'discovery_issuer': case 'token_endpoint': case 'user_code': case 'refresh_token':
                        config[k] = v;
                        break;
                default:
                        throw new Error(`unknown config key '${k}'`);
                }
        }
}

function handleControl(ctx, bodyText) {
        const { req, res } = ctx;
        const reply = (status, obj) => {
                const t = JSON.stringify(obj);
                res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(t) });
                res.end(t);
        };
        let body = {};
        if (bodyText && bodyText.trim()) {
                try {
                        body = JSON.parse(bodyText);
                } catch {
                        return reply(400, { error: 'control body is not JSON' });
                }
        }
        const what = new URL(req.url, 'https://x').pathname.replace(/^\/_test\//, '');
        try {
                switch (`${req.method} ${what}`) {
                case 'POST approve': case 'POST deny': case 'POST expire': {
                        const f = findFlow(body.user_code);
                        if (!f) return reply(404, { error: 'no such flow (or none pending)' });
                        if (what === 'approve') approve(f, body.claims);
                        else if (what === 'deny') deny(f);
                        else f.expires_at = nowMs() - 1;
                        return reply(200, { ok: true, ...flowView(f) });
                }
                case 'POST config':
                        applyConfig(body);
                        return reply(200, publicConfig());
                case 'GET config':
                        return reply(200, publicConfig());
                case 'POST fault':
                        return reply(200, { ok: true, fault: addFault(body) });
                case 'POST clear-faults':
                        applyConfig({ faults: null });
                        return reply(200, { ok: true });
                case 'POST reset':
                        for (const r of hung) r.destroy();
                        hung.clear();
                        config = defaults();
                        if (currentCert !== 'server') applyCert('server');
                        flows = new Map();
                        accessTokens = new Map();
                        usedJti = new Set();
                        if (!body.keep_requests) fs.writeFileSync(REQUESTS, '');
                        if (body.profile) applyConfig({ profile: body.profile });
                        return reply(200, publicConfig());
                case 'GET flows':
                        return reply(200, [...flows.values()].map(flowView));
                case 'GET requests':
                        return reply(200, fs.readFileSync(REQUESTS, 'utf8').split('\n').filter(Boolean).map(JSON.parse));
                case 'GET jwks-private':
                        // For unit-style tests that want to sign their own tokens with the IdP's keys.
                        return reply(200, Object.fromEntries(Object.entries(KEYS).map(([alg, k]) =>
                                [alg, { ...k.privateKey.export({ format: 'jwk' }), kid: k.kid }])));
                default:
                        return reply(404, { error: `no control endpoint '${req.method} ${what}'` });
                }
        } catch (e) {
                return reply(400, { error: e.message });
        }
}

// ---------------------------------------------------------------------------------------------------
// Dispatch

const MAX_REQUEST_BODY = 1024 * 1024;

function onRequest(req, res) {
        const t = nowMs();
        const sock = req.socket;
        sock.busy = (sock.busy || 0) + 1;
        res.on('close', () => {
                if (--sock.busy === 0 && sock.dropWhenIdle) sock.end();
        });
        const chunks = [];
        let size = 0;
        req.on('data', (c) => {
                size += c.length;
                if (size <= MAX_REQUEST_BODY) chunks.push(c);
        });
        req.on('error', () => {});
        res.on('error', () => {});
        req.on('end', () => {
                let u;
                try {
                        u = new URL(req.url.replace(/^\/\/+/, '/'), 'https://x');
                } catch {
                        res.writeHead(400);
                        return res.end();
                }
                // "//.well-known/..." from an issuer ending in "/" + "/.well-known": be as lenient as real servers.
                const p = u.pathname.replace(/\/\/+/g, '/');
                const bodyText = Buffer.concat(chunks).toString('utf8');
                if (p.startsWith('/_test/')) return handleControl({ req, res }, bodyText);
                dispatch(req, res, t, p, u, bodyText, size);
        });
}

function dispatch(req, res, t, p, u, bodyText, size) {
        const r = routes(config);
        const log = {
                time: Math.round(t * 1000) / 1000, method: req.method, path: p,
                scheme: req.socket.encrypted ? 'https' : 'http', port: req.socket.localPort,
                http_version: req.httpVersion,
                profile: config.profile, endpoint: null, auth: null, client_id: null, grant_type: null,
                user_code: null, device_code: null, status: null, error: null,
        };
        let endpoint = null;
        if (p === r.discovery) endpoint = 'discovery';
        else if (p === r.jwks || p === '/jwks') endpoint = 'jwks';
        else if (p === r.userinfo) endpoint = 'userinfo';
        else if (p === r.device) endpoint = 'device';
        else if (p === r.token) endpoint = 'token';
        else if (p === '/device') endpoint = 'page';
        log.endpoint = endpoint;

        const ctx = { req, res, log, faults: endpoint && endpoint !== 'page' ? takeFaults(endpoint) : [] };
        if (ctx.faults.length) log.faults = ctx.faults.map((f) => f.type);
        res.on('finish', () => record(log));
        res.on('close', () => {
                if (!res.writableFinished) {
                        log.aborted = true;
                        record(log);
                }
        });

        const run = () => {
                if (ctx.faults.some((f) => f.type === 'hang')) {
                        // Accept and say nothing; the socket stays open until the client gives up or /_test/reset.
                        log.fault = 'hang';
                        hung.add(req.socket);
                        req.socket.on('close', () => hung.delete(req.socket));
                        return;
                }
                route(ctx, endpoint, bodyText, size);
        };
        const delay = ctx.faults.filter((f) => f.type === 'delay').reduce((s, f) => s + (f.delay_ms || 1000), 0);
        if (delay > 0) {
                log.delay_ms = delay;
                setTimeout(run, delay);
        } else run();
}

function route(ctx, endpoint, bodyText, size) {
        const { req, res } = ctx;
        const isForm = /^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] || '');
        const form = new URLSearchParams(isForm ? bodyText : '');
        switch (endpoint) {
        case 'discovery':
        case 'jwks':
                if (req.method !== 'GET') return send(ctx, 405, { error: 'method not allowed' });
                return endpoint === 'jwks' ? handleJwks(ctx) : handleDiscovery(ctx);
        case 'userinfo':
                return handleUserinfo(ctx);
        case 'page':
                return handleDevicePage(ctx, form);
        case 'device':
        case 'token':
                if (req.method !== 'POST') return send(ctx, 405, { error: 'invalid_request', error_description: 'POST only' });
                if (!isForm) return send(ctx, 400, { error: 'invalid_request', error_description: 'form body expected' });
                if (size > MAX_REQUEST_BODY) return send(ctx, 413, { error: 'invalid_request' });
                return endpoint === 'device' ? handleDevice(ctx, form) : handleToken(ctx, form);
        default:
                ctx.log.status = 404;
                res.writeHead(404, { 'Content-Type': 'application/json' });
                return res.end('{"error":"not_found"}');
        }
}

// ---------------------------------------------------------------------------------------------------
// Listeners

function tlsOptions(c) {
        const o = { cert: c.cert, key: c.key };
        if (CERTS.clientCa) {
                // Ask for a client certificate (tls_client_auth) but let clients without one in.
                o.ca = CERTS.clientCa;
                o.requestCert = true;
                o.rejectUnauthorized = false;
        }
        return o;
}

function track(server) {
        server.on('connection', (s) => {
                s.server = server;
                sockets.add(s);
                s.on('close', () => sockets.delete(s));
        });
        server.on('secureConnection', (s) => {
                s.server = server;
                sockets.add(s);
                s.on('close', () => sockets.delete(s));
        });
        server.on('clientError', (e, s) => s.destroy());
        // A handshake that fails is worth a line: "the daemon refused the wrong certificate" is visible.
        server.on('tlsClientError', (err, s) => {
                record({ time: Math.round(nowMs() * 1000) / 1000, port: s.localPort, tls_error: err.code || err.message });
        });
        server.keepAliveTimeout = 5000;
        return server;
}

function listen(server, port) {
        return new Promise((resolve, reject) => {
                server.once('error', reject);
                server.listen(port, args.host, () => resolve(server.address().port));
        });
}

async function main() {
        if (!PROFILES.includes(config.profile)) die(`unknown profile '${config.profile}'`);
        fs.writeFileSync(REQUESTS, '');
        recordSecretsOfClients();
        // --http2: the main port offers HTTP/2 by ALPN, as most IdPs do (curl then multiplexes every request
        // on one connection), and HTTP/1.1 to clients that ask for it.
        httpsServer = track(args.http2
                ? http2.createSecureServer({ ...tlsOptions(CERTS.server), allowHTTP1: true }, onRequest)
                : https.createServer(tlsOptions(CERTS.server), onRequest));
        const wrongServer = track(https.createServer(tlsOptions(CERTS.wrong_name), onRequest));
        const httpServer = track(http.createServer(onRequest));
        ports.https = await listen(httpsServer, args.port);
        ports.wrong = await listen(wrongServer, 0);
        ports.http = await listen(httpServer, 0);
        fs.writeFileSync(path.join(args.dir, 'wrong-port'), `${ports.wrong}\n`);
        fs.writeFileSync(path.join(args.dir, 'http-port'), `${ports.http}\n`);
        fs.writeFileSync(path.join(args.dir, 'port'), `${ports.https}\n`);
        process.stdout.write(`LISTENING ${ports.https}\n`);

        const stop = () => {
                for (const s of sockets) s.destroy();
                process.exit(0);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
}

main().catch((e) => die(e.stack || String(e)));
