# Helpers for the end-to-end tests through a real sshd and the real OpenSSH client, driven by tmux.
# Source after tests/lib.sh, tests/op/op.sh and bus_start:
#   . "$TOP/tests/e2e/sshd-lib.bash"
# (named .bash so tests/run-tests.sh does not run it as a test)
#
# sshd_start NAME "MODULE ARGS" [sshd_config lines...]: in $TEST_DIR/NAME writes a host key, a pam_wrapper service dir with an
#   "sshd" service (auth required pam_devflow.so ARGS; account/session pam_permit) and an sshd_config for
#   keyboard-interactive only on 127.0.0.1:$SSHD_PORT (the sshd_config lines given override that), then runs
#   /usr/sbin/sshd -D -e in its own mount namespace with a private /run where the test bus's directory is
#   bind-mounted on /run/dbus (sshd clears the environment of
#   its PAM process, so DBUS_SYSTEM_BUS_ADDRESS would not reach the module). Sets SSHD_PORT, SSHD_PID,
#   SSHD_LOG for the last sshd started (ssh_open connects to $SSHD_PORT); several may run at once.
# ssh_open NAME USER [env VAR=value ...]: runs the real ssh client for USER@127.0.0.1 in a new tmux
#   window NAME (e2e_window), the command prefixed with the given env assignments.
#   NumberOfPasswordPrompts=1: after a refusal the client gives up ("Permission denied") instead of
#   starting a second keyboard-interactive round (a fresh code), so a refusal is seen at once.
# screen NAME: the whole text of the window (history included), trailing blanks removed.
# screen_wait NAME SECONDS REGEX: waits until the screen matches the extended REGEX.
# keys NAME KEYS...: tmux send-keys.
# client_pid NAME: the pid of the ssh client in the window.

sshd_free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

E2E_TMUX=
E2E_SSHD_PIDS=

# descendants PID: every process below PID.
descendants() {
        local c
        for c in $(pgrep -P "$1"); do
                echo "$c"
                descendants "$c"
        done
}

