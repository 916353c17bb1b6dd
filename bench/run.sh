#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make bench: the release daemon and module against the fake IdP on loopback, on a private bus.
# Prints a table (median, min, max over repeated runs, the goal, OK/MISSED) and writes
# bench/results/latest.json. Method, goals, knobs and latest numbers: bench/README.md.
#
# Environment (README's table has the defaults): BENCH_ONLY (sections: idle latency op capacity admission
# throughput churn overload), BENCH_QUICK=1 (a fast pass: fewer runs, smaller sizes), BENCH_STRICT=1 (exit
# 1 when a goal is MISSED), BENCH_CAP_RUNS, BENCH_CAP_SIZES, BENCH_CAP_BIG, BENCH_CAP_BIG_INTERVAL, BENCH_ADM_HELD,
# BENCH_ADM_SECONDS, BENCH_CHURN, BENCH_CHURN_STEP, BENCH_CHURN_PLATEAU, BENCH_CHURN_SECONDS,
# BENCH_OVL_FLOWS, BENCH_OVL_SECONDS, BENCH_OVL_RATE, BENCH_OVL_SPINNERS, BENCH_IDLE_SECONDS, BENCH_PERF=1.
export DEVFLOWD=${DEVFLOWD:-$(cd "$(dirname "$0")/.." && pwd)/devflowd/devflowd}
. "$(dirname "$0")/../tests/lib.sh"
. "$TOP/tests/idp/idp.sh"
. "$TOP/tests/op/op.sh"
set +e

ONLY=${BENCH_ONLY:-idle latency op capacity admission throughput churn overload}
QUICK=${BENCH_QUICK:-0}
q() { if [ "$QUICK" = 1 ]; then echo "$2"; else echo "$1"; fi; }     # q FULL QUICK: the size for this pass
CAP_RUNS=${BENCH_CAP_RUNS:-$(q 2 1)}
CAP_BIG=${BENCH_CAP_BIG:-$(q 100000 0)}
CAP_SIZES=${BENCH_CAP_SIZES:-1000 10000}
CAP_BIG_INTERVAL=${BENCH_CAP_BIG_INTERVAL:-60}
ADM_HELD=${BENCH_ADM_HELD:-$(q 50000 5000)}
ADM_SECONDS=${BENCH_ADM_SECONDS:-$(q 20 5)}
CHURN=${BENCH_CHURN:-$(q 1000000 20000)}
CHURN_STEP=${BENCH_CHURN_STEP:-$((CHURN / 10))}
CHURN_PLATEAU=${BENCH_CHURN_PLATEAU:-$((CHURN / 5))}
CHURN_SECONDS=${BENCH_CHURN_SECONDS:-1800}
OVL_FLOWS=${BENCH_OVL_FLOWS:-$(q 5000 1000)}
OVL_SECONDS=${BENCH_OVL_SECONDS:-$(q 60 20)}
OVL_RATE=${BENCH_OVL_RATE:-20}
OVL_SPINNERS=${BENCH_OVL_SPINNERS:-$(nproc)}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-$(q 30 10)}
RES=$TOP/bench/results
mkdir -p "$RES"
SAMPLES=$TEST_DIR/samples.txt
META=$TEST_DIR/meta.txt
: >"$SAMPLES"
BUSER=dfbench

