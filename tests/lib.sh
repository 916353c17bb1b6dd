# Shared shell library for the integration and end-to-end tests. Source it from a test script:
#   . "$(dirname "$0")/../lib.sh"
# It gives every test a unique temp dir, a trap that stops every process the test started (by PID) and
# removes what it created, PASS/FAIL/SKIP reporting, a private system-like dbus-daemon, devflowd, and
# pam_wrapper service directories. BUS_POLICY names the policy file the bus includes (default: conf/'s).
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEVFLOWD=${DEVFLOWD:-$TOP/build/asan/devflowd}
PAM_MODULE=${PAM_MODULE:-$TOP/pam_devflow/pam_devflow.so}
TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(mktemp -d "/tmp/devflow-$TEST_NAME.XXXXXX")
chmod 0755 "$TEST_DIR"
T_PIDS=()
T_USERS=()
T_FAILED=0

t_cleanup() {
        local pid
        for pid in "${T_PIDS[@]}"; do
                kill -TERM "$pid" 2>/dev/null
        done
        for pid in "${T_PIDS[@]}"; do
                for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$pid" 2>/dev/null
        done
        local u d
        for u in "${T_USERS[@]}"; do
                userdel "$u" 2>/dev/null
        done
        # pam_wrapper copies service files into /tmp/pam.X (X one character: at most 62 at once) and does
        # not always remove them: remove the copies of ours (marked with a comment naming $TEST_DIR).
        for d in /tmp/pam.?; do
                [ -d "$d" ] || continue
                grep -qsF "# $TEST_DIR" "$d"/* && rm -rf "$d"
        done
        if [ "$T_FAILED" -ne 0 ] || [ -n "${KEEP_TEST_DIR:-}" ]; then
                echo "test dir kept: $TEST_DIR"
        else
                rm -rf "$TEST_DIR"
        fi
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# Keep a PID to stop at the end.
t_track() { T_PIDS+=("$1"); }

pass() { echo "PASS: $TEST_NAME: $*"; }
fail() { echo "FAIL: $TEST_NAME: $*"; T_FAILED=1; }
skip() { echo "SKIP: $TEST_NAME: $*"; }

# check NAME COMMAND...: PASS when the command succeeds.
check() {
        local name=$1; shift
        if "$@"; then pass "$name"; else fail "$name"; fi
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until the command succeeds.
wait_for() {
        local secs=$1; shift
        local i n=$((secs * 10))
        for ((i = 0; i < n; i++)); do
                "$@" 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}

# ---- a private dbus-daemon with a system-bus-like policy plus the project's own policy ----------
bus_start() {
        local dir=$TEST_DIR/bus
        mkdir -p "$dir"
        chmod 0755 "$dir"
        cat >"$dir/system.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
  <include>${BUS_POLICY:-$TOP/conf/net.devflow.Devflow1.conf}</include>
  <limit name="max_replies_per_connection">50000</limit>
  <limit name="max_connections_per_user">5000</limit>
  <limit name="max_completed_connections">5000</limit>
  <limit name="max_incomplete_connections">500</limit>
  <limit name="max_match_rules_per_connection">${BUS_MAX_MATCH_RULES:-512}</limit>
</busconfig>
XML
        dbus-daemon --config-file="$dir/system.conf" --nofork --nopidfile --nosyslog \
                >"$dir/dbus.log" 2>&1 &
        t_track $!
        BUS_PID=$!
        wait_for 10 test -S "$dir/system_bus_socket" || { echo "dbus-daemon did not start"; cat "$dir/dbus.log"; return 1; }
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/system_bus_socket"
        BUS_DIR=$dir
}

bus_has_name() {
        dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
                string:"$1" 2>/dev/null | grep -q 'boolean true'
}

# ---- devflowd ---------------------------------------------------------------------------------
# daemon_start CONFIG [extra args]: starts devflowd (the ASan build unless $DEVFLOWD says otherwise)
# and waits until it owns its bus name. Its log is $TEST_DIR/devflowd.log.
daemon_start() {
        local conf=$1; shift
        DAEMON_LOG=$TEST_DIR/devflowd.log
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:log_path=$TEST_DIR/asan} \
                "$DEVFLOWD" --config "$conf" --debug "$@" >>"$DAEMON_LOG" 2>&1 &
        DAEMON_PID=$!
        t_track "$DAEMON_PID"
        if ! wait_for 20 bus_has_name net.devflow.Devflow1; then
                echo "devflowd did not take its bus name; log:"
                cat "$DAEMON_LOG"
                return 1
        fi
}

# stack_start [-] [IDP OPTIONS…]: what most integration tests start with. The private bus, the fake IdP
# (idp_start "$TEST_DIR/idp" IDP OPTIONS…), $TEST_DIR/devflowd.conf naming it (issuer, client_id devflow-test,
# ca_file) and, with "-", followed by the lines read from stdin (more [idp] keys, then other sections), and
# devflowd on that configuration. A part that does not start fails the test, which then exits.
#   stack_start - --profile rfc --interval 1 <<CONF
#   [limits]
#   max_flows = 4
#   CONF
stack_start() {
        local extra=
        if [ "${1:-}" = - ]; then extra=1; shift; fi
        declare -F idp_start >/dev/null || . "$TOP/tests/idp/idp.sh"
        bus_start || { fail "private bus"; exit 1; }
        idp_start "$TEST_DIR/idp" "$@" || { fail "fake IdP start"; exit 1; }
        {
                printf '[idp]\nissuer = %s\nclient_id = devflow-test\nca_file = %s\n' "$(idp_issuer)" "$IDP_CA"
                [ -z "$extra" ] || cat
        } >"$TEST_DIR/devflowd.conf"
        daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd start"; exit 1; }
}

daemon_alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }
# cpu_ticks PID: user + system CPU time of PID, in clock ticks (getconf CLK_TCK per second).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# tcp_fds PID: "FD FLAGS" for each TCP socket PID holds (FLAGS as in /proc/PID/fdinfo: octal).
tcp_fds() {
        local inodes fd link
        inodes=" $(awk 'FNR > 1 { printf "%s ", $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)"
        for fd in /proc/"$1"/fd/*; do
                link=$(readlink "$fd") || continue
                case $link in "socket:["*"]") ;; *) continue ;; esac
                link=${link#socket:[}
                case $inodes in *" ${link%]} "*) ;; *) continue ;; esac
                echo "${fd##*/} $(awk '/^flags:/ { print $2 }' "/proc/$1/fdinfo/${fd##*/}")"
        done
}

