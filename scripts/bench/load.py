"""Load-tests the running app and reports each target against its baseline, in one run.

Usage: load.py BASE_URL SERVER_PID  (COOKIE and TOKEN in the environment, from prepare.py)
Targets only the given loopback base URL; every run stops by itself.

The machine is shared (other guests on the host, and the load generator on the same two cores), so
a burst of noise can decide one run. Every phase therefore goes in rounds, round-robin over the
targets: a noisy moment hits one run of each target instead of every run of one, a target and its
baseline are measured seconds apart, and each verdict uses the median round. Every round is
printed, with how busy the machine was, the CPU the hypervisor took away ("stolen") and the
idle time spent waiting on disk while it ran.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time

from rss import rss_kib

BASE = sys.argv[1].rstrip("/")
PID = int(sys.argv[2])
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DURATION = os.environ.get("BENCH_DURATION", "6s")  # per target and round, saturated
STEADY_DURATION = os.environ.get("BENCH_STEADY_DURATION", "6s")  # per target and round, steady rate
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "64")
THREADS = os.environ.get("BENCH_THREADS", "2")
COOKIE = os.environ["COOKIE"]
TOKEN = os.environ["TOKEN"]

assert re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d+$", BASE), "loopback only"

BARE = os.environ["BARE_BASE"].rstrip("/")
assert re.match(r"^http://127\.0\.0\.1:\d+$", BARE), "loopback only"
HTML = {"Accept": "text/html"}
SIGNED_IN = {"Cookie": COOKIE, "Accept": "text/html"}
BARE_PAGE = "in-memory page, bare (the limit)"
APP_PAGE = "in-memory page, app middleware"
BARE_HELLO = "JSON hello, bare"
APP_HELLO = "JSON hello /health, app middleware"
# name, path or URL, headers, [(baseline, goal or None)]; baselines run before their targets.
# The page baselines serve the dashboard's own bytes (prepare.py): from memory with nothing
# around the handler (bench_baselines.rs, a second listener of the same process), from memory
# through the app's middleware, and from a file. The minimal Leptos page is the floor of a
# Leptos server render (a router, one route, the same shell parts).
TARGETS = [
    (BARE_PAGE, BARE + "/_bench/page", HTML, []),
    (APP_PAGE, "/_bench/page", HTML, [(BARE_PAGE, None)]),
    ("static file, same bytes", "/bench-static.html", HTML, [(BARE_PAGE, None)]),
    ("minimal Leptos page, bare (the Leptos floor)", BARE + "/_bench/leptos", HTML, [(BARE_PAGE, None)]),
    ("SSR /dashboard", "/dashboard", SIGNED_IN, [(BARE_PAGE, 0.25), (APP_PAGE, None)]),
    ("SSR /sessions", "/sessions", SIGNED_IN, [(BARE_PAGE, 0.25), (APP_PAGE, None)]),
    (BARE_HELLO, BARE + "/health", {}, []),
    (APP_HELLO, "/health", {}, [(BARE_HELLO, 0.85)]),
    ("bearer GET /api/v1/deployments", "/api/v1/deployments", {"Authorization": f"Bearer {TOKEN}"}, [(APP_HELLO, 0.7)]),
]
# The same dashboard from a second server whose session store is Redis (bench.sh starts both):
# the price of the one round trip per request that sharing sessions across instances costs.
REDIS_BASE = os.environ.get("REDIS_BASE")
if REDIS_BASE:
    assert re.match(r"^http://127\.0\.0\.1:\d+$", REDIS_BASE), "loopback only"
    TARGETS.append(("SSR /dashboard, Redis store", REDIS_BASE + "/dashboard",
                    {"Cookie": os.environ["REDIS_COOKIE"], "Accept": "text/html"}, [("SSR /dashboard", 0.8)]))
# p99 is judged at a rate every target sustains with room to spare, the same for all: a busy
# instance's traffic, not a stress test. On these two shared cores, half of a target's saturated
# rate is not half of the machine: at a steady rate every request pays its own wake-ups that
# saturation batches away, and oha (heavier than wrk) shares the cores, so the static page at
# "half" kept the machine 75% busy and its p99 was 3-36 ms from run to run. Both are printed.
FIXED_RATE = int(os.environ.get("BENCH_FIXED_RATE", "1000"))
STEADY_SHARE = 0.5  # the second steady phase offers this share of the target's saturated req/s
P99_GOAL_MS = 5.0

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def millis(text):
    match = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(match.group(1)) * UNITS[match.group(2)]


def header_args(headers):
    """`-H "name: value"` for each header (wrk and oha take the same form)."""
    return [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]


def url(path):
    """A path on the app, or a whole URL (the second server's)."""
    return path if path.startswith("http") else BASE + path


def wrk(path, headers, duration):
    """Saturated closed-loop run: req/s, p50/p99."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}", "--latency",
               *header_args(headers), url(path)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}"] = millis(re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    result["errors"] = (int(errors.group(1)) if errors else 0)
    result["socket_errors"] = socket_errors.group(1) if socket_errors else ""
    return result


def cpu_ticks():
    """(busy, stolen, io-wait, total) jiffies of the whole machine, from /proc/stat. Stolen time
    is CPU the hypervisor gave to other guests while this one wanted it; io-wait is idle time with
    disk I/O outstanding (the app does none per request). Either is noise from outside the run."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, fields[7], fields[4], sum(fields)


def oha_steady(path, headers, rate, duration):
    """p50/p99 at a fixed offered rate (open loop, corrected for coordinated omission)."""
    command = ["oha", "--no-tui", "--output-format", "json", "-z", duration, "-c", CONNECTIONS,
               "-q", str(int(rate)), "--latency-correction", *header_args(headers), url(path)]
    report = json.loads(subprocess.run(command, capture_output=True, text=True, check=True, timeout=600).stdout)
    percentiles = report["latencyPercentiles"]
    codes = report.get("statusCodeDistribution", {})
    bad = sum(n for code, n in codes.items() if not code.startswith(("2", "3")))
    return {
        "offered_rps": rate,
        "rps": report["summary"]["requestsPerSec"],
        "p50": percentiles["p50"] * 1000,
        "p99": percentiles["p99"] * 1000,
        # Requests still in flight when the run's time is up are cut off, not failed.
        "errors": bad + sum(n for kind, n in report.get("errorDistribution", {}).items()
                            if kind != "aborted due to deadline"),
    }


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


class PauseProbe:
    """A thread that asks to sleep 1 ms, over and over, and keeps the longest it overslept: how
    long anything runnable on this machine could wait for a CPU meanwhile (the load, the
    scheduler, the host). A steady-rate p99 above it is the app's; one near it is the machine's."""

    def __init__(self):
        self.longest = 0.0
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            start = time.perf_counter()
            time.sleep(0.001)
            self.longest = max(self.longest, time.perf_counter() - start - 0.001)

    def stop_ms(self):
        self.running = False
        self.thread.join()
        return self.longest * 1000


def measured(run):
    """Runs `run()` and adds the shares of the machine that were busy, stolen and waiting on disk
    meanwhile, and the longest pause a sleeping thread saw."""
    before = cpu_ticks()
    probe = PauseProbe()
    result = run()
    result["longest_pause_ms"] = probe.stop_ms()
    after = cpu_ticks()
    busy, stolen, io_wait, elapsed = (max(a - b, 0) for a, b in zip(after, before))
    elapsed = max(elapsed, 1)
    result["machine_busy"] = busy / elapsed
    result["stolen"] = stolen / elapsed
    result["io_wait"] = io_wait / elapsed
    return result


def in_rounds(run_one):
    """`run_one(name, path, headers)` for every target, round-robin, ROUNDS times."""
    runs = {name: [] for name, _, _, _ in TARGETS}
    for _ in range(ROUNDS):
        for name, path, headers, _ in TARGETS:
            runs[name].append(measured(lambda: run_one(name, path, headers)))
    return runs


def busy_cell(rounds):
    return " / ".join(f"{r['machine_busy']:.0%} ({r['stolen']:.0%}, {r['io_wait']:.0%}, {r['longest_pause_ms']:.0f} ms)"
                      for r in rounds)


def saturated_report(results):
    print(f"\nwrk, {THREADS} threads, {CONNECTIONS} connections, {ROUNDS} rounds of {DURATION} per target "
          f"(round-robin), on {os.cpu_count()} cores (client and server share them)\n")
    for name, path, headers, _ in TARGETS:
        wrk(path, headers, "2s")  # warm-up: caches, allocator, connection set-up

    def run_one(name, path, headers):
        result = wrk(path, headers, DURATION)
        result["rss_mib"] = rss_kib(PID) / 1024
        return result

    runs = in_rounds(run_one)
    print("| target | req/s (median) | p50 ms | p99 ms | RSS after, MiB | ratio to each baseline, rounds → median | goal | machine busy (stolen, io-wait, longest pause) |")
    print("|---|---:|---:|---:|---:|---|---|---:|")
    for name, _, _, baselines in TARGETS:
        rounds = runs[name]
        result = {
            "rps": median([r["rps"] for r in rounds]),
            "p50": median([r["p50"] for r in rounds]),
            "p99": median([r["p99"] for r in rounds]),
            "rss_mib": max(r["rss_mib"] for r in rounds),
            "errors": sum(r["errors"] for r in rounds),
            "socket_errors": "; ".join(r["socket_errors"] for r in rounds if r["socket_errors"]),
            "rounds": rounds,
            "ratios": {},
        }
        cells, verdicts = [], []
        for baseline, goal in baselines:
            # Each round's ratio uses the baseline run of the same round, seconds earlier.
            ratios = [r["rps"] / b["rps"] for r, b in zip(rounds, runs[baseline])]
            ratio = median(ratios)
            result["ratios"][baseline] = {"median": ratio, "rounds": ratios, "goal": goal}
            each = " / ".join(f"{x:.2f}" for x in ratios)
            cells.append(f"{each} → **{ratio:.2f}×** {baseline}")
            if goal is not None:
                verdicts.append(f"≥ {goal}× {baseline}: {'met' if ratio >= goal else 'NOT met'}")
        results[name] = result
        print(f"| {name} | {result['rps']:.0f} | {result['p50']:.2f} | {result['p99']:.2f} | {result['rss_mib']:.1f} "
              f"| {'<br>'.join(cells) or 'baseline'} | {'; '.join(verdicts)} | {busy_cell(rounds)} |")
        if result["errors"] or result["socket_errors"]:
            print(f"|   errors | non-2xx/3xx: {result['errors']} socket: {result['socket_errors']} | | | | | | |")


def steady_report(results, key, title, rate_of):
    """oha at a steady offered rate, `rate_of(name)` req/s per target, the same connections: p50
    and p99 at a load the server sustains. (A saturated run's latency is only queueing:
    connections / req/s, by Little's law.)"""
    print(f"\noha, {CONNECTIONS} connections, {title}, {ROUNDS} rounds of {STEADY_DURATION} (round-robin), "
          "open loop, corrected for coordinated omission\n")
    runs = in_rounds(lambda name, path, headers: oha_steady(path, headers, rate_of(name), STEADY_DURATION))
    print(f"| target | offered req/s | p50 ms (median) | p99 ms, each round | p99 ms (median) | goal p99 ≤ {P99_GOAL_MS:g} ms | machine busy (stolen, io-wait, longest pause) |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for name, _, _, _ in TARGETS:
        rounds = runs[name]
        steady = {
            "offered_rps": rounds[0]["offered_rps"],
            "p50": median([r["p50"] for r in rounds]),
            "p99": median([r["p99"] for r in rounds]),
            "rounds": rounds,
        }
        results[name][key] = steady
        each = " / ".join(f"{r['p99']:.1f}" for r in rounds)
        verdict = "met" if steady["p99"] <= P99_GOAL_MS else "NOT met"
        print(f"| {name} | {steady['offered_rps']:.0f} | {steady['p50']:.2f} | {each} | {steady['p99']:.2f} | {verdict} | {busy_cell(rounds)} |")
        errors = sum(r["errors"] for r in rounds)
        if errors:
            results[name]["errors"] += errors
            print(f"|   errors | {errors} | | | | | |")


def main():
    results = {}
    start_rss = rss_kib(PID)
    saturated_report(results)
    end_rss = rss_kib(PID)
    print(f"\nRSS: {start_rss / 1024:.1f} MiB before the first run, {end_rss / 1024:.1f} MiB after the last saturated one.")
    steady_report(results, "fixed", f"the same {FIXED_RATE} req/s for every target", lambda name: FIXED_RATE)
    steady_report(results, "steady", f"a steady {STEADY_SHARE:.0%} of each target's saturated req/s",
                  lambda name: results[name]["rps"] * STEADY_SHARE)
    with open(os.environ.get("BENCH_JSON", "target/bench-results.json"), "w") as f:
        json.dump({"results": results, "rss_start_kib": start_rss, "rss_end_kib": end_rss}, f, indent=2)
    failed = [n for n, r in results.items() if r["errors"] or r["socket_errors"]]
    if failed:
        print(f"errors in: {', '.join(failed)}")
        sys.exit(1)


main()