say() { echo "bench: $*" >&2; }
sample() { echo "$1 $2" >>"$SAMPLES"; }
meta() { echo "$1 $2" >>"$META"; }
want() { [[ " $ONLY " == *" $1 "* ]]; }
now_ms() { date +%s%3N; }
# nap SECONDS: sleep in the background and wait, so that a signal's trap runs at once (and stops the sleep)
NAP_PID=
nap() { sleep "$1" & NAP_PID=$!; wait "$NAP_PID"; NAP_PID=; }
bench_exit() { [ -n "$NAP_PID" ] && kill "$NAP_PID" 2>/dev/null; t_cleanup; }
trap bench_exit EXIT
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
ctxt_switches() {       # of every thread: each switch is a wakeup
        cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
# kv FILE KEY: the value of the "KEY value" line of a flood or analyze.py output (empty when none)
kv() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
# section NAME: starts timing a section; the previous one's duration goes to the meta file
SECTION= SECTION_T0=
section() {
        [ -n "$SECTION" ] && meta "section_$SECTION" "$(( $(date +%s) - SECTION_T0 ))"
        SECTION=$1 SECTION_T0=$(date +%s)
        [ -n "$1" ] && say "section $1"
}

make --no-print-directory -C "$TOP" build/bench/pam-bench build/bench/flood >&2 || { echo "bench: build failed"; exit 1; }
PAMBENCH=$TOP/build/bench/pam-bench
FLOOD=$TOP/build/bench/flood
[ -x "$DEVFLOWD" ] && [ -f "$PAM_MODULE" ] || { echo "bench: run 'make' first"; exit 1; }

meta nproc "$(nproc)"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
meta kernel "$(uname -r)"
meta mem_kib "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
meta commit "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)"
meta date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta daemon "$DEVFLOWD (release build)"
meta idp "tests/idp/fake-idp.js on 127.0.0.1 over TLS (node $(node --version))"
meta quick "$QUICK"
meta cap_big "$CAP_BIG"
meta cap_big_interval "$CAP_BIG_INTERVAL"
meta adm_held "$ADM_HELD"
meta churn_target "$CHURN"
meta ovl_flows "$OVL_FLOWS"
meta ovl_spinners "$OVL_SPINNERS"

bus_start || { echo "bench: private bus failed"; exit 1; }
idp_start "$TEST_DIR/idp" --interval 1 || { echo "bench: fake IdP failed"; exit 1; }
ensure_user "$BUSER" || { echo "bench: cannot create user $BUSER"; exit 1; }

# Bench-only config: limits far above the defaults (256 flows, 3 per user, 5 per rhost, 10 new per rhost
# per minute) so the capacity runs measure the daemon, not its limits.
# bench_limits [MAX_FLOWS]: the [limits] section of every bench config.
bench_limits() {
        cat <<EOF
[limits]
max_flows = ${1:-1000000}
max_flows_per_user = 1000000
max_flows_per_user_per_rhost = 1000000
max_flows_per_rhost = 1000000
max_new_flows_per_rhost_per_minute = 10000000
max_login_time = 3600
EOF
}

write_conf() {
        {
                printf '[idp]\nissuer = %s\nclient_id = devflow-test\nca_file = %s\n' "$(idp_issuer)" "$IDP_CA"
                printf '[login]\nusername_claim = preferred_username\n'
                bench_limits "${1:-}"
        } >"$TEST_DIR/devflowd.conf"
}

# The release daemon without --debug (lib.sh's daemon_start adds it; debug lines would cost per poll).
bench_daemon_start() {
        DAEMON_LOG=$TEST_DIR/devflowd.log
        "$DEVFLOWD" --config "$TEST_DIR/devflowd.conf" >>"$DAEMON_LOG" 2>&1 &
        DAEMON_PID=$!
        t_track "$DAEMON_PID"
        wait_for 20 bus_has_name net.devflow.Devflow1 || { echo "bench: devflowd did not start"; tail "$DAEMON_LOG"; exit 1; }
}
# Stops the daemon; a daemon that had already exited (lost the bus, crashed) is a figure of its own.
bench_daemon_stop() {
        if [ -n "${DAEMON_PID:-}" ] && ! daemon_alive; then
                sample daemon_lost 1
                say "devflowd had exited by itself: $(grep -v 'audit: ' "$DAEMON_LOG" | tail -n 2 | tr '\n' ' ')"
        elif [ -n "${DAEMON_PID:-}" ]; then
                sample daemon_lost 0
        fi
        daemon_stop
        wait_for 10 sh -c '! dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:net.devflow.Devflow1 | grep -q "boolean true"'
}

idp_set() { idp_ctl config "$1" >/dev/null; }
# idp_fresh INTERVAL: the fake IdP forgets its flows and its request log; codes last an hour (a big run's
# first flows must not expire while it fills)
idp_fresh() { idp_ctl reset '{}' >/dev/null; idp_set "{\"interval\":$1,\"expires_in\":3600}"; }

PAMCONF=$TEST_DIR/pamconf
mkdir -p "$PAMCONF"
printf 'auth required %s prompt=enter qr=ascii timeout=120\naccount required pam_permit.so\n' "$PAM_MODULE" \
        >"$PAMCONF/devflow-bench"
printf 'auth required %s prompt=none qr=ascii timeout=120\naccount required pam_permit.so\n' "$PAM_MODULE" \
        >"$PAMCONF/devflow-bench-none"
pb() { "$PAMBENCH" "$1" --confdir "$PAMCONF" --user "$BUSER" --idp "$IDP_URL" --ca "$IDP_CA" "${@:2}"; }

# One IdP round trip as the daemon makes it: POST to the device authorization endpoint over a kept-alive
# TLS connection. curl with the URL N times reuses its connection; the first transfer includes the
# handshake.
measure_rtt() {
        local ep n=${1:-20} args=() i
        ep=$(idp_ctl config | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
                const c=JSON.parse(s); console.log(process.argv[1] + c.issuer_path.replace(/\/$/,"") + "/device_authorization")})' "$IDP_URL")
        # --next resets the options: repeat them for every transfer (the connection is still reused).
        for ((i = 0; i <= n; i++)); do
                [ "$i" -gt 0 ] && args+=(--next)
                args+=(-s -o /dev/null --cacert "$IDP_CA" -w '%{time_total}\n' --data client_id=devflow-test "$ep")
        done
        curl "${args[@]}" >"$TEST_DIR/rtt.txt"
        head -1 "$TEST_DIR/rtt.txt" | awk '{ printf "rtt_handshake_ms %.3f\n", $1 * 1000 }' >>"$SAMPLES"
        tail -n +2 "$TEST_DIR/rtt.txt" | sort -n | awk '{ a[NR] = $1 } END { printf "rtt_ms %.3f\n", a[int((NR + 1) / 2)] * 1000 }' >>"$SAMPLES"
}

