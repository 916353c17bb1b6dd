#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for bench/run.sh (no third-party modules).
#
#   analyze.py polls REQUESTS_JSONL FROM_MS TO_MS
#       token-endpoint polls that arrived in [FROM_MS, TO_MS) (the fake IdP's clock, ms): prints
#       "polls N", "flows N" and the polling accuracy, i.e. the spacing of consecutive polls of one
#       device_code minus the interval the IdP asked for: "acc_p50_ms X", "acc_p99_ms X", "acc_max_ms X",
#       "acc_min_ms X", plus "too_early N".
#   analyze.py recovery REQUESTS_JSONL FROM_MS TO_MS LIMIT_MS
#       the same polls in 1 s bins of arrival time: "recovery_s X", the seconds from FROM_MS to the start of
#       the first bin from which on every bin's accuracy p99 is below LIMIT_MS (TO_MS - FROM_MS when none).
#   analyze.py growth SERIES_FILE PLATEAU
#       SERIES_FILE: "completed_flows rss_kib" lines. The least-squares slope of RSS over the points with
#       completed_flows >= PLATEAU: "growth_kib_per_100k X", plus "plateau_rss_kib", "end_rss_kib", "points".
#   analyze.py report SAMPLES_FILE META_FILE JSON_OUT
#       SAMPLES_FILE: "figure value" lines (several per figure = repeated runs); META_FILE: "key value"
#       lines (machine, settings). Prints the table (median, min, max, n, goal, OK/MISSED) and writes JSON_OUT.
import json
import statistics
import sys


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def token_polls(path, t_from, t_to):
    """(time, user_code, too_early, accuracy_ms or None) of each device_code poll in [t_from, t_to)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("endpoint") != "token" or "device_code" not in (r.get("grant_type") or ""):
                continue
            t = r.get("time", 0)
            if t < t_from or t >= t_to:
                continue
            gap = r.get("since_prev_ms")
            iv = r.get("interval")
            acc = gap - iv * 1000.0 if gap is not None and isinstance(iv, (int, float)) else None
            yield t, r.get("user_code"), bool(r.get("too_early")), acc


def polls(path, t_from, t_to):
    n = 0
    codes = set()
    acc = []
    early = 0
    for _, code, too_early, a in token_polls(path, t_from, t_to):
        n += 1
        codes.add(code)
        early += too_early
        if a is not None:
            acc.append(a)
    print("polls", n)
    print("flows", len(codes))
    print("too_early", early)
    for name, v in (("p50", pct(acc, 50)), ("p99", pct(acc, 99)), ("max", max(acc) if acc else float("nan")),
                    ("min", min(acc) if acc else float("nan"))):
        print("acc_%s_ms %.3f" % (name, v))


def recovery(path, t_from, t_to, limit_ms):
    bins = {}
    for t, _, _, a in token_polls(path, t_from, t_to):
        if a is not None:
            bins.setdefault(int((t - t_from) // 1000), []).append(a)
    last = int((t_to - t_from) // 1000)
    rec = None
    for b in range(last):
        ok = b in bins and pct(bins[b], 99) < limit_ms
        if ok and rec is None:
            rec = b
        elif not ok and b in bins:
            rec = None
    print("recovery_s", rec if rec is not None else (t_to - t_from) / 1000.0)


def growth(path, plateau):
    pts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                pts.append((float(parts[0]), float(parts[1])))
    after = [p for p in pts if p[0] >= plateau]
    print("points", len(after))
    if len(after) < 2:
        return
    mx = statistics.fmean(p[0] for p in after)
    my = statistics.fmean(p[1] for p in after)
    sxx = sum((p[0] - mx) ** 2 for p in after)
    slope = sum((p[0] - mx) * (p[1] - my) for p in after) / sxx if sxx else float("nan")
    print("growth_kib_per_100k %.3f" % (slope * 100000))
    print("plateau_rss_kib %.0f" % after[0][1])
    print("end_rss_kib %.0f" % after[-1][1])


# A goal: (operator, threshold, judged on). The threshold is a number or a function of (data, meta) that
# returns one (None: cannot be judged, e.g. the figure it is relative to was not measured). "median": the
# median of the runs meets it; "all": every run does (counts, worst cases, guarantees).
def rel(key, plus):
    return lambda d, m: statistics.median(d[key]) + plus if d.get(key) else None


def meta_num(key, scale=1.0):
    def f(d, m):
        try:
            return float(m[key]) * scale
        except (KeyError, ValueError):
            return None
    return f


OPS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
       ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}

# ("# heading") or (key, label, unit, goal text, goal or None)
FIGURES = [
    "# g. idle (no flow since start)",
    ("idle_rss_kib", "daemon RSS, idle", "KiB", "", None),
    ("idle_cpu_pct", "daemon CPU, idle (BENCH_IDLE_SECONDS)", "% core", "< 0.1", ("<", 0.1, "all")),
    ("idle_wakeups_per_s", "daemon context switches per second, idle", "1/s", "", None),
    "# latency",
    ("rtt_ms", "IdP round trip (curl, kept-alive TLS, device endpoint)", "ms", "", None),
    ("rtt_handshake_ms", "IdP first request incl. TCP+TLS handshake", "ms", "", None),
    ("first_prompt_cold_ms", "time to first prompt, cold (daemon just started)", "ms", "", None),
    ("first_prompt_warm_ms", "time to first prompt, warm", "ms", "<= RTT + 5 ms", ("<=", rel("rtt_ms", 5), "median")),
    ("op_rtt_ms", "oidc-provider round trip (curl, kept-alive TLS)", "ms", "", None),
    ("op_first_prompt_cold_ms", "oidc-provider: first prompt, cold", "ms", "", None),
    ("op_first_prompt_warm_ms", "oidc-provider: first prompt, warm", "ms", "<= RTT + 5 ms",
     ("<=", rel("op_rtt_ms", 5), "median")),
    ("approve_enter_i1_ms", "approval -> PAM_SUCCESS, prompt=enter, interval 1", "ms", "<= RTT + 5 ms",
     ("<=", rel("rtt_ms", 5), "median")),
    ("approve_enter_i5_ms", "approval -> PAM_SUCCESS, prompt=enter, interval 5", "ms", "<= RTT + 5 ms",
     ("<=", rel("rtt_ms", 5), "median")),
    ("approve_none_i1_ms", "approval -> PAM_SUCCESS, prompt=none, interval 1", "ms", "<= 1050 ms (each)",
     ("<=", 1050, "all")),
    ("approve_none_i5_ms", "approval -> PAM_SUCCESS, prompt=none, interval 5", "ms", "<= 5050 ms (each)",
     ("<=", 5050, "all")),
    "# b, c, d. capacity: pending flows polling in the background",
    ("cap1k_held", "pending flows held (target 1,000)", "flows", "1000", ("==", 1000, "all")),
    ("cap1k_rss_per_flow_kib", "daemon RSS per pending flow (1,000)", "KiB", "< 16", ("<", 16, "all")),
    ("cap1k_acc_p50_ms", "polling accuracy p50 (1,000 flows)", "ms", "", None),
    ("cap1k_acc_p99_ms", "d. polling accuracy p99 (1,000 flows)", "ms", "< 50", ("<", 50, "all")),
    ("cap1k_early_polls", "d. early polls (spacing < interval, 1,000 flows)", "polls", "0", ("==", 0, "all")),
    ("cap10k_held", "pending flows held (target 10,000)", "flows", "10000", ("==", 10000, "all")),
    ("cap10k_start_rate", "StartLogin/s while filling to 10,000", "1/s", "", None),
    ("cap10k_rss_per_flow_kib", "daemon RSS per pending flow (10,000)", "KiB", "< 16", ("<", 16, "all")),
    ("cap10k_cpu_pct", "daemon CPU, 10,000 flows polling every 5 s (30 s)", "% core", "", None),
    ("cap10k_polls_per_s", "token polls per second in that window", "1/s", ">= 1900 (2000)",
     (">=", 1900, "all")),
    ("cap10k_cpu_us_per_poll", "c. daemon CPU per poll (10,000 flows)", "us", "<= 60", ("<=", 60, "median")),
    ("cap10k_idp_cpu_pct", "fake IdP CPU in that window", "% core", "< 100 (not the bottleneck)",
     ("<", 100, "all")),
    ("cap10k_acc_p50_ms", "polling accuracy p50 (10,000 flows)", "ms", "", None),
    ("cap10k_acc_p99_ms", "d. polling accuracy p99 (10,000 flows)", "ms", "< 50", ("<", 50, "all")),
    ("cap10k_early_polls", "d. early polls (10,000 flows)", "polls", "0", ("==", 0, "all")),
    ("capbig_held", "b. pending flows held (target BENCH_CAP_BIG)", "flows", "= target",
     ("==", meta_num("cap_big"), "all")),
    ("capbig_start_rate", "StartLogin/s while filling to it", "1/s", "", None),
    ("capbig_rss_per_flow_kib", "b. daemon RSS per pending flow (BENCH_CAP_BIG)", "KiB", "< 3", ("<", 3, "all")),
    ("capbig_polls_per_s", "token polls per second (interval BENCH_CAP_BIG_INTERVAL)", "1/s", "", None),
    ("capbig_cpu_us_per_poll", "daemon CPU per poll (BENCH_CAP_BIG)", "us", "", None),
    ("capbig_acc_p99_ms", "polling accuracy p99 (BENCH_CAP_BIG)", "ms", "", None),
    ("capbig_early_polls", "early polls (BENCH_CAP_BIG)", "polls", "0", ("==", 0, "all")),
    "# a. admission: start + Cancel with no and with many pending flows",
    ("adm_rate_none_per_s", "start + Cancel per second, no pending flow", "1/s", "", None),
    ("adm_held", "pending flows held (target BENCH_ADM_HELD, on-demand)", "flows", "= target",
     ("==", meta_num("adm_held"), "all")),
    ("adm_rate_held_per_s", "start + Cancel per second, with them pending", "1/s", "", None),
    ("adm_ratio_pct", "a. rate with them / rate with none", "%", ">= 90", (">=", 90, "median")),
    "# throughput",
    ("throughput_per_s", "StartLogin/s until the limit answers", "1/s", ">= 500", (">=", 500, "median")),
    "# e. churn: memory over completed flows (start + Cancel)",
    ("churn_flows", "completed flows in the churn run (target BENCH_CHURN)", "flows", "= target",
     ("==", meta_num("churn_target"), "all")),
    ("churn_rate_per_s", "start + Cancel per second (each step)", "1/s", "", None),
    ("rss_after_1k_kib", "daemon RSS after 1,000 completed flows", "KiB", "", None),
    ("churn_rss_plateau_kib", "daemon RSS at the plateau (BENCH_CHURN_PLATEAU)", "KiB", "", None),
    ("churn_rss_end_kib", "daemon RSS after all flows", "KiB", "", None),
    ("churn_rss_linger_kib", "daemon RSS 32 s later", "KiB", "", None),
    ("churn_growth_kib_per_100k", "e. RSS growth per 100,000 flows after the plateau", "KiB", "< 64",
     ("<", 64, "all")),
    "# f. overload: one busy loop per core, flows pending, new StartLogin calls arriving",
    ("ovl_held", "pending flows held (target BENCH_OVL_FLOWS)", "flows", "= target",
     ("==", meta_num("ovl_flows"), "all")),
    ("ovl_before_acc_p99_ms", "polling accuracy p99 before the load", "ms", "", None),
    ("ovl_start_calls", "StartLogin calls during the load", "calls", "", None),
    ("ovl_start_ok", "answered with a flow", "calls", "", None),
    ("ovl_start_limited", "answered TooManyFlows / RateLimited", "calls", "", None),
    ("ovl_start_timeout", "not answered within the module's 30 s", "calls", "0", ("==", 0, "all")),
    ("ovl_start_other", "answered with another error", "calls", "0", ("==", 0, "all")),
    ("ovl_start_p50_ms", "StartLogin answer time p50 during the load", "ms", "", None),
    ("ovl_start_p99_ms", "f. StartLogin answer time p99 during the load", "ms", "< 30000 (module timeout)",
     ("<", 30000, "all")),
    ("ovl_during_acc_p99_ms", "polling accuracy p99 during the load (late)", "ms", "", None),
    ("ovl_early_polls", "f. early polls during and after the load", "polls", "0", ("==", 0, "all")),
    ("ovl_recovery_s", "seconds after the load until every 1 s bin has p99 < 50 ms", "s", "", None),
    ("ovl_after_acc_p99_ms", "f. polling accuracy p99 after the load (recovery window)", "ms", "< 50",
     ("<", 50, "all")),
    ("ovl_after_flows", "flows polling in the recovery window (>= held)", "flows", ">= held",
     (">=", meta_num("ovl_flows"), "all")),
    ("ovl_after_started", "f. StartLogin after the load: flows started of 100", "flows", "100",
     ("==", 100, "all")),
    ("ovl_after_p99_ms", "StartLogin answer time p99 after the load", "ms", "", None),
    "# every section",
    ("daemon_lost", "the daemon had exited by itself when stopped (per start)", "", "0", ("==", 0, "all")),
]


def judge(goal, v, data, meta):
    """OK, MISSED, or '?' (the goal's threshold is unknown)."""
    op, thr, on = goal
    if callable(thr):
        thr = thr(data, meta)
    if thr is None:
        return "?", None
    vals = [statistics.median(v)] if on == "median" else v
    return ("OK" if all(OPS[op](x, thr) for x in vals) else "MISSED"), thr


def report_figure(fig, data, meta, out, row, shown):
    key, label, unit, goal_text, goal = fig
    v = data.get(key)
    entry = {"label": label, "unit": unit, "goal": goal_text, "n": len(v or [])}
    if goal:
        entry["judged_on"] = goal[2]
    if not v:
        verdict = "not run" if goal else ""
        if shown:
            print(row % (label, "-", "-", "-", 0, unit, "-" if goal else "", goal_text))
    else:
        med = statistics.median(v)
        verdict, thr = judge(goal, v, data, meta) if goal else ("", None)
        if thr is not None:
            entry["threshold"] = thr
        entry.update(median=med, min=min(v), max=max(v), samples=v)
        print(row % (label, "%.2f" % med, "%.2f" % min(v), "%.2f" % max(v), len(v), unit, verdict, goal_text))
    if verdict:
        entry["verdict"] = verdict
        out["verdicts"][verdict].append(key)
    out["figures"][key] = entry


def report(samples_path, meta_path, json_out):
    data = {}
    with open(samples_path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 2:
                continue
            try:
                data.setdefault(parts[0], []).append(float(parts[1]))
            except ValueError:
                pass
    meta = {}
    try:
        with open(meta_path, encoding="utf-8") as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(" ")
                if k:
                    meta[k] = v
    except OSError:
        pass

    out = {"machine": {k: v for k, v in meta.items() if not k.startswith("section_")},
           "sections_s": {k[len("section_"):]: float(v) for k, v in meta.items() if k.startswith("section_")},
           "figures": {}, "verdicts": {"OK": [], "MISSED": [], "?": [], "not run": []}}
    row = "%-60s %10s %10s %10s %4s  %-6s %-7s %s"
    print()
    print("pam_devflow benchmarks — %s cores, %s, commit %s" % (meta.get("nproc", "?"), meta.get("cpu", "?"),
                                                              meta.get("commit", "?")))
    print(row % ("figure", "median", "min", "max", "n", "unit", "result", "goal"))
    print("-" * 128)
    known = set()
    # a heading and its figures are printed only when one of them was measured (a section that ran)
    blocks, cur = [], None
    for fig in FIGURES:
        if isinstance(fig, str):
            cur = [fig]
            blocks.append(cur)
        else:
            cur.append(fig)
    for block in blocks:
        shown = any(data.get(fig[0]) for fig in block[1:])
        if shown:
            print(block[0])
        for fig in block[1:]:
            report_figure(fig, data, meta, out, row, shown)
            known.add(fig[0])
    for key in sorted(set(data) - known):
        v = data[key]
        out["figures"][key] = {"n": len(v), "median": statistics.median(v), "min": min(v), "max": max(v),
                               "samples": v}
    with open(json_out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    vd = out["verdicts"]
    print()
    print("goals: %d OK, %d MISSED%s, %d not run" % (
        len(vd["OK"]), len(vd["MISSED"]), (" (" + ", ".join(vd["MISSED"]) + ")") if vd["MISSED"] else "",
        len(vd["not run"])) + (", %d not judged (?)" % len(vd["?"]) if vd["?"] else ""))
    if out["sections_s"]:
        print("time per section: " + ", ".join("%s %.0f s" % kv for kv in out["sections_s"].items()) +
              "; total %.0f s" % sum(out["sections_s"].values()))
    print("(JSON: %s)" % json_out)
    return 1 if vd["MISSED"] else 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "polls":
        polls(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    elif len(sys.argv) == 6 and sys.argv[1] == "recovery":
        recovery(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
    elif len(sys.argv) == 4 and sys.argv[1] == "growth":
        growth(sys.argv[2], float(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "report":
        sys.exit(report(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        print(__doc__ or "usage: analyze.py polls|report ...", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
