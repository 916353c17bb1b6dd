// The real OpenID Provider for pam_devflow's end-to-end tests and `make demo`: the certified npm
// package oidc-provider on 127.0.0.1 over HTTPS, with the device authorization grant (RFC 8628) on.
//
// usage: node tests/op/op.js --dir DIR [--port N] [--device-ttl SECONDS]
//   DIR holds server.pem and server.key (tests/op/make-certs.sh DIR makes them with a test CA).
//   DIR/client_secret is the confidential client's secret: read if present, else made (0600).
//   --port 0 (the default) takes a free port. --device-ttl (or env OP_DEVICE_CODE_TTL) sets the
//   lifetime of device codes in seconds (default 600), for expiry tests.
// Prints "LISTENING <port>" on stdout once it serves https://127.0.0.1:<port> (the issuer), then one
// line per request ("REQ POST /token 400") and per provider event ("EVENT grant.error
// authorization_pending"), so tests can count polls. Never prints a token, a code or a secret.
//
// Clients: "devflow-public" (token_endpoint_auth_method none, ID token RS256) and
// "devflow-confidential" (client_secret_basic, ID token ES256), both device-code only.
// Accounts: alice, bob (password = user name), and carol whose email is not verified.
// Users sign in through the provider's own device pages (/device): enter the code, confirm (or
// abort), log in on the login form below, consent is granted for the requested scopes. There is no
// other way to approve a code: nothing here can be reached by the daemon to skip the person.

import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: opts } = parseArgs({
  options: {
    dir: { type: 'string' },
    port: { type: 'string', default: '0' },
    'device-ttl': { type: 'string', default: process.env.OP_DEVICE_CODE_TTL || '600' },
  },
});
if (!opts.dir) {
  process.stderr.write('usage: node op.js --dir DIR [--port N] [--device-ttl SECONDS]\n');
  process.exit(2);
}
const deviceTtl = Number.parseInt(opts['device-ttl'], 10);
if (!(deviceTtl > 0)) {
  process.stderr.write(`op.js: bad --device-ttl '${opts['device-ttl']}'\n`);
  process.exit(2);
}

const secretFile = join(opts.dir, 'client_secret');
if (!existsSync(secretFile)) {
  writeFileSync(secretFile, randomBytes(24).toString('hex'), { mode: 0o600 });
}
const clientSecret = readFileSync(secretFile, 'utf8').trim();

// Accounts. The password is the user name; `sub` differs from the user name on purpose, so a
// relying party that maps `sub` instead of preferred_username is caught.
const ACCOUNTS = {
  alice: { sub: 'a1ce0001-0000-4000-8000-000000000001', name: 'Alice Example', email_verified: true },
  bob: { sub: 'b0b00002-0000-4000-8000-000000000002', name: 'Bob Example', email_verified: true },
  carol: { sub: 'ca701003-0000-4000-8000-000000000003', name: 'Carol Example', email_verified: false },
};
const bySub = new Map(Object.entries(ACCOUNTS).map(([user, a]) => [a.sub, user]));

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rs256-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' },
    { ...ec, kid: `es256-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'ES256' },
  ];
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:26em;margin:2em auto}input,button{font-size:1.1em;margin:.3em 0}
code{font-size:1.6em}.red{color:#b00}</style></head>
<body>
<h1>${esc(title)}</h1>
${body}
</body>
</html>
`;
}

