"""A small MQTT 3.1.1 publisher on asyncio streams, and the task that publishes the meter to
Home Assistant (docs/mqtt.md sections 1-3). Loaded only when config.json has "mqtt".

Why not the frozen umqtt.simple: its connect() is a blocking socket connect and a blocking
read of CONNACK with no timeout, so an unreachable broker or one that stops answering would
freeze the display, the buttons and the meter link for a TCP timeout (tens of seconds), and
its check_msg() needs socket.setblocking toggling around every read. The never-block rule
(issue 10) wants every wait in the one asyncio loop: here the connect is asyncio's
non-blocking connect, every read awaits the stream, and each wait has a timeout. QoS 0
only (a lost state is replaced by the next reading); one SUBSCRIBE (homeassistant/status).
"""
import asyncio
from time import ticks_ms, ticks_diff
from micropython import const

_KEEPALIVE_S = const(60)
_WAIT_MS = const(10000)      # connect, CONNACK, a drain, the rest of a packet: each this long
_BACKOFF_MS = (2000, 5000, 15000, 30000, 60000, 120000)
_TURN_MS = const(200)        # the publisher looks for news this often
# CONNACK return codes (MQTT 3.1.1 section 3.2.2.3) as the screen says them
_REFUSED = ("protocol refused", "client id refused", "broker unavailable",
            "bad user or password", "not authorised")


# the socket errors a broker out of reach gives (lwIP's errno values are Linux's)
_ERRNO = {104: "reset", 110: "timed out", 111: "refused", 113: "unreachable", 116: "timed out"}


def _why(e):
    """What went wrong, as the info screen says it."""
    if isinstance(e, MqttError):
        return str(e)
    if isinstance(e, asyncio.TimeoutError):
        return "no answer"
    if isinstance(e, OSError) and e.args:
        return _ERRNO.get(e.args[0], "error %s" % e.args[0])
    return type(e).__name__


class MqttError(Exception):
    """The broker refused us, sent what MQTT does not allow, or went silent."""


def _str(b, s):
    """Append an MQTT string (2-byte length, UTF-8) to bytearray b."""
    s = s.encode() if isinstance(s, str) else s
    b.append(len(s) >> 8)
    b.append(len(s) & 255)
    b.extend(s)


