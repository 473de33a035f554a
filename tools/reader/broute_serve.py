"""`broute serve`: publish the meter to an MQTT broker for Home Assistant, and/or serve its web page, as a service.

Reads the meter through a USB Wi-SUN dongle, for as long as it runs: with --mqtt, publishes
discovery, availability and a state per fresh reading; with --http, serves the stick's web page,
/api/now, /api/history and Prometheus /metrics (docs/http.md) with the same server code as the stick
(lib/broute/httpd.py; its figures from websource.py). Either is enough, both may run at once.

The session is `broute read`'s (broute_read.py: credentials, port, scan cache, module detection);
the messages are the stick's, built by lib/broute/hass.py (docs/mqtt.md). paho-mqtt runs in a
thread of its own (mqttlink.py) and never stalls the meter link; the broker may come and go.
"""
import argparse
import asyncio
import inspect
import json
import os
import re
import signal
import sys
import threading
import time

import broute_read as rd
from broute_read import EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH  # noqa: F401  (one set of exit codes; USAGE for tests)
from broute import bstate, detect, hass, tariff, tariffcfg
from broute.compat import Clock
from broute.scancache import MemoryCache
from broute.session import Session
from broute.version import VERSION

PASSWORD_ENV = "BROUTE_MQTT_PASSWORD"
log = rd.log

EPILOG = """\
Settings come from flags, else from --config FILE: the stick's config.json shape (broute_id,
broute_password, "mqtt": {host, port, user, password, prefix, topic, client_id}, "tariff",
"reading_day", "utc_offset_minutes", and for the web page "contract_amperes" and "warn_ratio";
docs/mqtt.md). The file's "http" object is the stick's and is not read: the PC's web server is
--http HOST:PORT only (0.0.0.0:8080 for every interface; anyone who can reach it reads the meter's
figures, never a secret). The B-route ID and password come from that file or
BROUTE_ID / BROUTE_PASSWORD; the MQTT password from that file, $BROUTE_MQTT_PASSWORD or
--mqtt-password-file, never from the command line (ps shows it), and none of them is ever logged.

Topics (docs/mqtt.md): <prefix>/sensor/<client id>/<key>/config, <topic>/status, <topic>/state; the
client id defaults to broute-<serial port name>, the topic to broute/<client id>.

A broker that is unreachable, goes away or refuses the user or password does not stop the meter
link: the log says why (a warning when it changes, then quiet) and the connection is retried every
1 s doubling to 60 s. Discovery and online are published again after every (re)connection and
whenever Home Assistant publishes "online" on <prefix>/status.

exit status (for a service manager, docs/service.md):
  0  stopped by SIGTERM (offline published first)
  1  unexpected failure (a bug: please report it with --verbose output)
  2  usage or configuration error: restarting will not help
  3  the meter refused the B-route ID or password: restarting will not help
  5  serial port or Wi-SUN module trouble (missing, in use, no permission, unplugged): restart later
  130  interrupted (Ctrl-C)
A meter not found or not answering is retried, not an exit.
"""

_JST = 540                # minutes east of UTC: Japan, no daylight saving time
_SINCE_1970 = 946684800   # 2000-01-01 in seconds since 1970-01-01


def _mqtt_addr(text):
    host, sep, port = text.rpartition(":") if not text.endswith("]") else (text, "", "")
    if not sep:
        host, port = text, "1883"
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("%r is not HOST or HOST:PORT" % text)
    return host, int(port)


def _http_addr(text):
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("%r is not HOST:PORT (e.g. 0.0.0.0:8080, 127.0.0.1:8080, [::]:8080)"
                                         % text)
    return host, int(port)


