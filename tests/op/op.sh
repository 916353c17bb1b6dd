# Bash helpers to run the real OpenID Provider (tests/op/op.js) from a test. Source it after
# tests/lib.sh (it uses t_track and wait_for):
#   . "$TOP/tests/op/op.sh"
#   op_start "$TEST_DIR/op" || { fail "op start"; exit 1; }
#   ... device flow against $OP_URL, trusting $OP_CA ...
#   op_approve "$user_code" alice    # or: op_deny "$user_code"
#
# op_start DIR [VAR=value ...]: makes a test CA and server certificate in DIR, starts the provider on a
#   free loopback port with the given environment (e.g. OP_DEVICE_CODE_TTL=5), waits for it and sets
#     OP_PORT, OP_URL (the issuer, https://127.0.0.1:PORT), OP_CA (CA file for ca_file / --cacert),
#     OP_PID (tracked: stopped by the test's trap), OP_LOG (its output: one "REQ METHOD PATH STATUS"
#     line per request, "EVENT grant.error authorization_pending" etc. per provider event),
#     OP_SECRET_FILE (the confidential client's secret, 0600), OP_DIR.
#   Clients: devflow-public (auth none, ID token RS256), devflow-confidential (client_secret_basic,
#   ID token ES256). Accounts alice, bob (password = name), carol (email_verified false).
# op_approve CODE USER [approve.js options]: approves the user code as USER through the provider's pages.
# op_approve_link URL USER: the same through verification_uri_complete (the QR code's link).
# op_deny CODE: aborts the code on the provider's confirmation page (the token endpoint then answers
#   access_denied).
# op_count PATTERN: how many lines of the provider's log match the extended regex PATTERN
#   (op_count '^REQ POST /token ' counts token polls).
# op_node_ok: true when node and the npm dependencies are installed (make check runs npm ci first).

OP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

op_node_ok() {
        command -v node >/dev/null 2>&1 && [ -f "$OP_TOP/node_modules/oidc-provider/package.json" ]
}

op_start() {
        local dir=$1; shift
        if ! op_node_ok; then
                echo "op_start: node or $OP_TOP/node_modules/oidc-provider is missing: run 'bash tests/deps.sh' (npm ci)" >&2
                return 1
        fi
        mkdir -p "$dir" || return 1
        bash "$OP_TOP/tests/op/make-certs.sh" "$dir" || { echo "op_start: make-certs.sh failed" >&2; return 1; }
        OP_DIR=$dir
        OP_LOG=$dir/op.log
        OP_CA=$dir/ca.pem
        OP_SECRET_FILE=$dir/client_secret
        : >"$OP_LOG"
        env "$@" node "$OP_TOP/tests/op/op.js" --dir "$dir" >>"$OP_LOG" 2>&1 &
        OP_PID=$!
        t_track "$OP_PID"
        if ! wait_for 30 grep -q '^LISTENING [0-9]' "$OP_LOG"; then
                echo "op_start: the provider did not start; its log:" >&2
                cat "$OP_LOG" >&2
                return 1
        fi
        OP_PORT=$(sed -n 's/^LISTENING \([0-9]*\)$/\1/p' "$OP_LOG" | head -1)
        OP_URL=https://127.0.0.1:$OP_PORT
        export OP_PORT OP_URL OP_CA OP_PID OP_LOG OP_SECRET_FILE OP_DIR
}

op_approve() {
        local code=$1 user=$2; shift 2
        node "$OP_TOP/tests/op/approve.js" --ca "$OP_CA" --url "$OP_URL" --user "$user" --code "$code" "$@"
}

op_approve_link() {
        local link=$1 user=$2; shift 2
        node "$OP_TOP/tests/op/approve.js" --ca "$OP_CA" --url "$OP_URL" --user "$user" --link "$link" "$@"
}

op_deny() {
        node "$OP_TOP/tests/op/approve.js" --ca "$OP_CA" --url "$OP_URL" --code "$1" --deny
}

op_count() {
        grep -cE "$1" "$OP_LOG"
}
