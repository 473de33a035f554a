"""Benchmark of the whole firmware on the emulated board: heap and allocation figures.

    python tools/bench/bench_app.py [--heapsize 256k] [--seconds 30] [--dialect j11]

Prints the peak live heap (after collections), the heap size given, and the bytes
allocated per polling cycle (everything the firmware does between two readings:
UART parsing, ECHONET decoding, model update and redraws), measured between readings
with no collection in between. Figures are for the 64-bit unix port: the ESP32's
32-bit objects are smaller (frame buffers and byte strings are the same size).

With MQTT on (the default when Debian's mosquitto is installed; --no-mqtt to leave it out)
the stick publishes to a real broker on a loopback port (host_tests/broker.py) with the
example tariff, and the run reports the asyncio loop's longest stall after start-up: the
longest a 10 ms sleep overran (real time, the PC's unix port: WiFi, NTP, DNS and the
MQTT client must never hold the loop, issue 10).
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
sys.path.insert(0, os.path.join(paths.ROOT, "host_tests"))
from broker import Broker, MOSQUITTO  # noqa: E402  a real broker on a loopback port


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heapsize", default="256k")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--time-scale", type=float, default=0.1)
    ap.add_argument("--board", default="stickc", choices=("stickc", "plus"))
    ap.add_argument("--dialect", default="bp35a1", help="the simulated module (j11: a HAT-C1 stick)")
    ap.add_argument("--no-mqtt", action="store_true", help="no WiFi, no MQTT (the stick as before)")
    args = ap.parse_args(argv)
    broker = None
    if not args.no_mqtt and os.path.exists(MOSQUITTO):
        broker = Broker().start()
    try:
        s, out = run(args, broker)
    finally:
        if broker:
            broker.stop()
    if s is None:
        print(out[-2000:])
        return 1
    print("bench_app (%s with %s, unix port, -X heapsize=%s, poll 5 s at time scale %s, %s):"
          % (args.board, args.dialect, args.heapsize, args.time_scale,
             "MQTT to a local mosquitto, example tariff" if broker else "no WiFi, no MQTT"))
    print("  readings                 %d" % s["readings"])
    print("  peak live heap           %d bytes of %d" % (s["heap_peak"], s["heap_total"]))
    print("  allocated per poll cycle %s bytes median, %s max"
          % (s["alloc_per_cycle_median"], s["alloc_per_cycle_max"]))
    print("  longest loop stall       %d ms (after start-up; MQTT %s)"
          % (s["loop_stall_max_ms"], {True: "connected", False: "not connected", None: "off"}[s["mqtt"]]))
    return 0


def run(args, broker):
    """(the run's figures, None) or (None, its output)."""
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = os.path.join(tmp, "stats.json")
        flags = ["--time-scale", str(args.time_scale), "--seconds", str(args.seconds), "--poll", "5",
                 "--frames", "", "--heapsize", args.heapsize, "--board", args.board,
                 "--dialect", args.dialect, "--run-dir", os.path.join(tmp, "board"),
                 "--stats", stats_path]
        if broker:
            flags += ["--mqtt", "127.0.0.1:%d" % broker.port, "--tariff"]
        code, out, _ = run_host.run(run_host.parser().parse_args(flags), capture=True)
        if code or not os.path.exists(stats_path):
            return None, out
        with open(stats_path) as f:
            return json.load(f), None


if __name__ == "__main__":
    sys.exit(main())