class Publisher:
    """The task, and its one connection: connect with backoff, announce (online, discovery),
    then a state message for every fresh reading; again after HA says `online` on its status
    topic. The app sets `fresh` on a reading; model.mqtt / model.net_why say how it goes (the
    screens show them). One class (not a client and a task): one type and method table less."""

    def __init__(self, app, cfg, hass):
        self.app = app
        self.cfg = cfg     # the config's "mqtt" object (its password stays in here only)
        self.hass = hass
        self.fresh = False
        self.announce = True
        self.st = hass.state_topic.encode()  # encoded once: nothing allocated per state message
        self.r = self.w = None
        self.sent = 0           # ticks of the last packet sent (keepalive)
        self._h = bytearray(8)  # a packet's fixed header: nothing allocated per state message

    async def run(self):
        m = self.app.model
        tries = 0
        last = None  # the last failure, logged once until it changes
        while True:
            while not m.wifi:
                await asyncio.sleep_ms(500)
            if not tries:
                m.net_why = "connecting"
                m.changed()
            try:
                await self._session(m)
            except Exception as e:  # a broker's trouble, or ours: never the end of the task
                why = _why(e)
                if m.mqtt or why != last:
                    self.app.log("mqtt: %s" % why)
                if m.mqtt:
                    tries = 0
                last = why
                m.mqtt = False
                m.net_why = why
                m.changed()
            finally:
                if self.w:
                    try:
                        self.w.close()
                    except OSError:
                        pass
                self.r = self.w = None
            await asyncio.sleep_ms(_BACKOFF_MS[min(tries, len(_BACKOFF_MS) - 1)])
            tries += 1

    async def _session(self, m):
        c = self.cfg
        h = self.hass
        addr = await self.app.net.resolve(c["host"])
        self.r, self.w = await asyncio.wait_for_ms(
            asyncio.open_connection(addr, c.get("port", 1883)), _WAIT_MS)
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
        await self._send(0x10, v)  # CONNECT
        del v, password  # the password leaves the heap's live set
        head = await self._read(4)  # CONNACK
        if head[0] != 0x20 or head[1] != 2:
            raise MqttError("not an MQTT broker")
        if head[3]:
            raise MqttError(_REFUSED[head[3] - 1] if head[3] <= 5 else "refused")
        v = bytearray(b"\x00\x01")  # SUBSCRIBE, packet id 1, QoS 0
        _str(v, h.ha_status_topic)
        v.append(0)
        await self._send(0x82, v)
        self.app.log("mqtt: connected to %s" % c["host"])
        m.mqtt = True
        m.net_why = "connected"
        m.changed()
        self.announce = True
        self.fresh = False  # a reading from before the connection is no longer fresh
        reader = asyncio.create_task(self._listen())
        try:
            while not reader.done():
                if self.announce:
                    self.announce = False
                    await self._send(0x31, b"online", h.status_topic)  # PUBLISH, retained
                    for i in range(h.count()):
                        topic, msg = h.discovery(i)
                        await self._send(0x31, msg, topic)
                if self.fresh:
                    self.fresh = False
                    await self._send(0x30, self.state(), self.st)  # PUBLISH
                if ticks_diff(ticks_ms(), self.sent) > _KEEPALIVE_S * 500:
                    await self._send(0xC0, b"")  # PINGREQ
                await asyncio.sleep_ms(_TURN_MS)
            await reader  # raises what ended it
            raise MqttError("the broker closed the connection")
        finally:
            reader.cancel()

    async def _send(self, kind, body, topic=None):
        """One packet: the fixed header `kind` and the remaining length, then `topic` as an MQTT
        string (a PUBLISH), then `body` as it is (a state message is a view of Hass's buffer).
        Waits (with a timeout) only for what the socket did not take at once: a state message
        usually goes whole, and wait_for_ms would allocate a task per message."""
        h = self._h
        h[0] = kind
        n = len(body)
        if topic:
            if isinstance(topic, str):  # discovery's and the status topic: only in a burst
                topic = topic.encode()
            n += 2 + len(topic)
        i = 1
        while True:  # MQTT's variable-length remaining length
            h[i] = n & 127 | (128 if n > 127 else 0)
            n >>= 7
            i += 1
            if not n:
                break
        w = self.w
        if topic:
            h[i] = len(topic) >> 8
            h[i + 1] = len(topic) & 255
            w.write(memoryview(h)[:i + 2])
            w.write(topic)
        else:
            w.write(memoryview(h)[:i])
        w.write(body)
        if getattr(w, "out_buf", True):
            await asyncio.wait_for_ms(w.drain(), _WAIT_MS)
        self.sent = ticks_ms()

    async def _read(self, n, ms=_WAIT_MS):
        b = await asyncio.wait_for_ms(self.r.readexactly(n), ms)
        if len(b) < n:
            raise MqttError("the broker closed the connection")
        return b

    def state(self):
        """The state message of the session's reading (broute.hass), a view into Hass's buffer."""
        a = self.app
        r, m = a.session.reading, a.model
        return self.hass.state(r, r.month_kwh, m.today_yen, m.month_yen,
                               m.rssi_dbm, m.clock(r.ticks))

    async def _listen(self):
        """Read what the broker sends; a silence of 1.5 keepalives ends the connection, as does
        a packet not whole within _WAIT_MS. Only a PUBLISH (HA's status) matters; PINGRESP and
        SUBACK are read and let go."""
        ha = self.hass.ha_status_topic.encode()
        while True:
            head = await self._read(1, _KEEPALIVE_S * 1500)
            n, shift = 0, 0
            while True:
                d = (await self._read(1))[0]
                n |= (d & 127) << shift
                shift += 7
                if d < 128:
                    break
                if shift > 21:
                    raise MqttError("bad packet length")
            body = await self._read(n) if n else b""
            if head[0] & 0xF0 == 0x30:
                k = (body[0] << 8) + body[1]
                if body[2:k + 2] == ha and body[k + 2 + (2 if head[0] & 6 else 0):] == b"online":
                    self.announce = True  # HA restarted: it forgot the discovery messages
