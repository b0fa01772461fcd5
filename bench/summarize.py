#!/usr/bin/env python3
"""Tables for bench/RESULTS.md from bench/run.sh's raw files (kept with KEEP_TMP=1).

  summarize.py table   RESULTS          the gateway table (every layout, connection count, case, target)
  summarize.py hold    HOLD             the held-connections table
  summarize.py targets RESULTS HOLD     issue 9's targets, each met / not met

RESULTS lines: layout conns case target round rps p50 p99 p999 non2xx sockerr requests [load1]
(latencies in us). HOLD lines: round key value.
Ratios are taken within one run: the median over rounds of each figure, divided; the per-round
ratios (same round, runs minutes apart at most) are shown next to it.
"""
import statistics
import sys
from collections import defaultdict

NAMES = {"backend": "nginx backend (direct)", "nginx": "nginx proxy", "haproxy": "HAProxy jwt_verify",
         "micro-gw": "micro-gw", "micro-gw-throttled": "micro-gw, throttled API (issue 13)"}
CASES = {"one": "1 key", "pool": "10k keys", "invalid": "invalid key (401)",
         "h2": "1 key, HTTP/2 (h2load -c8 -m8: 64 streams; p50 = mean, p99 = max)"}
ORDER_T = ["backend", "nginx", "haproxy", "micro-gw", "micro-gw-throttled"]
ORDER_C = ["one", "pool", "invalid", "h2"]


def load_runs(path):
    runs = defaultdict(dict)  # (layout, c, case, target) -> {round: (rps, p50, p99, p999, non2xx, sockerr, load)}
    for line in open(path):
        f = line.split()
        if len(f) < 12:
            continue
        layout, c, case, target, rnd = f[0], int(f[1]), f[2], f[3], int(f[4])
        vals = list(map(float, f[5:12]))
        load = float(f[12]) if len(f) > 12 else float("nan")
        runs[(layout, c, case, target)][rnd] = (*vals[:6], load)
    return runs


def med(v):
    return statistics.median(v) if v else float("nan")


