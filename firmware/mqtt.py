"""A small MQTT 3.1.1 publisher on asyncio streams, and the task that publishes the meter to
Home Assistant (docs/mqtt.md sections 1-3). Loaded only when config.json has "mqtt".

Why not the frozen umqtt.simple: its connect() is a blocking socket connect and a blocking
read of CONNACK with no timeout, so an unreachable broker or one that stops answering would
freeze the display, the buttons and the meter link for a TCP timeout (tens of seconds), and
its check_msg() needs socket.setblocking toggling around every read. The never-block rule
(issue 10) wants every wait in the one asyncio loop: here the connect is asyncio's
non-blocking connect, every read awaits the stream, and each wait has a timeout. QoS 0
only (a lost state is replaced by the next reading); one SUBSCRIBE (homeassistant/status).
The connection's packets and the words for a failure are netonce.py's (net.once loads it per
call).
"""
import asyncio
from time import ticks_ms, ticks_diff
from micropython import const
from net import once, NetError
from broute import bstate, hass

_KEEPALIVE_S = const(60)     # netonce.py's too
_WAIT_MS = const(10000)      # connect, CONNACK, a drain, the rest of a packet: each this long
_BACKOFF_MS = (2000, 5000, 15000, 30000, 60000, 120000)
_TURN_MS = const(200)        # the publisher looks for news this often


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
        self._h = bytearray(8)  # a packet's fixed header (and the topic's length)
        self._hv = memoryview(self._h)

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
                why = once("why", e)
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
        addr = await once("resolve", self.app.net, c["host"])
        self.r, self.w = await asyncio.wait_for_ms(
            asyncio.open_connection(addr, c.get("port", 1883)), _WAIT_MS)
        await once("connect", self)
        self.app.log("mqtt: connected to %s" % c["host"])
        m.mqtt = True
        m.net_why = "connected"
        m.changed()
        self.announce = True
        self.fresh = False  # a reading from before the connection is no longer fresh
        if self._put(0x31, hass.ONLINE, self.hass.status_topic):  # PUBLISH, retained
            await self._drain()
        reader = asyncio.create_task(self._listen())
        try:
            while not reader.done():
                if self.announce and self._known():
                    self.announce = False
                    await self._announce()
                if self.fresh:
                    self.fresh = False
                    if self._put(0x30, self.state(), self.st):  # PUBLISH
                        await self._drain()
                if ticks_diff(ticks_ms(), self.sent) > _KEEPALIVE_S * 500 and self._put(0xC0, b""):
                    await self._drain()  # PINGREQ
                await asyncio.sleep_ms(_TURN_MS)
            await reader  # raises what ended it
            raise NetError("the broker closed the connection")
        finally:
            reader.cancel()

    def _known(self):
        """Whether discovery may go out: once the meter link is connected, as the device block
        names the Wi-SUN module and its version (known once the module has started), and the
        join's code has left the heap by then, so the burst never adds to it (docs/mqtt.md
        section 6). Until then there is no reading to publish either."""
        s = self.app.session
        if s is None or s.state != bstate.CONNECTED or not s.version:
            return False
        h = self.hass
        hw = "%s %s" % (s.dialect, s.version)
        if h.dev[3] != hw:
            h.dev = h.dev[:3] + (hw,) + h.dev[4:]
        return True

    async def _announce(self):
        """Each entity's retained discovery message, built one at a time in broute.hassdisc's
        one buffer, topic included, and sent as built: the burst's transient is that module,
        its buffer and a few views, whatever the number of entities (mem32's burst row). The
        module is forgotten after the burst (this frame ends with it)."""
        h = self.hass
        from broute.hassdisc import message
        try:
            for i in range(hass.COUNT):
                topic, msg = message(h, i)
                if self._put(0x31, msg, topic):
                    await self._drain()
        finally:
            hass.unload()

    def _put(self, kind, body, topic=None):
        """Write one packet: the fixed header `kind` and the remaining length, then `topic` as an
        MQTT string (a PUBLISH), then `body` as it is (a state message is a view of Hass's
        buffer). True when the socket did not take it whole: then await _drain(). Not a
        coroutine, and no wait_for_ms task unless needed: a state message or a discovery message
        usually goes whole and allocates one small view here."""
        h = self._h
        h[0] = kind
        n = len(body)
        if topic:
            if isinstance(topic, str):  # the status topic: once per connection
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
            i += 2
        w.write(self._hv[:i])
        if topic:
            w.write(topic)
        w.write(body)
        self.sent = ticks_ms()
        return getattr(w, "out_buf", True)

    async def _drain(self):
        await asyncio.wait_for_ms(self.w.drain(), _WAIT_MS)

    async def _read(self, n, ms=_WAIT_MS):
        b = await asyncio.wait_for_ms(self.r.readexactly(n), ms)
        if len(b) < n:
            raise NetError("the broker closed the connection")
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
                    raise NetError("bad packet length")
            body = await self._read(n) if n else b""
            if head[0] & 0xF0 == 0x30:
                k = (body[0] << 8) + body[1]
                if body[2:k + 2] == ha and body[k + 2 + (2 if head[0] & 6 else 0):] == b"online":
                    self.announce = True  # HA restarted: it forgot the discovery messages
