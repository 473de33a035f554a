"""WiFi, the clock by NTP and name lookups, all in the one asyncio loop (issue 10: WiFi never
blocks the display or the meter link). Loaded only when config.json has "wifi".

What replaced the blocking calls the stick had: `ntptime.settime()` waits up to 1 s in a
blocking recv, and `socket.getaddrinfo()` of a name blocks for lwIP's DNS wait (seconds when
the DNS server is away). Here the NTP and DNS questions go out on non-blocking UDP sockets and
the answers are polled every 20 ms, with a timeout; a dotted address needs no lookup.
`wlan.connect()` returns at once on the ESP32; joining is polled (docs/hardware.md section 4
has the measured stalls).
"""
import asyncio
import socket
import struct
from time import ticks_ms, ticks_diff, ticks_add
from micropython import const

_NTP_HOST = "pool.ntp.org"
_NTP_DELTA = const(2208988800 - 946684800)  # NTP's 1900 epoch to 2000's (the stick's)
_JOIN_MS = const(20000)                  # one join attempt
_BACKOFF_S = (10, 30, 60, 120, 300)      # between failed joins
_NTP_EVERY_S = const(21600)              # six hours: how long NTP is preferred (docs/mqtt.md 4)
_UDP_WAIT_MS = const(3000)
# network.WLAN.status() codes (ESP32 port) as the info screen says them
_WHY = {201: "no AP found", 202: "wrong password", 203: "no AP found", 204: "handshake timeout",
        200: "beacon timeout"}


class NetError(Exception):
    """A name did not resolve or a UDP question got no answer."""


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
        app.pub = mqtt.Publisher(app, c, Hass(c["client_id"], c.get("topic"),
                                              c.get("prefix", "homeassistant"), model="M5StickC",
                                              offset_min=cfg.utc_offset_minutes))


class Net:
    """The WiFi task. model.wifi (False: configured, not joined), model.ip and model.wifi_why
    are the screens'; mqtt.Publisher waits on model.wifi."""

    def __init__(self, app, wifi, ntp=True, offset_min=540):
        self.app = app
        self.wifi = wifi    # {"ssid", "password"}: the password never leaves this object
        self.ntp = ntp
        self.offset = offset_min * 60
        self.dns = None

    async def run(self):
        import network
        m = self.app.model
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        try:
            wlan.config(pm=wlan.PM_NONE)  # power saving makes G37/G39 see ghost presses
        except (AttributeError, ValueError):
            pass
        fails = 0
        due = ticks_ms()  # the next NTP question
        while True:
            if not wlan.isconnected():
                self._show(False, None)
                try:
                    wlan.connect(self.wifi["ssid"], self.wifi.get("password", ""))
                except OSError as e:  # the ESP32's "WiFi internal error" while it still tries
                    self.app.log("wifi: %r" % e)
                t0 = ticks_ms()
                while not wlan.isconnected() and ticks_diff(ticks_ms(), t0) < _JOIN_MS:
                    await asyncio.sleep_ms(250)
                if not wlan.isconnected():
                    why = _WHY.get(wlan.status(), "not reachable")
                    self.app.log("wifi: %s %s" % (self.wifi["ssid"], why))
                    m.wifi_why = why
                    m.changed()
                    await asyncio.sleep(_BACKOFF_S[min(fails, len(_BACKOFF_S) - 1)])
                    fails += 1
                    continue
            fails = 0
            if not m.wifi:
                ip = wlan.ifconfig()
                self.dns = ip[3]
                self._show(True, ip[0])
                self.app.log("wifi: joined, %s" % ip[0])
            if self.ntp and ticks_diff(ticks_ms(), due) >= 0:
                try:
                    await self.sync()
                    due = ticks_add(ticks_ms(), _NTP_EVERY_S * 1000)
                except (OSError, NetError) as e:
                    self.app.log("ntp: %s" % e)
                    due = ticks_add(ticks_ms(), 300000)  # again in 5 min
            await asyncio.sleep_ms(2000)

    def _show(self, up, ip):
        m = self.app.model
        if m.wifi != up or m.ip != ip:
            m.wifi = up
            m.ip = ip
            m.changed()

    async def sync(self, host=_NTP_HOST, port=123):
        """One NTP question (RFC 4330 client mode); the app takes the UTC seconds."""
        q = bytearray(48)
        q[0] = 0x1B  # version 3, client
        a = await _udp(await self.resolve(host), port, q, 48)
        if len(a) < 48 or a[0] & 7 != 4:
            raise NetError("not an NTP answer")
        self.set_utc(struct.unpack_from("!I", a, 40)[0] - _NTP_DELTA)
        self.app.log("ntp: clock set")

    def set_utc(self, t):
        """NTP's answer (UTC seconds since 2000-01-01): the RTC and the shown clock."""
        a = self.app
        f = getattr(a.platform, "set_utc", None)
        if f:
            f(t)
        else:  # the ESP32's RTC (its epoch is 2000), as ntptime.settime sets it
            import machine
            from time import gmtime
            tm = gmtime(t)
            machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6] + 1, tm[3], tm[4], tm[5], 0))
        a.model.set_clock(t + self.offset, a.clock.ticks_ms(), True)

    async def resolve(self, host, port=53):
        """The dotted address of `host`: asked of the network's DNS server (one A question)."""
        p = host.split(".")
        if len(p) == 4 and all(x.isdigit() for x in p):  # dotted: no lookup
            return host
        if not self.dns:
            raise NetError("no DNS server")
        q = bytearray(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00")
        for part in p:
            q.append(len(part))
            q.extend(part.encode())
        q.extend(b"\x00\x00\x01\x00\x01")
        a = await _udp(self.dns, port, q, 512)
        i = len(q)  # the answers follow our question, echoed
        for _ in range(a[7] if len(a) > 12 and a[3] & 15 == 0 else 0):
            while a[i] and a[i] < 0xC0:  # a name: labels, or a pointer
                i += a[i] + 1
            i += 2 if a[i] else 1
            kind, n = a[i + 1], (a[i + 8] << 8) + a[i + 9]
            if kind == 1 and n == 4:
                return "%d.%d.%d.%d" % tuple(a[i + 10:i + 14])
            i += 10 + n
        raise NetError("%s not found" % host)