collect() {     # collect FIGURE < pam-bench output (MODE MS RC ROUNDS)
        local fig=$1 mode ms rc rounds
        while read -r mode ms rc rounds; do
                sample "$fig" "$ms"
                echo "$fig $ms rc=$rc rounds=$rounds" >>"$TEST_DIR/pam-samples.txt"
                # first-prompt fails the conversation on purpose (PAM_CONV_ERR): only approvals must succeed
                [ "$rc" = 0 ] || [ "$mode" = first-prompt ] || echo "$fig rc=$rc" >>"$TEST_DIR/pam-not-success.txt"
        done
}

# ---- g: idle ----------------------------------------------------------------------------------
# A fresh daemon that never had a flow: its RSS, and its CPU and context switches (every thread's, i.e.
# wakeups) over IDLE_SECONDS, from 2 s after it took its bus name (discovery fetched at start is done).
if want idle; then
        section idle
        write_conf
        bench_daemon_start
        sleep 2
        c0=$(cpu_ticks "$DAEMON_PID"); w0=$(ctxt_switches "$DAEMON_PID"); t0=$(now_ms)
        nap "$IDLE_SECONDS"
        c1=$(cpu_ticks "$DAEMON_PID"); w1=$(ctxt_switches "$DAEMON_PID"); t1=$(now_ms)
        sample idle_rss_kib "$(rss_kib "$DAEMON_PID")"
        awk -v c="$((c1 - c0))" -v w="$((w1 - w0))" -v hz="$(getconf CLK_TCK)" -v ms="$((t1 - t0))" 'BEGIN {
                printf "idle_cpu_pct %.3f\nidle_wakeups_per_s %.2f\n", 100 * c / hz / (ms / 1000), w / (ms / 1000) }' >>"$SAMPLES"
        say "idle: rss $(rss_kib "$DAEMON_PID") KiB, $((c1 - c0)) ticks, $((w1 - w0)) context switches in $((t1 - t0)) ms"
        bench_daemon_stop
fi

