# SPDX-License-Identifier: LGPL-2.1-or-later
# Bash helpers for tests that use the fake IdP (tests/idp/fake-idp.js). Source it:
#   . "$TOP/tests/idp/idp.sh"
# Works alone or together with tests/lib.sh (then the IdP's PID is registered with t_track, so lib.sh's trap
# stops it). Without lib.sh, call idp_stop yourself (e.g. in your EXIT trap).
#
#   idp_certs DIR                 create the test PKI in DIR (tests/idp/make-certs.sh; idempotent)
#   idp_start DIR [fake-idp args] start the IdP in the background with DIR as its state dir (certs made there
#                                 too unless --certs is given); waits for "LISTENING"; sets IDP_PORT, IDP_PID,
#                                 IDP_URL (https://127.0.0.1:PORT), IDP_CA (DIR/ca.pem), IDP_DIR,
#                                 IDP_WRONG_PORT, IDP_HTTP_PORT
#   idp_stop                      stop it (by PID)
#   idp_ctl PATH [JSON]           control API: POST JSON to $IDP_URL/_test/PATH (GET when JSON is omitted);
#                                 prints the JSON reply; fails on HTTP >= 400
#   idp_requests                  cat DIR/requests.jsonl
#   idp_approve [user_code] [claims-json]
#                                 approve that code (or the latest pending one) with these claims
#   idp_deny [user_code]          deny it
#   idp_issuer                    the issuer URL of the current profile
#   idp_secrets                   cat DIR/secrets.txt (every secret issued, one per line)
#   idp_grep_secrets FILE...      succeeds (and prints the first hit, masked) if any secret occurs in FILE...
#   idp_poll_gaps [user_code]     one line per poll: gap since the previous poll (s), expected interval, answer
#   idp_early_polls               print polls sooner than the expected interval; succeeds when there were none

IDP_JS=${IDP_JS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fake-idp.js}
IDP_MAKE_CERTS=${IDP_MAKE_CERTS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/make-certs.sh}
IDP_PID=
IDP_PORT=
IDP_URL=
IDP_CA=
IDP_DIR=

idp_certs() {
        bash "$IDP_MAKE_CERTS" "$1"
}

idp_start() {
        local dir=$1; shift
        local certs=$dir a
        local -a argv=("$@")
        for ((a = 0; a < ${#argv[@]}; a++)); do
                [ "${argv[a]}" = --certs ] && certs=${argv[a + 1]}
        done
        mkdir -p "$dir"
        idp_certs "$certs" || { echo "idp_start: make-certs failed" >&2; return 1; }
        rm -f "$dir/port" "$dir/idp.out"
        node "$IDP_JS" --dir "$dir" --certs "$certs" "$@" >"$dir/idp.out" 2>"$dir/idp.err" &
        IDP_PID=$!
        declare -F t_track >/dev/null && t_track "$IDP_PID"
        local i
        for ((i = 0; i < 150; i++)); do
                if grep -q '^LISTENING ' "$dir/idp.out" 2>/dev/null; then
                        IDP_PORT=$(sed -n 's/^LISTENING //p' "$dir/idp.out" | head -n1)
                        IDP_DIR=$dir
                        IDP_CA=$certs/ca.pem
                        IDP_URL=https://127.0.0.1:$IDP_PORT
                        IDP_WRONG_PORT=$(cat "$dir/wrong-port")
                        IDP_HTTP_PORT=$(cat "$dir/http-port")
                        export IDP_PORT IDP_PID IDP_URL IDP_CA IDP_DIR IDP_WRONG_PORT IDP_HTTP_PORT
                        return 0
                fi
                kill -0 "$IDP_PID" 2>/dev/null || break
                sleep 0.1
        done
        echo "idp_start: fake IdP did not start:" >&2
        cat "$dir/idp.err" >&2
        idp_stop
        return 1
}

idp_stop() {
        [ -n "$IDP_PID" ] || return 0
        kill -TERM "$IDP_PID" 2>/dev/null
        local i
        for ((i = 0; i < 30; i++)); do kill -0 "$IDP_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$IDP_PID" 2>/dev/null
        wait "$IDP_PID" 2>/dev/null
        IDP_PID=
}

idp_ctl() {
        local p=$1 json=${2-} rc
        local -a c=(curl -sS --fail-with-body --max-time 10 --cacert "$IDP_CA")
        [ -n "$json" ] && c+=(-H 'Content-Type: application/json' --data-binary "$json")
        local err
        { err=$("${c[@]}" "$IDP_URL/_test/$p" 2>&1 >&3); rc=$?; } 3>&1
        # While a wrong-certificate fault is on, the main port presents a certificate the CA does not vouch
        # for; the control API is loopback-only test plumbing, so retry without verification then.
        if [ "$rc" -eq 60 ] || [ "$rc" -eq 51 ] || [ "$rc" -eq 35 ]; then
                "${c[@]}" --insecure "$IDP_URL/_test/$p"
                rc=$?
        elif [ -n "$err" ]; then
                echo "$err" >&2
        fi
        echo
        return "$rc"
}

idp_requests() {
        cat "$IDP_DIR/requests.jsonl"
}

idp_secrets() {
        cat "$IDP_DIR/secrets.txt"
}

idp_issuer() {
        idp_ctl config | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s);
                console.log(process.argv[1] + c.issuer_path)})' "$IDP_URL"
}

idp_approve() {
        local code=${1-} claims=${2-}
        [ -n "$claims" ] || claims=null
        local body
        if [ -n "$code" ]; then
                body="{\"user_code\":\"$code\",\"claims\":$claims}"
        else
                body="{\"claims\":$claims}"
        fi
        idp_ctl approve "$body" >/dev/null
}

idp_deny() {
        local code=${1-}
        if [ -n "$code" ]; then idp_ctl deny "{\"user_code\":\"$code\"}" >/dev/null; else idp_ctl deny '{}' >/dev/null; fi
}

# idp_poll_gaps [user_code]: one line per device_code poll (of that code, or all):
#   <seconds since the previous poll of the flow, or -> <interval expected> <status> <error> <user_code>
idp_poll_gaps() {
        node -e '
                const want = process.argv[2];
                for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) {
                        if (!l) continue;
                        const r = JSON.parse(l);
                        if (r.endpoint !== "token" || r.grant_type !== "urn:ietf:params:oauth:grant-type:device_code")
                                continue;
                        if (want && r.user_code !== want) continue;
                        const gap = r.since_prev_ms === undefined ? "-" : (r.since_prev_ms / 1000).toFixed(3);
                        console.log(gap, r.interval, r.status, r.error || "-", r.user_code);
                }' "$IDP_DIR/requests.jsonl" "${1-}"
}

# idp_early_polls: print the polls that came sooner than the interval the IdP expected; succeed if none.
idp_early_polls() {
        ! grep '"too_early":true' "$IDP_DIR/requests.jsonl"
}

idp_grep_secrets() {
        local s
        while IFS= read -r s; do
                [ -n "$s" ] || continue
                if grep -qF -- "$s" "$@" 2>/dev/null; then
                        echo "secret leaked: ${s:0:6}... found in: $(grep -lF -- "$s" "$@" | tr '\n' ' ')"
                        return 0
                fi
        done <"$IDP_DIR/secrets.txt"
        return 1
}