# daemon_stop: SIGTERM, wait, and report ASan findings (a sanitizer report is a failure).
daemon_stop() {
        [ -n "${DAEMON_PID:-}" ] || return 0
        kill -TERM "$DAEMON_PID" 2>/dev/null
        wait_for 10 sh -c "! kill -0 $DAEMON_PID"
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_RC=$?
        DAEMON_PID=
        return 0
}

# asan_clean: no AddressSanitizer/LeakSanitizer/UBSan report was written by any daemon of this test.
asan_clean() {
        if ls "$TEST_DIR"/asan* >/dev/null 2>&1; then
                cat "$TEST_DIR"/asan* | head -60
                return 1
        fi
        ! grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$TEST_DIR/devflowd.log" 2>/dev/null
}

show_daemon_log() {
        echo "---- devflowd log ----"
        tail -n 120 "$TEST_DIR/devflowd.log" 2>/dev/null
}

# ---- local accounts -----------------------------------------------------------------------------
# ensure_user NAME: creates a system account without home unless it exists; removed at the end.
ensure_user() {
        if ! getent passwd "$1" >/dev/null; then
                useradd --no-create-home --shell /bin/bash "$1" || return 1
                T_USERS+=("$1")
        fi
}

# ---- pam_wrapper --------------------------------------------------------------------------------
PAM_WRAPPER_LIB=$(ls /usr/lib/*/libpam_wrapper.so 2>/dev/null | head -1)

# pam_service NAME "module arguments": writes a pam_wrapper service dir with an auth stack of
# pam_devflow alone.
pam_service() {
        local name=$1 args=${2:-}
        PAM_DIR=$TEST_DIR/pam.d
        mkdir -p "$PAM_DIR"
        printf '# %s\nauth required %s %s\naccount required pam_permit.so\n' "$TEST_DIR" "$PAM_MODULE" "$args" \
                >"$PAM_DIR/$name"
}

# pamtester_run SERVICE USER [pamtester -I item=value ...]: authenticate through pam_wrapper; stdin is
# the conversation's input. Output in $TEST_DIR/pamtester.out; returns pamtester's status.
pamtester_run() {
        local service=$1 user=$2; shift 2
        # Unbuffered, so a test sees the code while pamtester still waits (stdbuf keeps LD_PRELOAD).
        LD_PRELOAD=$PAM_WRAPPER_LIB PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$PAM_DIR \
                stdbuf -o0 -e0 pamtester -v "$@" "$service" "$user" authenticate
}

# pam_login USER RHOST APPROVER...: authenticates USER through the devflow-test service (pam_service) with
# pamtester in the background, waits for the code it shows, runs "APPROVER... CODE", and waits for the
# verdict. Leaves pamtester's status in RC, its output in OUT (file: OUT_FILE) and the code in CODE. When no
# code appears, pamtester's own status is kept if it ended by itself (StartLogin refused), else it is
# stopped and RC=99.
pam_login() {
        local user=$1 rhost=$2 pid i
        shift 2
        OUT_FILE=$TEST_DIR/pamtester-$RANDOM.out
        : >"$OUT_FILE"
        pamtester_run devflow-test "$user" -I rhost="$rhost" -I tty=ssh </dev/null >"$OUT_FILE" 2>&1 &
        pid=$!
        CODE=
        for i in $(seq 100); do
                CODE=$(grep -oE '[A-Z0-9]{4}-[A-Z0-9]{4}' "$OUT_FILE" | head -1)
                [ -n "$CODE" ] && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        if [ -z "$CODE" ] && kill -0 "$pid" 2>/dev/null; then
                echo "no code shown:"; cat "$OUT_FILE"
                kill "$pid" 2>/dev/null; wait "$pid"; RC=99; OUT=$(cat "$OUT_FILE")
                return
        fi
        if [ -n "$CODE" ]; then
                "$@" "$CODE" || echo "approval of $CODE failed"
        fi
        wait "$pid"
        RC=$?
        OUT=$(cat "$OUT_FILE")
}

# unpriv_copy PROGRAM: prints the path of a copy of PROGRAM in the test dir (world-readable), for a
# helper that runs as an unprivileged user: the clone may live where only root can enter (/root).
unpriv_copy() {
        local dir=$TEST_DIR/bin
        mkdir -p "$dir" && chmod 0755 "$dir" && install -m 0755 "$1" "$dir/" && echo "$dir/${1##*/}"
}

