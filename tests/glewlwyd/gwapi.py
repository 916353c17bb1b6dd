# A small HTTPS client for Glewlwyd's REST API with a session cookie (as its web app keeps one), shared by
# provision.py and approve.py. Standard library only; trusts only the test CA; loopback only.
import http.cookiejar
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Api:
    def __init__(self, url, ca):
        host = urllib.parse.urlsplit(url).hostname
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise SystemExit(f"gwapi: refusing a non-loopback URL {url}")
        self.url = url.rstrip("/")
        ctx = ssl.create_default_context(cafile=ca)
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ctx),
            urllib.request.HTTPCookieProcessor(self.jar),
            NoRedirect())

    # request METHOD PATH [JSON body]: (status, headers, parsed JSON or text). Redirects are not followed.
    def request(self, method, path, body=None):
        url = path if path.startswith("https://") else self.url + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self.opener.open(req, timeout=20) as r:
                status, headers, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, raw = e.code, e.headers, e.read()
        try:
            content = json.loads(raw) if raw else None
        except ValueError:
            content = raw.decode(errors="replace")
        return status, headers, content

    def ok(self, method, path, body=None, what=None):
        status, _, content = self.request(method, path, body)
        if status != 200:
            raise SystemExit(f"gwapi: {what or method + ' ' + path}: HTTP {status}: {content}")
        return content

    # Logs in with the password scheme of /api/auth/: the session cookie then authenticates the rest.
    def login(self, user, password):
        self.ok("POST", "/api/auth/", {"username": user, "password": password}, f"login as {user}")