# ---- 1, 2: latency ----------------------------------------------------------------------------
if want latency; then
        section latency
        write_conf
        reps_cold=5 reps_warm=20 reps_i1=10 reps_i5=4
        [ "$QUICK" = 1 ] && reps_cold=2 reps_warm=5 reps_i1=3 reps_i5=1
        for ((i = 0; i < reps_cold; i++)); do
                bench_daemon_start
                pb first-prompt --count 1 | collect first_prompt_cold_ms
                [ "$i" -eq 0 ] && { pb first-prompt --count "$reps_warm" | collect first_prompt_warm_ms; }
                bench_daemon_stop
        done
        say "first prompt done"
        bench_daemon_start
        measure_rtt 30
        for iv in 1 5; do
                idp_set "{\"interval\":$iv}"
                n=$reps_i1; [ "$iv" = 5 ] && n=$reps_i5
                pb first-prompt --count 2 >/dev/null      # warm
                pb approve-enter --service devflow-bench --interval "$iv" --count "$n" | collect "approve_enter_i${iv}_ms"
                pb approve-none --service devflow-bench-none --interval "$iv" --count "$n" | collect "approve_none_i${iv}_ms"
                say "approval with interval $iv done"
        done
        measure_rtt 30
        bench_daemon_stop
        idp_set '{"interval":1}'
fi

# ---- 1b: the same first prompt against the real oidc-provider ---------------------------------------
# Its approval goes through its own web pages (tests/op/approve.js), which have no moment "the IdP marked
# the code approved" to time from, so only the first prompt and the round trip are measured here.
if want op && op_node_ok; then
        section op
        op_start "$TEST_DIR/op" || { echo "bench: oidc-provider failed"; exit 1; }
        # The bench's limits here too: the 5 + 20 first prompts come from one rhost within a minute.
        {
                printf '[idp]\nissuer = %s\nclient_id = devflow-public\nca_file = %s\n' "$OP_URL" "$OP_CA"
                bench_limits
        } >"$TEST_DIR/devflowd.conf"
        reps_cold=5 reps_warm=20
        [ "$QUICK" = 1 ] && reps_cold=2 reps_warm=5
        for ((i = 0; i < reps_cold; i++)); do
                bench_daemon_start
                pb first-prompt --count 1 | collect op_first_prompt_cold_ms
                [ "$i" -eq 0 ] && { pb first-prompt --count "$reps_warm" | collect op_first_prompt_warm_ms; }
                bench_daemon_stop
        done
        args=()
        for ((i = 0; i <= 30; i++)); do
                [ "$i" -gt 0 ] && args+=(--next)
                args+=(-s -o /dev/null --cacert "$OP_CA" -w '%{time_total}\n' --data client_id=devflow-public
                       --data scope=openid "$OP_URL/device/auth")
        done
        curl "${args[@]}" | tail -n +2 | sort -n |
                awk '{ a[NR] = $1 } END { printf "op_rtt_ms %.3f\n", a[int((NR + 1) / 2)] * 1000 }' >>"$SAMPLES"
        kill "$OP_PID" 2>/dev/null
        meta op "oidc-provider on 127.0.0.1 over TLS"
        say "oidc-provider first prompt done"
        write_conf
fi

