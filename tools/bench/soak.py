"""Soak: many simulated hours of the real firmware against random simulator faults.

    python tools/bench/soak.py [--hours 10] [--time-scale 0.01] [--rate 0.05] [--heapsize 256k]
        [--dialect bp35a1|bp35c0|rl7023-ips|j11]

Passes when no exception escaped (no app/session crash, no UI error), the board was
never reset (watchdog always fed, no machine.reset), and readings resumed after every
fault: the longest gap between readings stays under --max-gap simulated seconds and
the last reading is recent. Prints the figures as one JSON line.
"""
import argparse
import json
import os
import sys
import tempfile

if __name__ == "__main__":  # run as a script: tools/ (paths.py) in place of its own folder
    sys.path[0] = sys.path[0].rsplit("/", 1)[0]
import paths  # noqa: F401,E402  (the project's folders)
import run_host  # noqa: E402


def soak(hours, time_scale, rate, heapsize, seed=1, max_gap=900, scenario="normal", dialect="bp35a1"):
    """Run and check; returns (problems, figures). With dialect j11 the random faults are
    J11's (tools/simulator/sim_faults.py) and the stick carries a HAT-C1."""
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = os.path.join(tmp, "stats.json")
        args = run_host.parser().parse_args([
            "--scenario", scenario, "--dialect", dialect, "--time-scale", str(time_scale), "--random-faults", str(rate),
            "--seed", str(seed), "--seconds", str(hours * 3600 * time_scale), "--frames", "",
            "--heapsize", heapsize, "--run-dir", os.path.join(tmp, "board"), "--stats", stats_path])
        code, out, sim = run_host.run(args, capture=True)
        stats = None
        if os.path.exists(stats_path):
            with open(stats_path) as f:
                stats = json.load(f)
    problems = []
    if code != 0:
        problems.append("the firmware process ended with %d (3 watchdog, 4 reset):\n%s"
                        % (code, out[-2000:]))
    if stats is None:
        return problems + ["no figures written"], {}
    ev = stats["events"]
    for key in ("app crashed", "session crashed", "leaving it to the watchdog"):
        if ev.get(key):
            problems.append("%s: %d times" % (key, ev[key]))
    if stats["ui_errors"]:
        problems.append("%d UI errors" % stats["ui_errors"])
    if stats["readings"] == 0:
        problems.append("no reading at all")
    elif stats["max_gap_s"] > max_gap:
        problems.append("readings stopped for %d s (limit %d)" % (stats["max_gap_s"], max_gap))
    if stats["since_last_s"] is None or stats["since_last_s"] > max_gap:
        problems.append("no reading in the last %s s" % stats["since_last_s"])
    faults = (sim or {}).get("faults_fired") or []
    figures = {"dialect": dialect, "sim_hours": hours, "readings": stats["readings"], "faults": len(faults),
               "fault_kinds": sorted(set(str(f).split(":")[0].split("@")[0] for f in faults)),
               "max_gap_s": stats["max_gap_s"], "heap_peak": stats["heap_peak"],
               "heap_total": stats["heap_total"], "wdt_max_gap_ms": stats["wdt_max_gap_ms"],
               "session_restarts": stats["session_restarts"],
               "recoveries": ev.get("trouble: ", 0)}
    if rate and not faults:
        problems.append("the simulator fired no fault")
    return problems, figures


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=10)
    ap.add_argument("--time-scale", type=float, default=0.01)
    ap.add_argument("--rate", type=float, default=0.05, help="fault chance per request")
    ap.add_argument("--heapsize", default="256k")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-gap", type=int, default=900, help="simulated seconds")
    ap.add_argument("--dialect", default="bp35a1", help="the simulated module (j11: the HAT-C1's)")
    args = ap.parse_args(argv)
    problems, figures = soak(args.hours, args.time_scale, args.rate, args.heapsize, args.seed,
                             args.max_gap, dialect=args.dialect)
    print("soak: " + json.dumps(figures))
    for p in problems:
        print("soak FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
