// Approves (or with --deny aborts) a device-flow user code at the test OpenID Provider the way a
// person does in a browser, with nothing but Node's standard library: a cookie jar, GET /device,
// submit the code with the page's xsrf token, confirm (or abort) on the confirmation page, log in on
// the login form, let consent pass, and check the provider's final page.
//
// usage: node tests/op/approve.js --ca CA.pem --url https://127.0.0.1:PORT --user alice
//                                 (--code ABCD-EFGH | --link VERIFICATION_URI_COMPLETE)
//                                 [--password PW] [--deny] [--verbose]
//   --link opens verification_uri_complete (the QR code's link) instead of typing the code.
//   --password defaults to the user name (the test accounts' password).
// Exit status: 0 when the provider showed its success page (or, with --deny, its "aborted" page);
// 1 when anything else happened (wrong code, login refused, unexpected page), with the reason on
// stderr; 2 on a usage error.

import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { parseArgs } from 'node:util';

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      ca: { type: 'string' },
      url: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      code: { type: 'string' },
      link: { type: 'string' },
      deny: { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
    },
  }));
} catch (e) {
  process.stderr.write(`approve.js: ${e.message}\n`);
  process.exit(2);
}
if (!opts.ca || !opts.url || (!opts.code && !opts.link) || (!opts.user && !opts.deny)) {
  process.stderr.write('usage: approve.js --ca CA --url URL --user USER (--code CODE | --link URL) [--password PW] [--deny]\n');
  process.exit(2);
}

const ca = readFileSync(opts.ca);
const base = new URL(opts.url);
const say = (msg) => { if (opts.verbose) process.stderr.write(`approve: ${msg}\n`); };
const die = (msg) => { process.stderr.write(`approve.js: ${msg}\n`); process.exit(1); };

// ---- a browser's cookie jar: name, path, expiry; sent back on matching paths over HTTPS ----------
const jar = new Map();
function storeCookies(url, headers) {
  for (const line of headers['set-cookie'] || []) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
    let expired = false;
    for (const a of attrs) {
      const [k, ...v] = a.trim().split('=');
      const val = v.join('=');
      if (/^path$/i.test(k)) path = val || '/';
      else if (/^max-age$/i.test(k) && Number(val) <= 0) expired = true;
      else if (/^expires$/i.test(k) && Date.parse(val) <= Date.now()) expired = true;
    }
    const key = `${name}\t${path}`;
    if (expired) jar.delete(key);
    else jar.set(key, { name, value, path });
  }
}
function cookieHeader(url) {
  return [...jar.values()]
    .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
    .sort((a, b) => b.path.length - a.path.length)
    .map((c) => `${c.name}=${c.value}`).join('; ');
}

