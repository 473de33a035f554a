"""`broute.py read`: print meter readings through a USB Wi-SUN dongle, with the firmware's lib/ session.

Credentials come from BROUTE_ID / BROUTE_PASSWORD or `--config FILE` (JSON `broute_id`,
`broute_password`), never from the command line, so they stay out of shell history and `ps`.
The serial port is read by a thread that feeds an asyncio.StreamReader (pyserial has no
asyncio API); the session itself is the same code that runs on the ESP32.
"""
import argparse
import asyncio
import errno
import json
import logging
import os
import re
import sys
import threading
import time

from broute import bstate
from broute import detect
from broute.compat import Clock
from broute.scancache import MemoryCache, ScanCache
from broute.session import ADDR_REFUSED, AUTH_FAILED, JOIN_NO_ANSWER, NO_MODULE, NOT_FOUND, POLL_MIN_MS
from broute.session import Session
from broute.credcheck import id_problem, password_problem
from broute.version import VERSION

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_METER, EXIT_PORT = 0, 1, 2, 3, 4, 5
# what the session gives up on (state ERROR) and the exit status that names it
_EXIT_OF = {AUTH_FAILED: EXIT_AUTH, NOT_FOUND: EXIT_METER, JOIN_NO_ANSWER: EXIT_METER, NO_MODULE: EXIT_PORT,
            ADDR_REFUSED: EXIT_PORT}
# what to do about each, after the session's reason (the ID comes first: a wrong one finds no meter)
_ADVICE = {NOT_FOUND: "check the B-route ID (the meter answers only scans that carry it), "
                      "then move the dongle closer to the meter",
           JOIN_NO_ANSWER: "the meter is out of reach: move the dongle closer to the meter",
           NO_MODULE: "check --port and --baud, or unplug and replug the dongle"}
POLL_MIN_S = POLL_MIN_MS // 1000  # the session polls no faster: a smaller --interval would lie
POLL_MAX_S = 3600  # far inside the session's tick range (ticks wrap after 2**29 ms)

EPILOG = """\
The ID and password come from BROUTE_ID / BROUTE_PASSWORD or --config FILE (JSON with broute_id
and broute_password), never from the command line; they are checked before the port is opened
(ID: 32 hex digits, any case; password: 12 letters and digits, as the power company gives them)
and never printed.

The scan result (channel, PAN ID, address) is kept in $XDG_CACHE_HOME/broute/ (~/.cache/broute/),
one file per serial port, so a later run joins in seconds without scanning.

When the session gives up and needs a person (its alarm), read ends with the reason on stderr:
a refused ID or password always ends the run; no meter found, a meter not answering the join,
a module refusing the meter's address and a silent module end a --count run, while a run
without --count logs a warning and keeps retrying (with the session's backoff).

exit status:
  0  the readings asked for were printed
  1  unexpected failure (a bug: please report it with --verbose output)
  2  usage or configuration error (bad option, missing or malformed ID / password)
  3  the meter refused the B-route ID or password
  4  no meter found, or the meter did not answer the join
  5  serial port or Wi-SUN module trouble (missing, in use, no permission, unplugged, silent,
     refusing the meter's address)
  130  interrupted (Ctrl-C)
"""

log = logging.getLogger("broute")


class UserError(Exception):
    """A refused input or an unusable port: the message is for the user, `code` is the exit status."""

    def __init__(self, message, code=EXIT_USAGE):
        super().__init__(message)
        self.code = code


class SerialWriter:
    """The writer half the session expects, over a pyserial port."""

    def __init__(self, ser):
        self._ser = ser

    def write(self, data):
        self._ser.write(bytes(data))

    async def drain(self):
        pass


class UserCache(ScanCache):
    """The per-port cache file: its folder is made on first save; a write failure is a warning, not the end."""

    def __init__(self, path):
        super().__init__(path)
        self.path = path

    def save(self, d):
        try:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            super().save(d)
        except OSError as e:
            log.warning("scan cache %s not written: %s", self.path, e.strerror or e)


