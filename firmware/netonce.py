"""The network's code that runs once per start, join, connection, clock setting or failure: the
radio's set-up, a WiFi join attempt, the publisher's set-up, MQTT's CONNECT/CONNACK/SUBSCRIBE,
NTP and DNS questions, the words for a failure. net.once() imports this module for one call and forgets it after (issue 10's heap budget: only the WiFi loop, the publishing loop and the state
message stay resident; docs/hardware.md section 4). Importing it takes a few ms, once per call.

Why NTP and DNS are asked here and not by `ntptime.settime()` and `socket.getaddrinfo()`: the
first waits up to 1 s in a blocking recv, the second blocks for lwIP's DNS wait (seconds when
the DNS server is away). Here each question goes out on a non-blocking UDP socket and the answer
is polled every 20 ms, with a timeout; a dotted address needs no lookup.
"""
import asyncio
import socket
import struct
from time import ticks_ms, ticks_diff
from micropython import const
from net import Net, NetError

_JOIN_MS = const(20000)                  # one join attempt
_BACKOFF_S = (10, 30, 60, 120, 300)      # between failed joins
_NTP_DELTA = const(2208988800 - 946684800)  # NTP's 1900 epoch to 2000's (the stick's)
_UDP_WAIT_MS = const(3000)
_KEEPALIVE_S = const(60)  # mqtt.py's
# CONNACK return codes (MQTT 3.1.1 section 3.2.2.3) as the screen says them
_REFUSED = ("protocol refused", "client id refused", "broker unavailable",
            "bad user or password", "not authorised")
# the socket errors a broker out of reach gives (lwIP's errno values are Linux's)
_ERRNO = {104: "reset", 110: "timed out", 111: "refused", 113: "unreachable", 116: "timed out"}
# network.WLAN.status() codes (ESP32 port) as the info screen says them
_WIFI = {201: "no AP found", 202: "wrong password", 203: "no AP found", 204: "handshake timeout",
         200: "beacon timeout"}


def setup(app, cfg):
    """app.net (and app.pub with its Hass when config.json has mqtt; mqtt.py and broute.hass are
    imported only then). The client id defaults to the chip's (docs/mqtt.md section 1)."""
    plat = app.platform
    app.model.wifi = False
    app.net = Net(app, cfg.wifi, getattr(plat, "ntp", False), cfg.utc_offset_minutes)
    c = cfg.mqtt
    if c:
        import mqtt
        from broute.hass import Hass
        cid = c.get("client_id")
        if not cid:
            f = getattr(plat, "chip_id", None)
            if f:
                cid = f()
            else:
                import machine
                cid = "m5-" + "".join("%02x" % b for b in machine.unique_id()[-4:])
            c["client_id"] = cid
        app.model.mqtt = False
        app.pub = mqtt.Publisher(app, c, Hass(cid, c.get("topic"), c.get("prefix", "homeassistant"),
                                              model="M5StickC", offset_min=cfg.utc_offset_minutes))


def wlan():
    """The station interface, active, without power saving (it makes G37/G39 see ghost presses)."""
    import network
    w = network.WLAN(network.STA_IF)
    w.active(True)
    try:
        w.config(pm=w.PM_NONE)
    except (AttributeError, ValueError):
        pass
    return w


async def join(n, w, fails):
    """One join attempt of Net n on WLAN w: True once joined; else the reason shown and logged
    and a pause (growing with `fails`) before the next. `wlan.connect()` returns at once on the
    ESP32; joining is polled (docs/hardware.md section 4 has the measured stalls)."""
    a = n.app
    m = a.model
    n._show(False, None)
    try:
        w.connect(n.wifi["ssid"], n.wifi.get("password", ""))
    except OSError as e:  # the ESP32's "WiFi internal error" while it still tries
        a.log("wifi: %r" % e)
    t0 = ticks_ms()
    while not w.isconnected() and ticks_diff(ticks_ms(), t0) < _JOIN_MS:
        await asyncio.sleep_ms(250)
    if w.isconnected():
        return True
    m.wifi_why = _WIFI.get(w.status(), "not reachable")
    a.log("wifi: %s %s" % (n.wifi["ssid"], m.wifi_why))
    m.changed()
    await asyncio.sleep(_BACKOFF_S[min(fails, len(_BACKOFF_S) - 1)])
    return False


