#!/usr/bin/env python3
# Approves a device user code at Glewlwyd as a person would through its web app, over the same REST API:
# log in as the user with the password scheme (POST /api/auth/), grant the client its scope
# (PUT /api/auth/grant/CLIENT), then GET <verification_uri>?code=CODE&g_continue with that session.
# Glewlwyd answers 302; success is a Location with prompt=deviceComplete (not followed: the web app is not
# served). Exit 0 on success, 1 otherwise (the Location's prompt is printed).
#   approve.py --url URL --ca CA --code CODE --user USER [--plugin NAME] [--client ID]
import argparse
import os
import sys
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwapi import Api  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--code", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--plugin", default=os.environ.get("GW_PLUGIN", "oidc"))
    p.add_argument("--client", default=os.environ.get("GW_CLIENT", "devflow-public"))
    args = p.parse_args()

    api = Api(args.url, args.ca)
    api.login(args.user, args.user)
    api.ok("PUT", f"/api/auth/grant/{urllib.parse.quote(args.client)}", {"scope": "openid"}, "grant openid")
    q = urllib.parse.urlencode({"code": args.code, "g_continue": ""})
    status, headers, _ = api.request("GET", f"/api/{args.plugin}/device?{q}")
    location = headers.get("Location", "") if headers else ""
    prompt = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("prompt", [""])[0]
    print(f"approve: HTTP {status} prompt={prompt or '-'}")
    sys.exit(0 if status == 302 and prompt == "deviceComplete" else 1)


if __name__ == "__main__":
    main()