def parse(argv):
    ap = argparse.ArgumentParser(prog=os.path.basename(sys.argv[0]) + " serve", description=__doc__.splitlines()[0],
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version="broute-stick " + VERSION)
    ap.add_argument("--port", required=True, help="serial device of the Wi-SUN dongle")
    ap.add_argument("--mqtt", type=_mqtt_addr, metavar="HOST[:PORT]", help="the broker (default port 1883)")
    ap.add_argument("--http", type=_http_addr, metavar="HOST:PORT",
                    help="serve the web page, JSON and Prometheus metrics here (docs/http.md)")
    ap.add_argument("--mqtt-user", metavar="USER", help="user name at the broker")
    ap.add_argument("--mqtt-password-file", metavar="FILE", help="file holding the broker password (one line)")
    ap.add_argument("--prefix", help="Home Assistant discovery prefix (default homeassistant)")
    ap.add_argument("--topic", help="base topic (default broute/<client id>)")
    ap.add_argument("--client-id", help="MQTT client id and HA node id (default broute-<port name>)")
    ap.add_argument("--config", metavar="FILE", help="JSON settings: the stick's config.json shape")
    ap.add_argument("--baud", type=int, default=115200, help="the dongle's UART speed (default 115200)")
    ap.add_argument("--module", choices=("auto",) + detect.FAMILIES, default="auto",
                    help="the dongle's module family (default: asked at start)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--cache", metavar="FILE", help="scan cache file (default: one per port in ~/.cache/broute/)")
    where.add_argument("--no-cache", action="store_true", help="keep no scan cache: every start scans")
    ap.add_argument("--interval", type=rd._interval, default=10.0, metavar="SECONDS",
                    help="seconds between readings (default 10)")
    ap.add_argument("--contract", type=rd._contract, metavar="AMPERES",
                    help="contract (breaker) size: readings impossible for it are dropped as corrupted; "
                         "with --http, the page's load colours (default: contract_amperes, else 30)")
    loud = ap.add_mutually_exclusive_group()
    loud.add_argument("--verbose", action="store_true", help="debug messages on stderr (credentials masked)")
    loud.add_argument("--quiet", action="store_true", help="only warnings and errors on stderr")
    ap.add_argument("--time-scale", type=float, default=1.0, help=argparse.SUPPRESS)  # for tools/sim.py
    args = ap.parse_args(argv)
    args.count = 0  # broute_read's helpers: a service never stops after N readings
    return args


def _config(path):
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8-sig") as f:
            c = json.load(f)
    except OSError as e:
        raise rd.UserError("--config %s: %s" % (path, e.strerror or e))
    except ValueError as e:
        raise rd.UserError("--config %s: not valid JSON (line %s)" % (path, getattr(e, "lineno", "?")))
    if not isinstance(c, dict):
        raise rd.UserError("--config %s: needs a JSON object" % path)
    return c


def settings(args, cfg):
    """The MQTT, web and energy settings: flags first, then the config file's; UserError naming a
    bad one. Without a broker (host None) only the web server runs."""
    m = cfg.get("mqtt") or {}
    if not isinstance(m, dict):
        raise rd.UserError('config "mqtt" must be an object or null')
    host, port = args.mqtt or (m.get("host"), 1883 if m.get("port") is None else m.get("port"))
    st = _energy(cfg)
    st.update(http=args.http, host=host or None)
    if args.http:
        st.update(_web(args, cfg))
    if not host:
        if args.http:
            return st
        raise rd.UserError("nothing to serve: no broker (pass --mqtt HOST[:PORT] or set mqtt.host in --config) "
                           "and no web server (pass --http HOST:PORT)")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise rd.UserError("mqtt.port must be a port number (1 to 65535)")
    user = args.mqtt_user or m.get("user") or None
    password = os.environ.get(PASSWORD_ENV) or m.get("password") or None
    if args.mqtt_password_file:
        try:
            with open(args.mqtt_password_file, encoding="utf-8") as f:
                password = f.readline().rstrip("\r\n")
        except OSError as e:
            raise rd.UserError("--mqtt-password-file %s: %s" % (args.mqtt_password_file, e.strerror or e))
    if password and not user:
        raise rd.UserError("an MQTT password is set but no user: pass --mqtt-user or set mqtt.user")
    # the port's own name, not the device it links to: /dev/serial/by-id/... stays the same when
    # the dongle comes back as another ttyUSBn, and this id is Home Assistant's device id
    client_id = args.client_id or m.get("client_id") or "broute-" + (
        re.sub(r"[^A-Za-z0-9_-]+", "_", os.path.basename(args.port)).strip("_") or "port")
    prefix = args.prefix or m.get("prefix") or "homeassistant"
    topic = args.topic or m.get("topic") or None
    for what, t in (("discovery prefix", prefix), ("base topic", topic)):
        why = t is not None and hass.topic_problem(t)
        if why:
            raise rd.UserError("%s %s" % (what, why))
    st.update(port=port, user=user, password=password, client_id=client_id, prefix=prefix, topic=topic)
    return st