def cache_path(port):
    """$XDG_CACHE_HOME/broute/scan-<port>.json (XDG: a relative XDG_CACHE_HOME is ignored)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", port).strip("_.") or "port"
    return os.path.join(base, "broute", "scan-%s.json" % name)


def _pump(ser, loop, reader, stop, lost):
    """Thread: move bytes from the port into the asyncio reader until `stop` is set."""
    try:
        while not stop.is_set():
            data = ser.read(ser.in_waiting or 1)
            if data:
                loop.call_soon_threadsafe(reader.feed_data, data)
    except Exception as e:  # the dongle was unplugged: end the stream and the run
        if not stop.is_set():
            loop.call_soon_threadsafe(lost, e)
    loop.call_soon_threadsafe(reader.feed_eof)


def check_id(rbid):
    """The ID as the module wants it (upper case), or UserError; the message never shows the ID."""
    why = id_problem(rbid)
    if why:
        raise UserError("B-route ID " + why)
    return rbid.upper()


def check_password(pwd):
    """The password, or UserError; the message never shows it. The session's rule, which is the
    firmware's: the module would take 1-32 characters, but a B-route password is 12 letters and
    digits (docs/protocol.md section 2), so anything else is a typo that would only fail the join."""
    why = password_problem(pwd)
    if why:
        raise UserError("B-route password " + why)
    return pwd


def credentials(config):
    """(id, password) from --config or the environment, checked; UserError with a clear message."""
    if config:
        try:
            with open(config, encoding="utf-8-sig") as f:
                c = json.load(f)
        except OSError as e:
            raise UserError("--config %s: %s" % (config, e.strerror or e))
        except ValueError as e:
            raise UserError("--config %s: not valid JSON (line %s)" % (config, getattr(e, "lineno", "?")))
        if not isinstance(c, dict) or "broute_id" not in c or "broute_password" not in c:
            raise UserError("--config %s: needs a JSON object with broute_id and broute_password" % config)
        rbid, pwd = c["broute_id"], c["broute_password"]
    else:
        rbid, pwd = os.environ.get("BROUTE_ID"), os.environ.get("BROUTE_PASSWORD")
        if not rbid or not pwd:
            raise UserError("set BROUTE_ID and BROUTE_PASSWORD, or pass --config FILE")
    return check_id(rbid), check_password(pwd)


def open_port(path, baud):
    """The opened port, locked against a second reader; UserError (exit 5) saying what is wrong."""
    import serial
    try:
        return serial.Serial(path, baud, timeout=0.1, exclusive=True)
    except ValueError as e:  # pyserial's word for a baud rate or setting the port refuses
        raise UserError("serial port %s: %s" % (path, e))
    except serial.SerialException as e:
        code = e.errno
        if code == errno.ENOENT or (code is None and not os.path.exists(path)):
            msg = "no such serial port: %s (is the dongle plugged in? see ls /dev/ttyUSB* /dev/ttyACM*)" % path
        elif code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK):
            msg = "serial port %s is in use by another program" % path
        elif code in (errno.EACCES, errno.EPERM):
            msg = ("permission denied on serial port %s: add yourself to the dialout group "
                   "(sudo usermod -aG dialout $USER, then log in again)" % path)
        else:
            msg = "cannot open serial port %s: %s" % (path, os.strerror(code) if code else e)
        raise UserError(msg, EXIT_PORT)


def as_dict(r):
    """Reading `r` as plain values for JSON output (amperes as floats); here, not in lib/reading.py,
    as the board never needs it and every function there costs its heap (docs/hardware.md section 4)."""
    return {
        "power_w": r.power_w,
        "current_r_a": None if r.current_r_da is None else r.current_r_da / 10,
        "current_t_a": None if r.current_t_da is None else r.current_t_da / 10,
        "energy_kwh": r.energy_kwh,
        "energy_rev_kwh": r.energy_rev_kwh,
        "today_kwh": r.today_kwh,
    }


def line(reading, as_json):
    d = as_dict(reading)
    d["time"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if as_json:
        return json.dumps(d)

    def f(v, fmt):
        return "--" if v is None else fmt % v
    return "%s  %s W  R %s A  T %s A  %s kWh  today %s kWh" % (
        d["time"], f(d["power_w"], "%d"), f(d["current_r_a"], "%.1f"), f(d["current_t_a"], "%.1f"),
        f(d["energy_kwh"], "%.1f"), f(d["today_kwh"], "%.2f"))


def ending(port):
    """(the run's exit status as a future, set once; finish(code, message=None) sets it and logs
    the message; lost(e) ends it for a serial port gone), shared by `read` and `serve`."""
    end = asyncio.get_running_loop().create_future()

    def finish(code, message=None):
        if not end.done():
            if message:
                log.error("%s", message)
            end.set_result(code)

    def lost(e):
        finish(EXIT_PORT, "serial port %s: %s (was the dongle unplugged?)" % (port, e))
    return end, finish, lost


async def _finish(task):
    """Cancel the session and wait until it has ended, so the port is closed under no one.

    asyncio.wait_for can swallow a cancellation that races a completed read, so it is repeated.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.05)