e2e_cleanup() {
        if [ -n "$E2E_TMUX" ]; then
                tmux -S "$E2E_TMUX" kill-server 2>/dev/null
        fi
        # sshd's per-connection processes outlive the listener (one blocked in PAM would wait for the
        # module's timeout): stop them first, by pid.
        local p
        for p in $E2E_SSHD_PIDS; do
                T_PIDS=($(descendants "$p") "${T_PIDS[@]}")
        done
        t_cleanup
        # pam_wrapper copies the service files to /tmp/pam.X (X one character; every sshd connection
        # makes its own copy) and a killed process leaves it behind: remove those that hold our service
        # file (marked with a comment naming $TEST_DIR), and only those.
        local d
        for d in /tmp/pam.?; do
                [ -d "$d" ] || continue
                grep -qsF "$TEST_DIR" "$d"/* && rm -rf "$d"
        done
}
trap e2e_cleanup EXIT

# e2e_need_root: prints a SKIP line and exits when the test cannot run here.
e2e_need_root() {
        if [ "$(id -u)" -ne 0 ]; then
                skip "$1 (needs root: sshd, useradd, mount namespaces)"
                exit 0
        fi
        local t
        for t in /usr/sbin/sshd ssh tmux unshare zbarimg ssh-keygen python3; do
                if ! command -v "$t" >/dev/null 2>&1; then
                        skip "$1 ($t is not installed: run 'bash tests/deps.sh')"
                        exit 0
                fi
        done
        if [ -z "$PAM_WRAPPER_LIB" ]; then
                skip "$1 (libpam_wrapper is not installed: run 'bash tests/deps.sh')"
                exit 0
        fi
        if ! op_node_ok; then
                skip "$1 (node or the oidc-provider npm package is missing: run 'bash tests/deps.sh')"
                exit 0
        fi
        if [ ! -f "$PAM_MODULE" ]; then
                skip "$1 ($PAM_MODULE is not built: run 'make')"
                exit 0
        fi
}

# sshd_private_run CMD...: execs CMD (call it in a subshell or in the background: $! is then CMD's pid)
# in a mount namespace of its own with a private /run: /run/sshd (sshd's privilege separation directory)
# and /run/dbus with the test bus's socket exist there and nowhere else, so nothing is created in, or
# left behind on, the real /run.
sshd_private_run() {
        exec unshare --mount --propagation private -- /bin/sh -c \
                'mount -t tmpfs -o mode=0755 devflow-run /run && mkdir -m 0755 /run/sshd /run/dbus &&
                 mount --bind "$0" /run/dbus && exec "$@"' "$BUS_DIR" "$@"
}

sshd_start() {
        local dir=$TEST_DIR/$1 args=$2; shift 2
        mkdir -p "$dir/pam.d"
        chmod 0755 "$dir"
        ssh-keygen -q -t ed25519 -N '' -C devflow-e2e -f "$dir/host_ed25519" || return 1
        SSHD_PAM_DIR=$dir/pam.d
        printf '# %s\nauth required %s %s\naccount required pam_permit.so\nsession required pam_permit.so\n' \
                "$TEST_DIR" "$PAM_MODULE" "$args" >"$SSHD_PAM_DIR/sshd"
        # libpam looks for "other" too (pam_wrapper logs an error without it): deny everything there.
        printf '# %s\nauth required pam_deny.so\naccount required pam_deny.so\nsession required pam_deny.so\n' \
                "$TEST_DIR" >"$SSHD_PAM_DIR/other"
        SSHD_PORT=$(sshd_free_port)
        SSHD_LOG=$dir/sshd.log
        {
                # The caller's lines first: for sshd the first value of a keyword wins, so they override.
                printf '%s\n' "$@"
                echo "ListenAddress 127.0.0.1:$SSHD_PORT"
                echo "HostKey $dir/host_ed25519"
                echo "PidFile $dir/sshd.pid"
                echo "UsePAM yes"
                echo "KbdInteractiveAuthentication yes"
                echo "AuthenticationMethods keyboard-interactive"
                echo "PasswordAuthentication no"
                echo "PubkeyAuthentication no"
                echo "PermitRootLogin no"
                echo "PrintMotd no"
                echo "PrintLastLog no"
                echo "UseDNS no"
                echo "LogLevel VERBOSE"
        } >"$dir/sshd_config"
        (sshd_private_run /usr/sbin/sshd -t -f "$dir/sshd_config") || { echo "sshd -t rejects the config"; return 1; }
        # In the background sshd_private_run execs unshare, which execs the shell, which execs sshd: $! is sshd's pid.
        sshd_private_run env LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SSHD_PAM_DIR" \
                /usr/sbin/sshd -D -e -f "$dir/sshd_config" >>"$SSHD_LOG" 2>&1 &
        SSHD_PID=$!
        t_track "$SSHD_PID"
        E2E_SSHD_PIDS="$E2E_SSHD_PIDS $SSHD_PID"
        if ! wait_for 10 grep -q "Server listening on 127.0.0.1 port $SSHD_PORT" "$SSHD_LOG"; then
                echo "sshd did not start; its log:"
                cat "$SSHD_LOG"
                return 1
        fi
}

e2e_tmux() { tmux -S "$E2E_TMUX" "$@"; }

ssh_open() {
        local name=$1 user=$2; shift 2
        local cmd
        cmd=$(printf '%q ' "$@" ssh -F /dev/null -p "$SSHD_PORT" -o StrictHostKeyChecking=no \
                -o UserKnownHostsFile=/dev/null -o PreferredAuthentications=keyboard-interactive \
                -o NumberOfPasswordPrompts=1 -o LogLevel=ERROR "$user@127.0.0.1")
        e2e_window "$name" ssh "$cmd"
}

# e2e_window NAME LABEL CMD: runs the shell command CMD in a new window NAME of the private tmux server
# (200x100, made on first use). After CMD ends the window stays open with its last screen and
# "[LABEL exited STATUS]".
e2e_window() {
        local name=$1 cmd="$3; echo \"[$2 exited \$?]\"; sleep 600"
        if [ -z "$E2E_TMUX" ]; then
                E2E_TMUX=$TEST_DIR/tmux.sock
                e2e_tmux -f /dev/null new-session -d -s e2e -n "$name" -x 200 -y 100 "$cmd" || return 1
                e2e_tmux set-option -g history-limit 5000 >/dev/null
                t_track "$(e2e_tmux display-message -p -t e2e '#{pid}')"
        else
                e2e_tmux new-window -d -t e2e -n "$name" "$cmd" || return 1
        fi
}

screen() {
        e2e_tmux capture-pane -p -J -S - -E - -t "e2e:$1" | sed -e 's/[[:space:]]*$//'
}

screen_wait() {
        local name=$1 secs=$2 re=$3 i n
        n=$((secs * 5))
        for ((i = 0; i < n; i++)); do
                screen "$name" | grep -qE -- "$re" && return 0
                sleep 0.2
        done
        return 1
}

keys() { local name=$1; shift; e2e_tmux send-keys -t "e2e:$name" "$@"; }

client_pid() {
        local shell
        shell=$(e2e_tmux display-message -p -t "e2e:$1" '#{pane_pid}')
        pgrep -P "$shell" -x ssh
}

# e2e_daemon_start [login lines...]: devflowd against the provider ($OP_URL), the public client; the
# provider's accounts alice and bob map to the local test accounts dfalice and dfbob (a map file).
e2e_daemon_start() {
        printf 'alice dfalice\nbob dfbob\n' >"$TEST_DIR/users.map"
        chmod 0600 "$TEST_DIR/users.map"
        cat >"$TEST_DIR/devflowd.conf" <<CONF
[idp]
issuer = $OP_URL
client_id = devflow-public
ca_file = $OP_CA
[login]
username_claim = preferred_username
map_file = $TEST_DIR/users.map
CONF
        printf '%s\n' "$@" >>"$TEST_DIR/devflowd.conf"
        daemon_start "$TEST_DIR/devflowd.conf"
}

# screen_code NAME: the last user code on the screen (XXXX-XXXX).
screen_code() {
        screen "$1" | sed -n 's/^Code: *\([A-Z0-9]\{4\}-[A-Z0-9]\{4\}\)$/\1/p' | tail -1
}

# screen_qr NAME OUT.png: renders the last QR code on the screen (the last run of lines made only of
# '#' and spaces, or of the UTF-8 full and half blocks and spaces) to a PNG, as a terminal shows it.
# Fails when there is none.
screen_qr() {
        screen "$1" | python3 -c '
import sys
blocks, cur = [], []
for line in sys.stdin.read().split("\n"):
    if line.strip() and set(line) <= {"#", " ", "\u2588", "\u2580", "\u2584"}:
        cur.append(line)
    elif cur:
        blocks.append(cur); cur = []
if cur:
    blocks.append(cur)
if not blocks:
    sys.exit(1)
print("\n".join(blocks[-1]))' >"$2.txt" || return 1
        python3 "$TOP/tests/tools/text-to-image.py" "$2.txt" "$2"
}

# check_qr NAME LABEL CODE [URI COMPLETE_URI]: the QR code on the screen decodes to the verification URI or
# the complete one (by default the provider's: $OP_URL/device, the complete one carries CODE).
check_qr() {
        local name=$1 label=$2 code=$3 png=$TEST_DIR/qr-$1.png decoded
        local uri=${4:-$OP_URL/device} complete=${5:-$OP_URL/device?user_code=$3}
        if ! screen_qr "$name" "$png"; then
                fail "$label: a QR code drawn in ASCII is on the screen"
                return
        fi
        decoded=$(zbarimg --nodbus -q --raw "$png" 2>/dev/null)
        case $decoded in
        "$uri" | "$complete")
                pass "$label: the QR code on the screen decodes to the link ($decoded)" ;;
        *)
                fail "$label: the QR code on the screen decodes to the link (got '$decoded')" ;;
        esac
}

# screen_last NAME: the last non-blank line of the screen.
screen_last() { screen "$1" | grep -v '^$' | tail -1; }

# screen_wait_last NAME SECONDS REGEX: waits until the last non-blank line matches REGEX.
screen_wait_last() {
        local name=$1 secs=$2 re=$3 i n
        n=$((secs * 5))
        for ((i = 0; i < n; i++)); do
                screen_last "$name" | grep -qE -- "$re" && return 0
                sleep 0.2
        done
        return 1
}

# count_gt N COMMAND...: the number COMMAND prints is greater than N (for wait_for, which runs it anew).
count_gt() { local n=$1; shift; [ "$("$@")" -gt "$n" ]; }
daemon_count() { grep -c -- "$1" "$DAEMON_LOG"; }