def _energy(cfg):
    """The billing month, the time zone and the tariff: the stick's rules (firmware/config.py)."""
    day = cfg.get("reading_day", 1)
    if type(day) is not int or not 1 <= day <= 28:  # the stick's rule (firmware/config.py)
        raise rd.UserError("reading_day must be a whole number from 1 (the calendar month) to 28")
    offset = cfg.get("utc_offset_minutes", _JST)
    if not isinstance(offset, int) or isinstance(offset, bool) or not -720 <= offset <= 840:
        raise rd.UserError("utc_offset_minutes must be a whole number of minutes, -720 to 840")
    t = cfg.get("tariff")
    if t is not None:
        why = tariffcfg.problem(t)
        if why:
            raise rd.UserError("tariff: %s" % why)
        t = tariffcfg.load(t)
    return dict(reading_day=day, offset=offset, tariff=t)


def _web(args, cfg):
    """The page's load levels (firmware/ui_theme.py `level`): --contract, else the stick's
    contract_amperes (default 30), and warn_ratio (default 0.8), by the stick's rules."""
    a = args.contract or cfg.get("contract_amperes", 30)
    if type(a) is not int or not 5 <= a <= 120:
        raise rd.UserError("contract_amperes must be a whole number of amperes, 5 to 120")
    r = cfg.get("warn_ratio", 0.8)
    if type(r) not in (int, float) or not 0.1 <= r <= 1.0:
        raise rd.UserError("warn_ratio must be a number from 0.1 to 1.0")
    return dict(contract_a=a, warn_percent=int(r * 100 + 0.5))


def state_payload(h, s, cfg):
    """Session `s`'s reading as the state message (bytes); the time is the meter's clock when the
    reading knows it, else this computer's clock in the configured zone."""
    r = s.reading
    today_yen, month_yen = tariff.costs(cfg["tariff"], r) if cfg["tariff"] else (None, None)
    now = r.time
    if now is None:  # local seconds since 2000-01-01, the scale of Reading.time
        now = int(time.time()) - _SINCE_1970 + cfg["offset"] * 60
    return bytes(h.state(r, month_kwh=r.month_kwh, today_yen=today_yen, month_yen=month_yen,
                         rssi_dbm=s.rssi_dbm(), now=now))


def _session(reader, writer, rbid, pwd, cache, clock, args, cfg, family):
    kw = dict(cache=cache, clock=clock, log=log.debug, poll_ms=int(args.interval * 1000),
              contract_a=args.contract, driver=detect.driver(family))
    if "reading_day" in inspect.signature(Session).parameters:
        kw["reading_day"] = cfg["reading_day"]
    return Session(reader, writer, rbid, pwd, **kw)


async def _web_server(cfg, clock):
    """The web server on --http, its source to attach to the session; UserError when it cannot listen."""
    import websource
    from broute.httpd import Server
    src = websource.Source(clock, cfg, cfg["contract_a"], cfg["warn_percent"])
    srv = Server(src, websource.PAGE)
    host, port = cfg["http"]
    try:
        await srv.start(host, port)
    except OSError as e:
        raise rd.UserError("--http %s:%d: cannot listen there: %s" % (host, port, e.strerror or e))
    log.info("web page on http://%s:%d/", "[%s]" % host if ":" in host else host, port)
    return srv, src