const configuration = {
  clients: [
    {
      client_id: 'devflow-public',
      client_name: 'pam_devflow (public client)',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
      response_types: [],
      redirect_uris: [],
      id_token_signed_response_alg: 'RS256',
    },
    {
      client_id: 'devflow-confidential',
      client_name: 'pam_devflow (confidential client)',
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
      response_types: [],
      redirect_uris: [],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: signingKeys() },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email', 'email_verified'],
  },
  // Without this the provider puts only `sub` (and the protocol claims) into the ID token.
  conformIdTokenClaims: false,
  async findAccount(ctx, sub) {
    const user = bySub.get(sub);
    if (!user) return undefined;
    const a = ACCOUNTS[user];
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          preferred_username: user,
          name: a.name,
          email: `${user}@example.test`,
          email_verified: a.email_verified,
        };
      },
    };
  },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: {
      enabled: true,
      async userCodeInputSource(ctx, form, out, err) {
        let msg;
        if (err && (err.userCode || err.name === 'NoCodeError')) {
          msg = '<p class="red" id="error">The code you entered is incorrect. Try again.</p>';
        } else if (err && err.name === 'AbortedError') {
          msg = '<p class="red" id="aborted">The sign-in request was aborted.</p>';
        } else if (err) {
          msg = '<p class="red" id="error">There was an error processing your request.</p>';
        } else {
          msg = '<p>Enter the code displayed on your device.</p>';
        }
        ctx.body = page('Sign-in', `${msg}\n${form}\n<button type="submit" form="op.deviceInputForm">Continue</button>`);
      },
      async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
        const who = client.clientName || client.clientId;
        ctx.body = page('Confirm device', `<p><strong>${esc(who)}</strong> asks to sign you in.</p>
<p>The device should display this code:</p>
<p><code id="user_code">${esc(userCode)}</code></p>
<p>If you did not start this, or the code does not match, abort.</p>
${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`);
      },
      async successSource(ctx) {
        ctx.body = page('Sign-in Success', '<p id="success">Your sign-in was successful, you can now close this page.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', Object.entries(out)
      .map(([k, v]) => `<p class="red"><strong>${esc(k)}</strong>: ${esc(v)}</p>`).join('\n'));
  },
  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  ttl: {
    AccessToken: 600,
    DeviceCode: deviceTtl,
    Grant: 600,
    IdToken: 600,
    Interaction: 600,
    Session: 600,
  },
};

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 8192) reject(new Error('form too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}

function loginPage(uid, clientName, error) {
  return page('Log in', `<p>Log in to continue to <strong>${esc(clientName)}</strong>.</p>
${error ? `<p class="red" id="error">${esc(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
<input type="text" name="username" placeholder="User name" autofocus><br>
<input type="password" name="password" placeholder="Password"><br>
<button type="submit">Log in</button>
</form>
<p><a id="cancel" href="/interaction/${esc(uid)}/abort">Cancel</a></p>`);
}

// The interaction pages: a login form checked against ACCOUNTS; consent granted for what the
// client asked (the scopes and claims named in the prompt details), as first-party apps do.
async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Error', '<p class="red">interaction mismatch</p>'));
  const { prompt, params, session } = details;
  const client = await provider.Client.find(params.client_id);
  const clientName = client?.clientName || params.client_id;

  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }

  if (prompt.name === 'login') {
    if (req.method === 'GET' && !action) return send(res, 200, loginPage(uid, clientName));
    if (req.method !== 'POST' || action !== 'login') return send(res, 405, page('Error', '<p>not allowed</p>'));
    const form = await readForm(req);
    const user = form.get('username') || '';
    const account = Object.hasOwn(ACCOUNTS, user) ? ACCOUNTS[user] : undefined;
    if (!account || form.get('password') !== user) {
      return send(res, 200, loginPage(uid, clientName, 'Wrong user name or password.'));
    }
    return provider.interactionFinished(req, res, { login: { accountId: account.sub } },
      { mergeWithLastSubmission: false });
  }

  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  return send(res, 501, page('Error', `<p class="red">prompt ${esc(prompt.name)} not implemented</p>`));
}

const server = createServer({
  key: readFileSync(join(opts.dir, 'server.key')),
  cert: readFileSync(join(opts.dir, 'server.pem')),
});

server.listen(Number.parseInt(opts.port, 10), '127.0.0.1', () => {
  const { port } = server.address();
  const provider = new Provider(`https://127.0.0.1:${port}`, configuration);

  for (const ev of ['grant.success', 'grant.error', 'device_authorization.success',
    'device_authorization.error', 'grant.revoked', 'server_error']) {
    provider.on(ev, (ctxOrErr, err) => {
      const e = [ctxOrErr, err].find((x) => x instanceof Error);
      const what = e ? ` ${e.error || e.name}${e.error_description ? ` (${e.error_description})` : ''}` : '';
      process.stdout.write(`EVENT ${ev}${what}\n`);
    });
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    res.on('finish', () => {
      process.stdout.write(`REQ ${req.method} ${new URL(req.url, 'https://x').pathname} ${res.statusCode}\n`);
    });
    const m = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/.exec(new URL(req.url, 'https://x').pathname);
    if (!m) return callback(req, res);
    return interaction(provider, req, res, m[1], m[2]).catch((err) => {
      if (!res.headersSent) send(res, 400, page('Error', `<p class="red">${esc(err.message)}</p>`));
      else res.end();
    });
  });
  process.stdout.write(`LISTENING ${port}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => process.exit(0));
}