async def read(args, rbid, pwd, ser):
    """Readings to stdout until --count, the session's alarm or a lost port; returns the exit status.

    The caller closes `ser` afterwards: the session task has ended by then.
    """
    import serial
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    end, finish, lost = ending(args.port)

    if args.no_cache:
        cache = MemoryCache()
    else:
        cache = UserCache(args.cache or cache_path(args.port))
        log.debug("scan cache: %s", cache.path)
    clock = Clock(1 / args.time_scale)
    stop = threading.Event()
    th = threading.Thread(target=_pump, args=(ser, loop, reader, stop, lost), daemon=True)
    th.start()
    writer = SerialWriter(ser)
    try:
        family = await _family(args, reader, writer, clock, end, finish)
    except BaseException:
        stop.set()
        await loop.run_in_executor(None, th.join)
        raise
    if family is None:
        stop.set()
        await loop.run_in_executor(None, th.join)
        return end.result() if end.done() else EXIT_PORT
    s = Session(reader, writer, rbid, pwd, cache=cache, clock=clock, log=log.debug,
                poll_ms=int(args.interval * 1000), contract_a=args.contract,
                driver=detect.driver(family))
    count = 0

    def listener(kind):
        nonlocal count
        if end.done():
            return
        if kind == "reading":
            print(line(s.reading, args.json), flush=True)
            count += 1
            if args.count and count >= args.count:
                finish(EXIT_OK)
        elif s.state == bstate.ERROR:
            code = _EXIT_OF.get(s.reason, EXIT_FAILED)
            why = "%s: %s" % (s.reason, _ADVICE[s.reason]) if s.reason in _ADVICE else s.reason
            if code == EXIT_AUTH or args.count:
                finish(code, why)
            else:
                log.warning("%s (still trying)", why)
        elif s.state == bstate.SCANNING:
            log.info("scanning (duration %d)", s.scan_duration)
        elif s.state == bstate.CONNECTED and s.rssi_dbm() is not None:
            log.info("connected (%d dBm)", s.rssi_dbm())
        else:
            log.info("%s", bstate.name(s.state))
    s.listener = listener
    task = asyncio.create_task(s.run())
    try:
        await asyncio.wait([task, end], return_when=asyncio.FIRST_COMPLETED)
    finally:
        await _finish(task)
        stop.set()
        await loop.run_in_executor(None, th.join)  # th.join() here would block the event loop
    if not task.cancelled() and task.exception():
        e = task.exception()
        if isinstance(e, serial.SerialException):
            lost(e)
        else:
            raise e
    return end.result() if end.done() else EXIT_FAILED


async def _family(args, reader, writer, clock, end, finish):
    """The dongle's module family: --module, or asked (lib/broute/detect.py: SKVER, then the
    J11 version request). Silence ends a --count run (exit 5); without --count it is asked
    again, with a growing pause. None: the run has ended (`end` holds its status)."""
    if args.module != "auto":
        log.info("Wi-SUN module: %s (--module)", args.module)
        return args.module
    pause = 2.0
    while not end.done():
        family = await detect.probe(reader, writer, clock)
        if family:
            log.info("Wi-SUN module: %s (detected)", family)
            return family
        why = "%s: neither SKSTACK nor J11 answered; %s" % (NO_MODULE, _ADVICE[NO_MODULE])
        if args.count:
            finish(EXIT_PORT, why)
            return None
        log.warning("%s (still trying)", why)
        await asyncio.wait([end], timeout=pause * args.time_scale)
        pause = min(pause * 2, 60.0)
    return None


