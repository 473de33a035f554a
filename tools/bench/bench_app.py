"""Benchmark of the whole firmware on the emulated board: heap and allocation figures.

    python tools/bench/bench_app.py [--heapsize 256k] [--seconds 30] [--dialect j11]

Prints the peak live heap (after collections), the heap size given, and the bytes
allocated per polling cycle (everything the firmware does between two readings:
UART parsing, ECHONET decoding, model update and redraws), measured between readings
with no collection in between. Figures are for the 64-bit unix port: the ESP32's
32-bit objects are smaller (frame buffers and byte strings are the same size).
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heapsize", default="256k")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--time-scale", type=float, default=0.1)
    ap.add_argument("--board", default="stickc", choices=("stickc", "plus"))
    ap.add_argument("--dialect", default="bp35a1", help="the simulated module (j11: a HAT-C1 stick)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = os.path.join(tmp, "stats.json")
        rargs = run_host.parser().parse_args([
            "--time-scale", str(args.time_scale), "--seconds", str(args.seconds), "--poll", "5",
            "--frames", "", "--heapsize", args.heapsize, "--board", args.board, "--dialect", args.dialect,
            "--run-dir", os.path.join(tmp, "board"), "--stats", stats_path])
        code, out, _ = run_host.run(rargs, capture=True)
        if code or not os.path.exists(stats_path):
            print(out[-2000:])
            return 1
        with open(stats_path) as f:
            s = json.load(f)
    print("bench_app (%s with %s, unix port, -X heapsize=%s, poll 5 s at time scale %s):"
          % (args.board, args.dialect, args.heapsize, args.time_scale))
    print("  readings                 %d" % s["readings"])
    print("  peak live heap           %d bytes of %d" % (s["heap_peak"], s["heap_total"]))
    print("  allocated per poll cycle %s bytes median, %s max"
          % (s["alloc_per_cycle_median"], s["alloc_per_cycle_max"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
