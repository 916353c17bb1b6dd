#!/usr/bin/env python3
# Provisions a running Glewlwyd through its admin REST API, as the shipped admin (admin / password):
#   provision.py --url URL --ca CA base --secret-file FILE
#       users alice and bob (password = user name, scope openid), clients devflow-public (public, device
#       grant only) and devflow-confidential (client_secret_basic, secret read from FILE).
#   provision.py --url URL --ca CA plugin NAME --alg RS256|ES256 [--interval S] [--expiration S]
#                [--username-claim]
#       an oidc plugin instance NAME (issuer URL/api/NAME) with the device grant on, signing ID tokens
#       with a fresh key of that algorithm, its JWKS published (jwks-show); with --username-claim its ID
#       tokens carry preferred_username from the user's username (the plugin's claims settings), without
#       it only Glewlwyd's own sub (a random string per user, "public" subject type).
#   provision.py --url URL --ca CA sub NAME USER SUB
#       fixes the sub that plugin NAME gives USER (Glewlwyd makes one at the first login otherwise).
import argparse
import os
import sqlite3
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwapi import Api  # noqa: E402

USERS = ("alice", "bob")
PUBLIC_CLIENT, CONFIDENTIAL_CLIENT = "devflow-public", "devflow-confidential"


def key_pair(alg):
    gen = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] if alg == "RS256" else \
          ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    key = subprocess.run(gen, check=True, capture_output=True, text=True).stdout
    pub = subprocess.run(["openssl", "pkey", "-pubout"], input=key, check=True, capture_output=True,
                         text=True).stdout
    return key, pub


def base(api, args):
    for u in USERS:
        api.ok("POST", "/api/user/", {"username": u, "password": u, "name": u.capitalize() + " Example",
                                      "email": f"{u}@example.test", "enabled": True, "scope": ["openid"]},
               f"add user {u}")
    with open(args.secret_file) as f:
        secret = f.read().strip()
    common = {"enabled": True, "scope": ["openid"], "redirect_uri": [],
              "authorization_type": ["device_authorization"]}
    api.ok("POST", "/api/client/", dict(common, client_id=PUBLIC_CLIENT, name="pam_devflow (public)",
                                        confidential=False, token_endpoint_auth_method=["none"]),
           "add public client")
    api.ok("POST", "/api/client/", dict(common, client_id=CONFIDENTIAL_CLIENT, name="pam_devflow (confidential)",
                                        confidential=True, password=secret,
                                        token_endpoint_auth_method=["client_secret_basic"]),
           "add confidential client")


def plugin(api, args):
    key, pub = key_pair(args.alg)
    claims = []
    if args.username_claim:
        claims.append({"name": "preferred_username", "user-property": "username", "type": "string",
                       "mandatory": True, "on-demand": False, "scope": []})
    params = {
        "iss": f"{api.url}/api/{args.name}",
        "jwt-type": "rsa" if args.alg == "RS256" else "ecdsa", "jwt-key-size": "256",
        "key": key, "cert": pub, "jwks-show": True,
        "access-token-duration": 3600, "refresh-token-duration": 1209600, "code-duration": 600,
        "refresh-token-rolling": False, "allow-non-oidc": False,
        "auth-type-code-enabled": True, "auth-type-token-enabled": False, "auth-type-id-token-enabled": True,
        "auth-type-none-enabled": False, "auth-type-password-enabled": False,
        "auth-type-client-enabled": False, "auth-type-refresh-enabled": False,
        "auth-type-device-enabled": True,
        "device-authorization-interval": args.interval, "device-authorization-expiration": args.expiration,
        "allowed-scope": ["openid"], "scope": [], "additional-parameters": [], "claims": claims,
        "name-claim": "no", "email-claim": "no", "scope-claim": "no", "address-claim": {"type": "no"},
        "secret-type": "public", "service-documentation": "", "op-policy-uri": "", "op-tos-uri": "",
        "request-parameter-allow": False, "pkce-allowed": False, "introspection-revocation-allowed": False,
        "register-client-allowed": False, "session-management-allowed": False,
    }
    api.ok("POST", "/api/mod/plugin/", {"module": "oidc", "name": args.name, "display_name": args.name,
                                        "parameters": params, "order_rank": 0, "readonly": False},
           f"add oidc plugin {args.name}")


def sub(args):
    # Glewlwyd keeps its subject identifiers in its database and makes a random one at a user's first
    # login; fixing it first lets a test write the map file before that login.
    db = sqlite3.connect(args.db)
    db.execute("INSERT INTO gpo_subject_identifier (gposi_plugin_name, gposi_username, gposi_sub) "
               "VALUES (?, ?, ?)", (args.name, args.user, args.sub))
    db.commit()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--ca", required=True)
    sp = p.add_subparsers(dest="cmd", required=True)
    b = sp.add_parser("base")
    b.add_argument("--secret-file", required=True)
    g = sp.add_parser("plugin")
    g.add_argument("name")
    g.add_argument("--alg", choices=("RS256", "ES256"), required=True)
    g.add_argument("--interval", type=int, default=5)
    g.add_argument("--expiration", type=int, default=600)
    g.add_argument("--username-claim", action="store_true")
    s = sp.add_parser("sub")
    s.add_argument("name")
    s.add_argument("user")
    s.add_argument("sub")
    s.add_argument("--db", required=True)
    args = p.parse_args()
    if args.cmd == "sub":
        return sub(args)
    api = Api(args.url, args.ca)
    api.login("admin", "password")
    {"base": base, "plugin": plugin}[args.cmd](api, args)


if __name__ == "__main__":
    main()