# ---- 3: capacity --------------------------------------------------------------------------------
# cap_run N PREFIX [INTERVAL]: N pending flows polling every INTERVAL s (5); RSS per flow once every flow
# polled, then CPU over 30 s and the polling accuracy and early polls of that window.
cap_run() {
        local n=$1 p=$2 iv=${3:-5} rss0 rss1 c0 c1 i0 i1 t0 t1 out fpid polls
        idp_fresh "$iv"
        write_conf
        bench_daemon_start
        "$FLOOD" --user "$BUSER" --count 20 --cancel-after 0 >/dev/null      # warm: discovery, TLS
        sleep 1
        rss0=$(rss_kib "$DAEMON_PID")
        out=$TEST_DIR/flood-$p.out
        "$FLOOD" --user "$BUSER" --count "$n" --concurrency 128 --hold >"$out" 2>&1 &
        fpid=$!
        t_track "$fpid"
        wait_for 1200 grep -q '^ready' "$out" || { say "flood $n did not finish"; }
        sed -n 's/^started /'"$p"'_held /p; s/^rate_per_s /'"$p"'_start_rate /p' "$out" >>"$SAMPLES"
        grep '^error' "$out" >&2
        nap "$((iv + 1))"       # every flow polls once, the allocator settles
        if ! daemon_alive; then
                kill -TERM "$fpid"; wait "$fpid" 2>/dev/null
                bench_daemon_stop
                return
        fi
        rss1=$(rss_kib "$DAEMON_PID")
        awk -v a="$rss0" -v b="$rss1" -v n="$n" -v p="$p" 'BEGIN { printf "%s_rss_per_flow_kib %.3f\n", p, (b - a) / n }' >>"$SAMPLES"
        t0=$(now_ms); c0=$(cpu_ticks "$DAEMON_PID"); i0=$(cpu_ticks "$IDP_PID")
        if [ -n "${BENCH_PERF:-}" ] && [ "$p" = cap10k ]; then
                # BENCH_PERF=1: profile the daemon in this window (perf adds a little CPU of its own)
                perf record -q -g -o "$RES/perf-$p.data" -p "$DAEMON_PID" -- sleep 30 >/dev/null 2>&1
        else
                nap 30
        fi
        t1=$(now_ms); c1=$(cpu_ticks "$DAEMON_PID"); i1=$(cpu_ticks "$IDP_PID")
        python3 "$TOP/bench/analyze.py" polls "$IDP_DIR/requests.jsonl" "$t0" "$t1" >"$TEST_DIR/polls-$p.txt"
        polls=$(kv "$TEST_DIR/polls-$p.txt" polls)
        sed -n 's/^acc_p50_ms /'"$p"'_acc_p50_ms /p; s/^acc_p99_ms /'"$p"'_acc_p99_ms /p; s/^too_early /'"$p"'_early_polls /p' \
                "$TEST_DIR/polls-$p.txt" >>"$SAMPLES"
        awk -v c="$((c1 - c0))" -v i="$((i1 - i0))" -v hz="$(getconf CLK_TCK)" -v ms="$((t1 - t0))" -v polls="$polls" -v p="$p" 'BEGIN {
                s = ms / 1000
                printf "%s_cpu_pct %.3f\n%s_idp_cpu_pct %.3f\n%s_polls_per_s %.1f\n", p, 100 * c / hz / s, p, 100 * i / hz / s, p, polls / s
                if (polls > 0) printf "%s_cpu_us_per_poll %.2f\n", p, 1e6 * c / hz / polls }' >>"$SAMPLES"
        say "capacity $n (interval $iv): rss $rss0 -> $rss1 KiB, $(tr '\n' ' ' <"$TEST_DIR/polls-$p.txt")"
        kill -TERM "$fpid"; wait "$fpid" 2>/dev/null
        bench_daemon_stop
}

if want capacity; then
        section capacity
        for ((r = 0; r < CAP_RUNS; r++)); do
                for n in $CAP_SIZES; do
                        case $n in
                        1000) cap_run 1000 cap1k ;;
                        10000) cap_run 10000 cap10k ;;
                        *) say "BENCH_CAP_SIZES: $n is not 1000 or 10000" ;;
                        esac
                done
        done
        # b: the big run, once. Its interval keeps the polls near the 10,000-flow run's rate (100,000 flows
        # every 5 s would be 20,000 polls/s: the fake IdP's core, not the daemon, would be measured).
        [ "$CAP_BIG" -gt 0 ] && cap_run "$CAP_BIG" capbig "$CAP_BIG_INTERVAL"
        idp_ctl reset '{}' >/dev/null
        idp_set '{"interval":1}'
fi