def why(e):
    """What went wrong with the broker, as the info screen says it."""
    if isinstance(e, NetError):
        return str(e)
    if isinstance(e, asyncio.TimeoutError):
        return "no answer"
    if isinstance(e, OSError) and e.args:
        return _ERRNO.get(e.args[0], "error %s" % e.args[0])
    return type(e).__name__


def _str(b, s):
    """Append an MQTT string (2-byte length, UTF-8) to bytearray b."""
    s = s.encode() if isinstance(s, str) else s
    b.append(len(s) >> 8)
    b.append(len(s) & 255)
    b.extend(s)


async def connect(p):
    """Publisher p's connection once its stream is open: CONNECT (a retained "offline" will),
    CONNACK checked, SUBSCRIBE to Home Assistant's status topic (QoS 0)."""
    c, h = p.cfg, p.hass
    user, password = c.get("user"), c.get("password")
    v = bytearray(b"\x00\x04MQTT\x04")
    v.append(0x26 | (0x80 if user else 0) | (0x40 if password else 0))  # clean, will retained
    v.append(0)
    v.append(_KEEPALIVE_S)
    _str(v, c["client_id"])
    _str(v, h.status_topic)  # the will: retained "offline" there
    _str(v, b"offline")
    if user:
        _str(v, user)
    if password:
        _str(v, password)
    if p._put(0x10, v):  # CONNECT
        await p._drain()
    del v, password  # the password leaves the heap's live set
    head = await p._read(4)  # CONNACK
    if head[0] != 0x20 or head[1] != 2:
        raise NetError("not an MQTT broker")
    if head[3]:
        raise NetError(_REFUSED[head[3] - 1] if head[3] <= 5 else "refused")
    v = bytearray(b"\x00\x01")  # SUBSCRIBE, packet id 1, QoS 0
    _str(v, h.ha_status_topic)
    v.append(0)
    if p._put(0x82, v):  # SUBSCRIBE
        await p._drain()


async def _udp(addr, port, query, size):
    """Send `query` to addr:port, return the first answer of at most `size` bytes."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setblocking(False)
        s.sendto(query, socket.getaddrinfo(addr, port)[0][-1])  # dotted: no lookup, no wait
        t0 = ticks_ms()
        while ticks_diff(ticks_ms(), t0) < _UDP_WAIT_MS:
            try:
                return s.recv(size)
            except OSError:  # EAGAIN: nothing yet
                await asyncio.sleep_ms(20)
        raise NetError("no answer from %s" % addr)
    finally:
        s.close()


async def sync(n, host="pool.ntp.org", port=123):
    """One NTP question (RFC 4330 client mode) for Net n, which sets the clocks (Net.set_utc)."""
    q = bytearray(48)
    q[0] = 0x1B  # version 3, client
    a = await _udp(await resolve(n, host), port, q, 48)
    if len(a) < 48 or a[0] & 7 != 4:
        raise NetError("not an NTP answer")
    n.set_utc(struct.unpack_from("!I", a, 40)[0] - _NTP_DELTA)
    n.app.log("ntp: clock set")


async def resolve(n, host, port=53):
    """The dotted address of `host`: asked of Net n's DNS server (one A question)."""
    p = host.split(".")
    if len(p) == 4 and all(x.isdigit() for x in p):  # dotted: no lookup
        return host
    if not n.dns:
        raise NetError("no DNS server")
    q = bytearray(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00")
    for part in p:
        q.append(len(part))
        q.extend(part.encode())
    q.extend(b"\x00\x00\x01\x00\x01")
    a = await _udp(n.dns, port, q, 512)
    i = len(q)  # the answers follow our question, echoed
    for _ in range(a[7] if len(a) > 12 and a[3] & 15 == 0 else 0):
        while a[i] and a[i] < 0xC0:  # a name: labels, or a pointer
            i += a[i] + 1
        i += 2 if a[i] else 1
        kind, m = a[i + 1], (a[i + 8] << 8) + a[i + 9]
        if kind == 1 and m == 4:
            return "%d.%d.%d.%d" % tuple(a[i + 10:i + 14])
        i += 10 + m
    raise NetError("%s not found" % host)