function fetchOnce(method, url, form) {
  return new Promise((resolve, reject) => {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const headers = { 'User-Agent': 'pam_devflow-approve/1', Accept: 'text/html' };
    const cookies = cookieHeader(url);
    if (cookies) headers.Cookie = cookies;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = request(url, { method, ca, headers, timeout: 10000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        storeCookies(url, res.headers);
        resolve({ status: res.statusCode, location: res.headers.location, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${method} ${url.pathname}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Like a browser: follow redirects (303 and 302 turn into GET), stay on the provider's origin.
async function go(method, url, form) {
  let r = await fetchOnce(method, url, form);
  say(`${method} ${url.pathname} -> ${r.status}`);
  for (let hops = 0; r.status >= 300 && r.status < 400 && r.location; hops++) {
    if (hops > 15) die('too many redirects');
    url = new URL(r.location, url);
    if (url.origin !== base.origin) die(`redirected off the provider to ${url.origin}`);
    r = await fetchOnce('GET', url);
    say(`GET ${url.pathname} -> ${r.status}`);
  }
  return { ...r, url };
}

// ---- just enough HTML: forms with their inputs and the submit buttons that belong to them --------
const unescape = (s) => s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e) => {
  if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e.toLowerCase()];
});
function attrs(tag) {
  const out = {};
  for (const m of tag.matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g)) {
    out[m[1].toLowerCase()] = unescape(m[2] ?? m[3] ?? m[4]);
  }
  return out;
}
function forms(html) {
  const list = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const a = attrs(m[1]);
    const inputs = [...m[2].matchAll(/<input\b([^>]*)>/gi)].map((i) => attrs(i[1]));
    const buttons = [...m[2].matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)].map((b) => ({ ...attrs(b[1]), text: b[2] }));
    list.push({ id: a.id, action: a.action, method: (a.method || 'get').toUpperCase(), inputs, buttons });
  }
  // Buttons outside a form that name it with form="id" (the provider's device pages do that).
  for (const b of html.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) {
    const a = attrs(b[1]);
    const f = a.form && list.find((x) => x.id === a.form);
    if (f) f.buttons.push({ ...a, text: b[2] });
  }
  return list;
}
function fields(form, typed = {}, button) {
  const out = {};
  for (const i of form.inputs) {
    if (!i.name) continue;
    if ((i.type || 'text') === 'hidden' || !(i.name in typed)) out[i.name] = i.value ?? '';
  }
  Object.assign(out, typed);
  if (button && button.name) out[button.name] = button.value ?? '';
  return out;
}
const title = (html) => (/<title>([\s\S]*?)<\/title>/i.exec(html)?.[1] ?? '').trim();
const visible = (html) => unescape(html.replace(/<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>|<[^>]+>/gi, ' '))
  .replace(/\s+/g, ' ').trim();

async function submit(page, form, typed, button) {
  const url = new URL(form.action || page.url.pathname, page.url);
  return go(form.method, url, fields(form, typed, button));
}

async function main() {
  let page;
  if (opts.link) {
    // verification_uri_complete: the provider answers with a form that a browser's script posts.
    page = await go('GET', new URL(opts.link, base));
    const f = forms(page.text).find((x) => x.inputs.some((i) => i.name === 'user_code' && i.type === 'hidden'));
    if (!f) die(`no auto-submitted code form at ${opts.link} (page '${title(page.text)}')`);
    page = await submit(page, f);
  } else {
    page = await go('GET', new URL('/device', base));
    const f = forms(page.text).find((x) => x.inputs.some((i) => i.name === 'user_code'));
    if (!f) die(`no code entry form at /device (status ${page.status}, page '${title(page.text)}')`);
    page = await submit(page, f, { user_code: opts.code }, f.buttons.find((b) => !b.name));
  }

  // The confirmation page shows the code and offers Continue and Abort.
  const confirm = forms(page.text).find((x) => x.inputs.some((i) => i.name === 'confirm'));
  if (!confirm) die(`no confirmation form after entering the code: '${title(page.text)}': ${visible(page.text).slice(0, 200)}`);
  say(`confirmation page: ${visible(page.text).slice(0, 160)}`);
  if (opts.deny) {
    const abort = confirm.buttons.find((b) => b.name === 'abort');
    if (!abort) die('no Abort button on the confirmation page');
    page = await submit(page, confirm, {}, abort);
    if (!/aborted|interrupted/i.test(visible(page.text))) die(`abort not acknowledged: '${title(page.text)}': ${visible(page.text).slice(0, 200)}`);
    process.stdout.write('aborted\n');
    return;
  }
  page = await submit(page, confirm, {}, confirm.buttons.find((b) => !b.name));

  // Log in (the provider may skip the form when a session exists), consent passes by itself.
  for (let step = 0; step < 5; step++) {
    const login = forms(page.text).find((x) => x.inputs.some((i) => i.type === 'password'));
    if (!login) break;
    if (step > 0) die(`login refused for '${opts.user}': ${visible(page.text).slice(0, 200)}`);
    say(`login form at ${page.url.pathname}`);
    page = await submit(page, login, { username: opts.user, password: opts.password ?? opts.user });
  }
  if (page.status !== 200 || !/Sign-in Success/i.test(title(page.text))) {
    die(`no success page (status ${page.status}, '${title(page.text)}'): ${visible(page.text).slice(0, 300)}`);
  }
  process.stdout.write('approved\n');
}

main().catch((e) => die(e.message));