# ---- a: admission in O(1) ---------------------------------------------------------------------------
# The start + Cancel rate for ADM_SECONDS with no pending flow, then with ADM_HELD pending flows (on-demand:
# they make no background polls, so only what StartLogin costs per flow already kept is measured), then
# with none again (the machine's drift). All flows are the same user's from the same rhost: the worst case
# for any per-user or per-rhost count.
adm_churn() {   # adm_churn NAME: one timed start + Cancel run
        "$FLOOD" --user "$BUSER" --count 100000000 --concurrency 128 --cancel-after 0 --max-seconds "$ADM_SECONDS" \
                >"$TEST_DIR/adm-$1.out" 2>&1
        say "admission $1: $(tr '\n' ' ' <"$TEST_DIR/adm-$1.out")"
        kv "$TEST_DIR/adm-$1.out" rate_per_s
}
if want admission; then
        section admission
        idp_fresh 5
        write_conf
        bench_daemon_start
        "$FLOOD" --user "$BUSER" --count 1000 --concurrency 128 --cancel-after 0 >/dev/null     # warm
        r0=$(adm_churn none)
        out=$TEST_DIR/adm-fill.out
        "$FLOOD" --user "$BUSER" --count "$ADM_HELD" --concurrency 128 --poll on-demand --hold >"$out" 2>&1 &
        fpid=$!
        t_track "$fpid"
        wait_for 1200 grep -q '^ready' "$out" || say "flood $ADM_HELD did not finish"
        sample adm_held "$(kv "$out" started)"
        say "admission fill: $(tr '\n' ' ' <"$out")"
        r1=$(adm_churn held)
        kill -TERM "$fpid"; wait "$fpid" 2>/dev/null
        nap 5           # the daemon cancels the held flows of the closed connection
        r2=$(adm_churn none-again)
        sample adm_rate_none_per_s "$r0"
        sample adm_rate_none_per_s "$r2"
        sample adm_rate_held_per_s "$r1"
        awk -v a="$r0" -v b="$r1" -v c="$r2" 'BEGIN { if (a + c > 0) printf "adm_ratio_pct %.1f\n", 100 * b / ((a + c) / 2) }' >>"$SAMPLES"
        bench_daemon_stop
fi

# ---- 4: throughput ------------------------------------------------------------------------------
if want throughput; then
        section throughput
        idp_ctl reset '{}' >/dev/null
        idp_set '{"interval":5}'
        runs=3; [ "$QUICK" = 1 ] && runs=1
        for ((r = 0; r < runs; r++)); do
                write_conf 3000
                bench_daemon_start
                "$FLOOD" --user "$BUSER" --count 20 --cancel-after 0 >/dev/null     # warm
                "$FLOOD" --user "$BUSER" --count 4000 --concurrency 128 --stop-at-limit >"$TEST_DIR/tp.out" 2>&1
                sed -n 's/^rate_per_s /throughput_per_s /p' "$TEST_DIR/tp.out" >>"$SAMPLES"
                say "throughput: $(tr '\n' ' ' <"$TEST_DIR/tp.out")"
                bench_daemon_stop
                idp_ctl reset '{}' >/dev/null
                idp_set '{"interval":5}'
        done
fi