def table(path):
    runs = load_runs(path)

    def ms(us):
        return f"{us / 1000:.2f}"

    print("| layout | conns | target | case | req/s median | min | max | p50 ms | p99 ms | p99.9 ms | non-2xx "
          "| sock err | x nginx proxy | x HAProxy (same case) | p50 added over backend µs | load1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    keys = sorted(runs, key=lambda k: (k[0] != "pinned", k[1], ORDER_C.index(k[2]), ORDER_T.index(k[3])))
    for k in keys:
        layout, c, case, target = k
        v = list(runs[k].values())
        rps = [x[0] for x in v]
        m = med(rps)
        ref = runs.get((layout, c, "one", "nginx"))
        ratio = f"{m / med([x[0] for x in ref.values()]):.2f}" if ref else ""
        hap = runs.get((layout, c, case, "haproxy"))
        xh = f"{m / med([x[0] for x in hap.values()]):.2f}" if hap and target == "micro-gw" else ""
        be = runs.get((layout, c, "one", "backend"))
        p50 = med([x[1] for x in v])
        added = f"{p50 - med([x[1] for x in be.values()]):.0f}" if be and target != "backend" else ""
        loads = " / ".join(f"{x[6]:.1f}" for x in v)
        print(f"| {layout} | {c} | {NAMES[target]} | {CASES[case]} | {m:,.0f} | {min(rps):,.0f} | {max(rps):,.0f} | "
              f"{ms(p50)} | {ms(med([x[2] for x in v]))} | {ms(max(x[3] for x in v))} | "
              f"{sum(x[4] for x in v):.0f} | {sum(x[5] for x in v):.0f} | {ratio} | {xh} | {added} | {loads} |")
    # Issue 13: the throttled API (a policy never reached) against the same API unthrottled, in
    # the same run and process.
    for k in keys:
        layout, c, case, target = k
        base = runs.get((layout, c, case, "micro-gw"))
        if target != "micro-gw-throttled" or not base:
            continue
        ratio = med([x[0] for x in runs[k].values()]) / med([x[0] for x in base.values()])
        print(f"\nthrottled / unthrottled ({layout}, {c} conns, {CASES[case]}): {ratio:.3f}x", end="")
    print()
    print("p50 and p99: median over rounds; p99.9: worst round; non-2xx and socket errors: summed over rounds; "
          "load1: the 1-minute load average when each round's run ended.")


def load_hold(path):
    rounds = defaultdict(dict)
    for line in open(path):
        f = line.split()
        if len(f) >= 3:
            rounds[int(f[0])][f[1]] = f[2]
    return rounds


def hold(path):
    rounds = load_hold(path)
    rows = [("held (answered 200, then idle)", "opened"), ("failed to open", "failed"),
            ("seconds to open them all", "open_seconds"), ("VmRSS warm, before (KiB)", "rss_warm_kb"),
            ("VmRSS holding them (KiB)", "rss_held_kb"), ("RSS growth (KiB)", "rss_growth_kb"),
            ("idle seconds", "idle_seconds"), ("CPU over the idle seconds, schedstat (ms)", "idle_cpu_ms"),
            ("CPU over the idle seconds, /proc stat ticks (ms)", "idle_cpu_ticks_ms"),
            ("context switches over the idle seconds", "idle_ctx_switches"),
            ("new client: connect + GET + answer, median (ms)", "probe_ms_median"),
            ("new client, worst (ms)", "probe_ms_max"), ("new clients failed", "probe_failed"),
            ("held connections closed by the server", "closed_by_server"),
            ("second GET on a sample of the held ones: 200", "recheck"), ("VmHWM (KiB)", "rss_peak_kb"),
            ("load1 at the end", "load1")]
    rs = sorted(rounds)
    print("| figure | " + " | ".join(f"round {r}" for r in rs) + " |")
    print("|---|" + "---|" * len(rs))
    for label, key in rows:
        print(f"| {label} | " + " | ".join(rounds[r].get(key, "") for r in rs) + " |")
    st = [rounds[r].get("statuses", "") for r in rs]
    print()
    print("Answers while opening: " + "; ".join(f"round {r}: {s}" for r, s in zip(rs, st)))


def targets(results_path, hold_path):
    runs = load_runs(results_path)
    out = []

    def per_round(num, den, f):
        """f(num_tuple, den_tuple) for every round both have."""
        if not num or not den:
            return []
        return [f(num[r], den[r]) for r in sorted(num) if r in den]

    def get(c, case, target):
        return runs.get(("pinned", c, case, target))

    def ratio_row(label, c, case, other, goal):
        mg, ot = get(c, case, "micro-gw"), get(c, case, other)
        if not mg or not ot:
            out.append((label, "not run", "", ""))
            return
        r = med([x[0] for x in mg.values()]) / med([x[0] for x in ot.values()])
        rounds = per_round(mg, ot, lambda a, b: a[0] / b[0])
        each = ", ".join(f"{x:.2f}" for x in rounds)
        ok = r >= goal
        out.append((label, f"{r:.2f}x [{each}]", f">= {goal}x", ("met" if ok else "**not met**") +
                    ("" if all(x >= goal for x in rounds) == ok else " (rounds disagree)")))

    ratio_row("(a) 1 key, 64 conns: micro-gw / HAProxy jwt_verify", 64, "one", "haproxy", 1.5)
    ratio_row("(a) 1 key, 64 conns: micro-gw / nginx proxy", 64, "one", "nginx", 0.6)
    mg = get(64, "one", "micro-gw")
    if mg:
        worst = max(x[3] for x in mg.values()) / 1000
        each = ", ".join(f"{x[3] / 1000:.2f}" for _, x in sorted(mg.items()))
        out.append(("(a) 1 key, 64 conns: micro-gw p99.9 (worst round)", f"{worst:.2f} ms [{each}]", "< 20 ms",
                    "met" if worst < 20 else "**not met**"))
    ratio_row("(b) 10k-key pool, 64 conns: micro-gw / HAProxy", 64, "pool", "haproxy", 1.0)
    ratio_row("(b) 10k-key pool, 1 conn: micro-gw / HAProxy (context)", 1, "pool", "haproxy", 1.0)
    ratio_row("(c) invalid-key flood, 64 conns: micro-gw / HAProxy", 64, "invalid", "haproxy", 1.0)
    ratio_row("(c) invalid-key flood, 1 conn: micro-gw / HAProxy (context)", 1, "invalid", "haproxy", 1.0)
    mg, ng, be = get(1, "one", "micro-gw"), get(1, "one", "nginx"), get(1, "one", "backend")
    if mg and ng and be:
        added_m = med([x[1] for x in mg.values()]) - med([x[1] for x in be.values()])
        added_n = med([x[1] for x in ng.values()]) - med([x[1] for x in be.values()])
        d = added_m - added_n
        rounds = [(mg[r][1] - be[r][1]) - (ng[r][1] - be[r][1]) for r in sorted(mg) if r in ng and r in be]
        each = ", ".join(f"{x:+.0f}" for x in rounds)
        out.append(("(d) 1 conn: added p50, micro-gw minus nginx proxy",
                    f"{d:+.0f} µs (micro-gw {added_m:.0f}, nginx {added_n:.0f}) [{each}]", "<= 15 µs",
                    ("met" if d <= 15 else "**not met**") +
                    ("" if all(x <= 15 for x in rounds) == (d <= 15) else " (rounds disagree)")))
    hr = load_hold(hold_path) if hold_path else {}
    if hr:
        rs = sorted(hr)

        def vals(key, conv=float):
            return [conv(hr[r][key]) for r in rs if key in hr[r]]

        g = [x / 1024 for x in vals("rss_growth_kb")]
        held = vals("opened", int)
        failed = vals("failed", int)
        closed = vals("closed_by_server", int)
        out.append((f"(e) {max(held) if held else 0:,} held: RSS growth",
                    " / ".join(f"{x:.1f} MiB" for x in g) + f" (held {'/'.join(map(str, held))}, failed "
                    f"{'/'.join(map(str, failed))}, closed by server {'/'.join(map(str, closed))})", "< 100 MiB",
                    "met" if g and max(g) < 100 and sum(failed) == 0 and sum(closed) == 0 else "**not met**"))
        cpu = vals("idle_cpu_ms")
        idle = vals("idle_seconds")
        cs = vals("idle_ctx_switches", int)
        # "No CPU while idle": under 10 ms over the idle interval (one scheduler tick; less than 0.1% of a core).
        out.append((f"(e) CPU while idle ({idle[0]:.0f} s, {max(held) if held else 0:,} held)",
                    " / ".join(f"{x:.2f} ms" for x in cpu) + f" ({'/'.join(map(str, cs))} context switches)",
                    "~0 (< 10 ms)", "met" if cpu and max(cpu) < 10 else "**not met**"))
        pm = vals("probe_ms_max")
        pmed = vals("probe_ms_median")
        pf = vals("probe_failed", int)
        out.append(("(e) new client served while they are held (worst of the probes)",
                    " / ".join(f"{x:.2f} ms" for x in pm) + " (median " + " / ".join(f"{x:.2f}" for x in pmed)
                    + ")", "< 50 ms", "met" if pm and max(pm) < 50 and sum(pf) == 0 else "**not met**"))
    print("| target | measured | goal | verdict |")
    print("|---|---|---|---|")
    for row in out:
        print("| " + " | ".join(row) + " |")


def main():
    cmd = sys.argv[1]
    if cmd == "table":
        table(sys.argv[2])
    elif cmd == "hold":
        hold(sys.argv[2])
    elif cmd == "targets":
        targets(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        sys.exit(f"summarize.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