# need_module_stack: ends the test unless the daemon, the module, pam_wrapper and pamtester are there
# (a missing build is a failure, a missing package a skip).
need_module_stack() {
        [ -x "$DEVFLOWD" ] || { fail "devflowd not built ($DEVFLOWD)"; exit 1; }
        [ -f "$PAM_MODULE" ] || { fail "pam module not built ($PAM_MODULE)"; exit 1; }
        [ -n "$PAM_WRAPPER_LIB" ] || { skip "all (libpam_wrapper not installed)"; exit 0; }
        command -v pamtester >/dev/null || { skip "all (pamtester not installed)"; exit 0; }
}

# need_flowclient: sets FLOWCLIENT (tests/tools/flowclient, one bus connection per flow, a copy any user
# can run), building it if needed; fails the test when it or the daemon is missing.
need_flowclient() {
        FLOWCLIENT=${FLOWCLIENT:-$TOP/build/asan/tool-flowclient}
        [ -x "$FLOWCLIENT" ] || make -s -C "$TOP" build/asan/tool-flowclient >/dev/null 2>&1
        [ -x "$FLOWCLIENT" ] || { fail "flowclient not built"; exit 1; }
        [ -x "$DEVFLOWD" ] || { fail "devflowd not built ($DEVFLOWD)"; exit 1; }
        # Tests run it as other users too.
        FLOWCLIENT=$(unpriv_copy "$FLOWCLIENT") || { fail "cannot copy flowclient to $TEST_DIR"; exit 1; }
}