async def serve(args, rbid, pwd, ser, cfg, link):
    """Publish and/or serve readings until a signal, the meter's refusal or a lost port; returns the
    exit status. `link` is the MQTT link, None without a broker."""
    import serial
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    end, finish, lost = rd.ending(args.port)

    def stopping(sig, code):
        log.info("stopping (%s)", signal.Signals(sig).name)
        finish(code)

    for sig, code in ((signal.SIGTERM, EXIT_OK), (signal.SIGINT, 130)):
        loop.add_signal_handler(sig, stopping, sig, code)
    cache = MemoryCache() if args.no_cache else rd.UserCache(args.cache or rd.cache_path(args.port))
    clock = Clock(1 / args.time_scale)
    srv = src = None
    if cfg["http"]:
        srv, src = await _web_server(cfg, clock)  # before anything starts: a refusal ends the run at once
    stop = threading.Event()
    th = threading.Thread(target=rd._pump, args=(ser, loop, reader, stop, lost), daemon=True)
    th.start()
    writer = rd.SerialWriter(ser)
    task = None
    module = None  # the module's version, logged once known
    if link:
        link.start()  # the broker hears "online" while the meter link is still coming up
    try:
        family = await rd._family(args, reader, writer, clock, end, finish)
        if family is not None:
            s = _session(reader, writer, rbid, pwd, cache, clock, args, cfg, family)
            if src:
                src.attach(s)

            def listener(kind):
                nonlocal module
                if end.done():
                    return
                if kind == "reading":
                    if src:
                        src.fresh()
                    if link:
                        link.state(state_payload(link.hass, s, cfg))
                elif s.state == bstate.ERROR:
                    code = rd._EXIT_OF.get(s.reason, EXIT_FAILED)
                    why = "%s: %s" % (s.reason, rd._ADVICE[s.reason]) if s.reason in rd._ADVICE else s.reason
                    if code == EXIT_AUTH:
                        finish(code, why)
                    else:
                        log.warning("%s (still trying)", why)
                elif s.state == bstate.CONNECTED:
                    if s.version and (link.device(s.dialect, s.version) if link else module != s.version):
                        module = s.version
                        log.info("module %s %s", s.dialect, s.version)
                    rssi = s.rssi_dbm()
                    log.info("meter connected%s", "" if rssi is None else " (%d dBm)" % rssi)
                else:
                    log.info("meter link: %s", bstate.name(s.state))
            s.listener = listener
            task = asyncio.create_task(s.run())
            await asyncio.wait([task, end], return_when=asyncio.FIRST_COMPLETED)
    finally:
        if task is not None:
            await rd._finish(task)
        stop.set()
        await loop.run_in_executor(None, th.join)
        if srv:
            await srv.close()
        if link:
            await loop.run_in_executor(None, link.close)  # offline published, then a clean disconnect
    if task is not None and not task.cancelled() and task.exception():
        e = task.exception()
        if isinstance(e, serial.SerialException):
            lost(e)
        else:
            raise e
    return end.result() if end.done() else EXIT_FAILED


def main(argv=None):
    args = parse(argv)

    def body():
        cfg = _config(args.config)
        rbid, pwd = rd.credentials(args.config)
        st = settings(args, cfg)
        if st["host"]:
            import mqttlink  # paho-mqtt: imported only with a broker
            log.info("broute-stick %s, serving %s to mqtt://%s:%d as %s", VERSION, args.port, st["host"],
                     st["port"], st["client_id"])
        else:
            log.info("broute-stick %s, serving %s on the web only (no broker)", VERSION, args.port)
        ser = rd.open_port(args.port, args.baud)
        link = mqttlink.Link(st, log) if st["host"] else None
        try:
            return asyncio.run(serve(args, rbid, pwd, ser, st, link))
        finally:
            ser.close()
    return rd.run(args, body)

if __name__ == "__main__":
    sys.exit(main())