# ---- e: churn: memory flat over completed flows ---------------------------------------------------
# start + Cancel, CHURN flows in steps of CHURN_STEP (one bus connection each); RSS after each step. The
# slope of RSS over completed flows from CHURN_PLATEAU on (least squares) is the growth; flows that
# linger would add a constant, not a slope. The whole run stops starting flows after CHURN_SECONDS.
if want churn; then
        section churn
        idp_fresh 5
        write_conf
        bench_daemon_start
        "$FLOOD" --user "$BUSER" --count 1000 --concurrency 64 --cancel-after 0 >"$TEST_DIR/churn1k.out"
        sleep 2
        sample rss_after_1k_kib "$(rss_kib "$DAEMON_PID")"
        total=1000 deadline=$(($(date +%s) + CHURN_SECONDS))
        series=$TEST_DIR/churn-series.txt
        echo "$total $(rss_kib "$DAEMON_PID")" >"$series"
        while [ "$total" -lt "$CHURN" ] && [ "$(date +%s)" -lt "$deadline" ]; do
                n=$CHURN_STEP; [ $((total + n)) -gt "$CHURN" ] && n=$((CHURN - total))
                "$FLOOD" --user "$BUSER" --count "$n" --concurrency 128 --cancel-after 0 \
                        --max-seconds "$((deadline - $(date +%s)))" >"$TEST_DIR/churn-step.out"
                total=$((total + $(kv "$TEST_DIR/churn-step.out" started)))
                idp_fresh 5     # the step's flows are gone: keep the fake IdP's memory and log small
                sed -n 's/^rate_per_s /churn_rate_per_s /p' "$TEST_DIR/churn-step.out" >>"$SAMPLES"
                sleep 1
                echo "$total $(rss_kib "$DAEMON_PID")" >>"$series"
                say "churn: $total flows, rss $(rss_kib "$DAEMON_PID") KiB, $(kv "$TEST_DIR/churn-step.out" rate_per_s)/s"
        done
        sample churn_flows "$total"
        python3 "$TOP/bench/analyze.py" growth "$series" "$CHURN_PLATEAU" >"$TEST_DIR/growth.txt"
        sed -n 's/^growth_kib_per_100k /churn_growth_kib_per_100k /p; s/^plateau_rss_kib /churn_rss_plateau_kib /p;
                s/^end_rss_kib /churn_rss_end_kib /p' "$TEST_DIR/growth.txt" >>"$SAMPLES"
        cp "$series" "$RES/churn-series.txt"
        nap 32          # a finished flow that lingers is gone after 30 s
        sample churn_rss_linger_kib "$(rss_kib "$DAEMON_PID")"
        say "churn: $(tr '\n' ' ' <"$TEST_DIR/growth.txt"), 32 s later $(rss_kib "$DAEMON_PID") KiB"
        bench_daemon_stop
fi

