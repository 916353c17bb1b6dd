# Bash helpers to run Debian's Glewlwyd (a second, independent OpenID Provider) from a test. Source it
# after tests/lib.sh (it uses t_track and wait_for):
#   . "$TOP/tests/glewlwyd/glewlwyd.sh"
#   gw_start "$TEST_DIR/gw" || { fail "glewlwyd start"; exit 1; }
#   gw_provision base --secret-file FILE; gw_provision plugin oidc --alg RS256   # see provision.py
#   gw_approve "$user_code" alice
#
# gw_available: true when /usr/bin/glewlwyd and its SQLite schema are installed (tests/deps.sh).
# gw_start DIR: makes a test CA and server certificate in DIR (tests/op/make-certs.sh), a libconfig file
#   and an SQLite database from the package's init script, starts glewlwyd in the foreground as the
#   unprivileged user nobody over TLS on a free loopback port, waits until it answers, and sets
#     GW_PORT, GW_URL (https://127.0.0.1:PORT), GW_CA (CA file), GW_PID (tracked), GW_LOG (its log at
#     DEBUG level: one line per request), GW_DIR.
# gw_provision ARGS: tests/glewlwyd/provision.py against it, as the shipped admin (see that file).
# gw_approve CODE USER: approves the user code as USER (password = user name) through its REST API, as
#   the web app would (approve.py), at plugin $GW_PLUGIN (default oidc) for client $GW_CLIENT (default
#   devflow-public).
# gw_issuer PLUGIN: the issuer of an oidc plugin instance (https://127.0.0.1:PORT/api/PLUGIN).

GW_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GW_BIN=${GW_BIN:-/usr/bin/glewlwyd}
GW_SCHEMA=/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz

gw_available() {
        [ -x "$GW_BIN" ] && [ -f "$GW_SCHEMA" ] && command -v sqlite3 >/dev/null 2>&1
}

# A port nobody listens on now (the kernel's choice); glewlwyd cannot take port 0 itself.
gw_free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# gw_answers: it serves its configuration over TLS, or it has ended (the port was taken meanwhile): either
# way there is nothing more to wait for.
gw_answers() {
        kill -0 "$GW_PID" 2>/dev/null || return 0
        curl -fsS --cacert "$GW_CA" -o /dev/null "$GW_URL/config/"
}

gw_start() {
        local dir=$1 try
        gw_available || { echo "gw_start: glewlwyd or sqlite3 missing: run 'bash tests/deps.sh'" >&2; return 1; }
        mkdir -p "$dir" || return 1
        # An unprivileged user must be able to run programs at all (a chroot whose / is 0700 denies it).
        if ! setpriv --reuid=nobody --regid=nogroup --clear-groups /bin/true 2>/dev/null; then
                echo "gw_start: the user nobody cannot run /bin/true here ($(ls -ld / | cut -d' ' -f1) /)" >&2
                return 1
        fi
        bash "$GW_TOP/tests/op/make-certs.sh" "$dir" || { echo "gw_start: make-certs.sh failed" >&2; return 1; }
        GW_DIR=$dir
        GW_CA=$dir/ca.pem
        GW_LOG=$dir/glewlwyd.log
        zcat "$GW_SCHEMA" | sqlite3 "$dir/glewlwyd.db" || { echo "gw_start: database init failed" >&2; return 1; }
        # It runs as nobody: its database (and the directory SQLite writes its journal into) and its key.
        chown nobody "$dir" "$dir/glewlwyd.db" "$dir/server.key"
        for try in 1 2 3; do
                GW_PORT=$(gw_free_port)
                GW_URL=https://127.0.0.1:$GW_PORT
                sed -e "s|@PORT@|$GW_PORT|g" -e "s|@DIR@|$dir|g" "$GW_TOP/tests/glewlwyd/glewlwyd.conf.in" \
                        >"$dir/glewlwyd.conf"
                : >"$GW_LOG"
                chown nobody "$GW_LOG"
                setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
                        "$GW_BIN" --config-file="$dir/glewlwyd.conf" >>"$GW_LOG" 2>&1 &
                GW_PID=$!
                t_track "$GW_PID"
                if wait_for 20 gw_answers && kill -0 "$GW_PID" 2>/dev/null; then
                        export GW_PORT GW_URL GW_CA GW_PID GW_LOG GW_DIR
                        return 0
                fi
                kill "$GW_PID" 2>/dev/null
                wait "$GW_PID" 2>/dev/null
        done
        echo "gw_start: glewlwyd did not start; its log:" >&2
        tail -n 40 "$GW_LOG" >&2
        return 1
}

gw_provision() {
        python3 "$GW_TOP/tests/glewlwyd/provision.py" --url "$GW_URL" --ca "$GW_CA" "$@"
}

gw_approve() {
        python3 "$GW_TOP/tests/glewlwyd/approve.py" --url "$GW_URL" --ca "$GW_CA" --code "$1" --user "$2" \
                --plugin "${GW_PLUGIN:-oidc}" --client "${GW_CLIENT:-devflow-public}"
}

gw_issuer() { echo "$GW_URL/api/$1"; }
