"""`broute.py read`: print meter readings through a USB Wi-SUN dongle, with the firmware's lib/ session.

Credentials come from BROUTE_ID / BROUTE_PASSWORD or `--config FILE` (JSON `broute_id`,
`broute_password`), never from the command line, so they stay out of shell history and `ps`.
The serial port is read by a thread that feeds an asyncio.StreamReader (pyserial has no
asyncio API); the session itself is the same code that runs on the ESP32.
"""
import argparse
import asyncio
import json
import os
import sys
import threading
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "lib"))

import bstate  # noqa: E402
from compat import Clock  # noqa: E402
from scancache import MemoryCache, ScanCache  # noqa: E402
from session import Session  # noqa: E402


class SerialWriter:
    """The writer half the session expects, over a pyserial port."""

    def __init__(self, ser):
        self._ser = ser

    def write(self, data):
        self._ser.write(bytes(data))

    async def drain(self):
        pass


def _pump(ser, loop, reader, stop):
    """Thread: move bytes from the port into the asyncio reader until `stop` is set."""
    try:
        while not stop.is_set():
            data = ser.read(ser.in_waiting or 1)
            if data:
                loop.call_soon_threadsafe(reader.feed_data, data)
    except Exception as e:  # the dongle was unplugged: end the stream
        if not stop.is_set():
            print("broute: serial port: %s" % e, file=sys.stderr)
    loop.call_soon_threadsafe(reader.feed_eof)


def credentials(config):
    """(id, password) from --config or the environment; SystemExit with a clear message."""
    if config:
        try:
            with open(config) as f:
                c = json.load(f)
            return c["broute_id"], c["broute_password"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise SystemExit("broute: --config %s: needs JSON with broute_id and broute_password (%s)"
                             % (config, type(e).__name__))
    rbid, pwd = os.environ.get("BROUTE_ID"), os.environ.get("BROUTE_PASSWORD")
    if not rbid or not pwd:
        raise SystemExit("broute: set BROUTE_ID and BROUTE_PASSWORD, or pass --config FILE")
    return rbid, pwd


def line(reading, as_json):
    d = reading.as_dict()
    d["time"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if as_json:
        return json.dumps(d)

    def f(v, fmt):
        return "--" if v is None else fmt % v
    return "%s  %s W  R %s A  T %s A  %s kWh  today %s kWh" % (
        d["time"], f(d["power_w"], "%d"), f(d["current_r_a"], "%.1f"), f(d["current_t_a"], "%.1f"),
        f(d["energy_kwh"], "%.1f"), f(d["today_kwh"], "%.2f"))


async def read(args, rbid, pwd):
    import serial
    ser = serial.Serial(args.port, args.baud, timeout=0.1)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    stop = threading.Event()
    th = threading.Thread(target=_pump, args=(ser, loop, reader, stop), daemon=True)
    th.start()
    log = (lambda m: print("broute: " + m, file=sys.stderr, flush=True)) if args.verbose else None
    cache = ScanCache(args.cache) if args.cache else MemoryCache()
    s = Session(reader, SerialWriter(ser), rbid, pwd, cache=cache, clock=Clock(1 / args.time_scale),
                log=log, poll_ms=int(args.interval * 1000))
    done = asyncio.Event()
    count = [0]

    def listener(kind):
        if kind == "reading":
            print(line(s.reading, args.json), flush=True)
            count[0] += 1
            if args.count and count[0] >= args.count:
                done.set()
        elif s.state == bstate.ERROR or args.verbose:
            print("broute: %s %s" % (bstate.name(s.state), s.reason), file=sys.stderr, flush=True)
    s.listener = listener
    task = asyncio.create_task(s.run())
    try:
        while not done.is_set() and not task.done() and not s.eof:
            try:
                await asyncio.wait_for(done.wait(), 0.5)
            except asyncio.TimeoutError:
                pass
    finally:
        task.cancel()
        stop.set()
        th.join(1)
        ser.close()
    if s.eof and not done.is_set():
        return 1
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="broute.py read", description=__doc__.splitlines()[0])
    ap.add_argument("--port", required=True, help="serial device of the Wi-SUN dongle")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--count", type=int, default=0, help="stop after N readings (default: run until Ctrl-C)")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--config", help="JSON file with broute_id and broute_password")
    ap.add_argument("--cache", help="scan cache file (a later run joins without scanning)")
    ap.add_argument("--interval", type=float, default=10.0, help="seconds between readings (>= 5)")
    ap.add_argument("--verbose", action="store_true", help="log the session (credentials masked) on stderr")
    ap.add_argument("--time-scale", type=float, default=1.0, help=argparse.SUPPRESS)  # for tools/sim.py
    args = ap.parse_args(argv)
    rbid, pwd = credentials(args.config)
    try:
        return asyncio.run(read(args, rbid, pwd))
    except ValueError as e:
        raise SystemExit("broute: %s" % e)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