# ---- f: overload --------------------------------------------------------------------------------
# OVL_FLOWS pending flows polling every 5 s; then for OVL_SECONDS one busy loop per core (OVL_SPINNERS, at the
# daemon's own priority) while new StartLogin calls arrive at OVL_RATE per second (each flow cancelled 10 s
# after its answer, as a user who gives up). Answers by kind and their time; early polls from the load's
# start until 2 intervals after its end; accuracy in a 20 s window from 10 s after the load; StartLogin
# after it.
SPIN_PIDS=()
spin_start() {
        local i
        for ((i = 0; i < $1; i++)); do
                sh -c 'while :; do :; done' &
                t_track $!
                SPIN_PIDS+=($!)
        done
}
spin_stop() {
        [ "${#SPIN_PIDS[@]}" -gt 0 ] || return 0
        kill -TERM "${SPIN_PIDS[@]}" 2>/dev/null
        wait "${SPIN_PIDS[@]}" 2>/dev/null
        SPIN_PIDS=()
}
if want overload; then
        section overload
        idp_fresh 5
        write_conf
        bench_daemon_start
        "$FLOOD" --user "$BUSER" --count 20 --cancel-after 0 >/dev/null      # warm
        out=$TEST_DIR/ovl-fill.out
        "$FLOOD" --user "$BUSER" --count "$OVL_FLOWS" --concurrency 128 --hold >"$out" 2>&1 &
        fpid=$!
        t_track "$fpid"
        wait_for 600 grep -q '^ready' "$out" || say "flood $OVL_FLOWS did not finish"
        sample ovl_held "$(kv "$out" started)"
        nap 6
        t0=$(now_ms)
        nap 15
        t1=$(now_ms)
        python3 "$TOP/bench/analyze.py" polls "$IDP_DIR/requests.jsonl" "$t0" "$t1" >"$TEST_DIR/ovl-before.txt"
        sample ovl_before_acc_p99_ms "$(kv "$TEST_DIR/ovl-before.txt" acc_p99_ms)"

        l0=$(now_ms)
        spin_start "$OVL_SPINNERS"
        "$FLOOD" --user "$BUSER" --count 100000000 --concurrency 100000 --rate "$OVL_RATE" --cancel-after 10 \
                --max-seconds "$OVL_SECONDS" >"$TEST_DIR/ovl-load.out" 2>&1 &
        lpid=$!
        t_track "$lpid"
        nap "$OVL_SECONDS"
        spin_stop
        l1=$(now_ms)
        nap 10
        r0=$(now_ms)
        nap 20
        r1=$(now_ms)
        wait "$lpid"    # its last calls' answers, and the Cancel 10 s after each (done by now)
        o=$TEST_DIR/ovl-load.out
        say "overload: $(tr '\n' ' ' <"$o")"
        awk -v p=ovl_start_ '
                $1 == "started" { ok = $2 } $1 == "failed" { failed = $2 }
                $1 == "error" && ($2 ~ /TooManyFlows$/ || $2 ~ /RateLimited$/) { lim += $3 }
                $1 == "error" && ($2 ~ /NoReply$/ || $2 ~ /Timeout$/) { tmo += $3 }
                END { printf "%scalls %d\n%sok %d\n%slimited %d\n%stimeout %d\n%sother %d\n", p, ok + failed, p, ok,
                        p, lim, p, tmo, p, failed - lim - tmo }' "$o" >>"$SAMPLES"
        sed -n 's/^answer_p50_ms /ovl_start_p50_ms /p; s/^answer_p99_ms /ovl_start_p99_ms /p' "$o" >>"$SAMPLES"
        A=$TOP/bench/analyze.py J=$IDP_DIR/requests.jsonl
        python3 "$A" polls "$J" "$l0" "$l1" >"$TEST_DIR/ovl-during.txt"
        python3 "$A" polls "$J" "$l0" "$((l1 + 10000))" >"$TEST_DIR/ovl-early.txt"
        python3 "$A" polls "$J" "$r0" "$r1" >"$TEST_DIR/ovl-after.txt"
        python3 "$A" recovery "$J" "$l1" "$r1" 50 >"$TEST_DIR/ovl-recovery.txt"
        sample ovl_during_acc_p99_ms "$(kv "$TEST_DIR/ovl-during.txt" acc_p99_ms)"
        sample ovl_early_polls "$(kv "$TEST_DIR/ovl-early.txt" too_early)"
        sample ovl_after_acc_p99_ms "$(kv "$TEST_DIR/ovl-after.txt" acc_p99_ms)"
        sample ovl_after_flows "$(kv "$TEST_DIR/ovl-after.txt" flows)"
        sample ovl_recovery_s "$(kv "$TEST_DIR/ovl-recovery.txt" recovery_s)"
        say "overload: during $(tr '\n' ' ' <"$TEST_DIR/ovl-during.txt"); after $(tr '\n' ' ' <"$TEST_DIR/ovl-after.txt"); $(cat "$TEST_DIR/ovl-recovery.txt")"
        "$FLOOD" --user "$BUSER" --count 100 --concurrency 16 --cancel-after 0 >"$TEST_DIR/ovl-after-start.out" 2>&1
        sample ovl_after_started "$(kv "$TEST_DIR/ovl-after-start.out" started)"
        sed -n 's/^answer_p99_ms /ovl_after_p99_ms /p' "$TEST_DIR/ovl-after-start.out" >>"$SAMPLES"
        kill -TERM "$fpid"; wait "$fpid" 2>/dev/null
        bench_daemon_stop
fi
section ""

[ -s "$TEST_DIR/pam-not-success.txt" ] && meta pam_not_success "$(sort "$TEST_DIR/pam-not-success.txt" | uniq -c | tr -s ' \n' ' ')"
python3 "$TOP/bench/analyze.py" report "$SAMPLES" "$META" "$RES/latest.json"
missed=$?
cp "$SAMPLES" "$RES/samples.txt"
[ -f "$TEST_DIR/pam-samples.txt" ] && cp "$TEST_DIR/pam-samples.txt" "$RES/pam-samples.txt"
if [ -s "$TEST_DIR/pam-not-success.txt" ]; then
        echo "note: some logins did not end in PAM_SUCCESS (latency still measured):"
        sort "$TEST_DIR/pam-not-success.txt" | uniq -c
fi
[ "${BENCH_STRICT:-0}" = 1 ] && [ "$missed" -ne 0 ] && exit 1
exit 0