def _interval(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text)
    if not v >= POLL_MIN_S:
        raise argparse.ArgumentTypeError("%s s is below the floor of %d s: the meter is not polled faster"
                                         % (text, POLL_MIN_S))
    if not v <= POLL_MAX_S:
        raise argparse.ArgumentTypeError("%s s is more than %d s (an hour)" % (text, POLL_MAX_S))
    return v


def _count(text):
    try:
        v = int(text)
    except ValueError:
        v = -1
    if v < 0:
        raise argparse.ArgumentTypeError("%r is not a number of readings (0 or more)" % text)
    return v


def _contract(text):
    try:
        v = int(text)
    except ValueError:
        v = 0
    if not 5 <= v <= 120:
        raise argparse.ArgumentTypeError("%r is not a contract size in amperes (5 to 120)" % text)
    return v


def parse(argv):
    ap = argparse.ArgumentParser(prog=os.path.basename(sys.argv[0]) + " read", description=__doc__.splitlines()[0], epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version="broute-stick " + VERSION)
    ap.add_argument("--port", required=True, help="serial device of the Wi-SUN dongle")
    ap.add_argument("--baud", type=int, default=115200, help="the dongle's UART speed (default 115200)")
    ap.add_argument("--count", type=_count, default=0, metavar="N",
                    help="stop after N readings (default: run until Ctrl-C); also gives up at the session's alarm")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--module", choices=("auto",) + detect.FAMILIES, default="auto",
                    help="the dongle's module family: skstack (BP35A1, BP35C0/C2, RL7023, RS-WSUHA-P) "
                         "or j11 (BP35C2-J11, RS-WSUHA-J11); default: asked at start (about a second)")
    ap.add_argument("--config", metavar="FILE", help="JSON file with broute_id and broute_password")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--cache", metavar="FILE", help="scan cache file (default: one per port in ~/.cache/broute/)")
    where.add_argument("--no-cache", action="store_true", help="keep no scan cache: every run scans")
    ap.add_argument("--interval", type=_interval, default=10.0, metavar="SECONDS",
                    help="seconds between readings, %d to %d (default 10)" % (POLL_MIN_S, POLL_MAX_S))
    ap.add_argument("--contract", type=_contract, metavar="AMPERES",
                    help="contract (breaker) size: readings impossible for it are dropped as corrupted")
    loud = ap.add_mutually_exclusive_group()
    loud.add_argument("--verbose", action="store_true", help="log the session on stderr (credentials masked)")
    loud.add_argument("--quiet", action="store_true", help="only warnings and errors on stderr")
    ap.add_argument("--time-scale", type=float, default=1.0, help=argparse.SUPPRESS)  # for tools/sim.py
    return ap.parse_args(argv)


class _Format(logging.Formatter):
    """`broute: message`; warnings and errors say so (`broute: error: ...`). Under systemd
    (JOURNAL_STREAM set) each line also starts with its syslog priority `<N>`, so
    `journalctl -p warning` works."""
    _PRI = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}

    def format(self, record):
        level = "" if record.levelno < logging.WARNING else record.levelname.lower() + ": "
        pri = "<%d>" % self._PRI.get(record.levelno, 6) if os.environ.get("JOURNAL_STREAM") else ""
        return "%sbroute: %s%s" % (pri, level, record.getMessage())


def run(args, body):
    """body() with the log on stderr at the level `args` asks for; a UserError is logged and its
    code returned, Ctrl-C is 130 (`read` and `serve` end alike)."""
    out = logging.StreamHandler(sys.stderr)
    out.setFormatter(_Format())
    log.addHandler(out)  # removed at the end: a second main() in one process would print each line twice
    log.setLevel(logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO)
    try:
        return body()
    except UserError as e:
        log.error("%s", e)
        return e.code
    except KeyboardInterrupt:
        return 130
    finally:
        log.removeHandler(out)


def main(argv=None):
    args = parse(argv)

    def body():
        log.info("broute-stick %s, reading %s", VERSION, args.port)
        rbid, pwd = credentials(args.config)
        ser = open_port(args.port, args.baud)
        try:
            return asyncio.run(read(args, rbid, pwd, ser))
        finally:
            ser.close()  # after the session task has ended: nothing writes to a closed port
    return run(args, body)


if __name__ == "__main__":
    sys.exit(main())
