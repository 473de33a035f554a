"""Home Assistant MQTT discovery and state payloads, for the stick (umqtt.simple) and the PC
(paho-mqtt) alike: topics in, bytes out, no client here (docs/mqtt.md).

Why per-entity discovery (`<prefix>/sensor/<node>/<key>/config`, one retained message per
entity) and not the device message (`<prefix>/device/<node>/config` with `cmps`, HA 2024.12+):
on the stick every message must be built whole before umqtt sends it, and the device message
carries all ten entities at once (~2.6 KB), where one entity's message is ~0.4 KB. Per entity,
one buffer sized for the longest message is reused for all of them (never all messages at once);
it also works with Home Assistant before 2024.12, and an entity can be dropped alone (an empty
retained message on its topic). Keys are HA's abbreviations and the base topic is `~`, to keep
each message short (homeassistant/components/mqtt/abbreviations.py).

The builders take no credentials at all, so no MQTT or B-route secret can reach a payload. The
state keys are `tools/broute.py read --json`'s (power_w, current_r_a, ...) plus the month, cost
and link figures; a value not known is JSON null, which HA shows as "unknown" (its MQTT sensor
takes a template rendering "None" as no value), never a stale number.
"""
import sys
from .compat import const
from .version import VERSION
from time import gmtime

# A local stamp (seconds since 2000-01-01, Reading.time's scale) as fields by the port's own
# gmtime, whose epoch is 2000 on the ESP32 and 1970 on the unix port and CPython: no date code here.
_SHIFT = 0 if gmtime(0)[0] == 2000 else 946684800

ONLINE = b"online"    # availability payloads: HA's defaults, so the configs need not name them
OFFLINE = b"offline"  # the retained last will on status_topic

_TOPIC_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/."
_MAX_TOPIC = const(64)
COUNT = const(10)  # entities (broute.hassdisc has their texts)
_STATE_SIZE = const(320)  # the state with every value at its longest and the time: ~260 B


class HassError(Exception):
    """A message does not fit its buffer, or a topic setting cannot be used."""


def topic_problem(text):
    """Config check for a discovery prefix or base topic: None when good, else what is wrong.
    Printable ASCII without MQTT's wildcards, so the stick's byte counts equal its lengths."""
    if not isinstance(text, str) or not 1 <= len(text) <= _MAX_TOPIC:
        return "must be text of 1 to %d characters" % _MAX_TOPIC
    for c in text:
        if c not in _TOPIC_CHARS:
            return "may hold only letters, digits and _ - / . (no spaces, + or #)"
    if text[0] == "/" or text[-1] == "/" or "//" in text:
        return "must not start or end with / nor hold an empty level (//)"
    return None


def unload():
    """Forget broute.hassdisc as firmware/app.py drop() forgets a module: sys.modules and the
    package's attribute (or a later `from . import` would find the old module)."""
    sys.modules.pop("broute.hassdisc", None)
    try:
        delattr(sys.modules["broute"], "hassdisc")
    except (KeyError, AttributeError):
        pass


class _Out:
    """Bytes written into one reused buffer; nothing allocated per write."""

    def __init__(self, size):
        self.buf = bytearray(size)
        self.n = 0

    def put(self, b):
        n = self.n
        e = n + len(b)
        if e > len(self.buf):
            raise HassError("message longer than its %d-byte buffer" % len(self.buf))
        self.buf[n:e] = b
        self.n = e

    def ch(self, c):
        if self.n >= len(self.buf):
            raise HassError("message longer than its %d-byte buffer" % len(self.buf))
        self.buf[self.n] = c
        self.n += 1

    def digits(self, v, width=1):
        """Decimal digits of int v >= 0, at least `width` of them."""
        d = 1
        while d * 10 <= v or width > 1:
            d *= 10
            width -= 1
        while d:
            self.ch(48 + v // d % 10)
            d //= 10

    def fixed(self, v, dp):
        """Int `v` in units of 10**-dp as a JSON number, trailing zeros of the fraction dropped."""
        if v < 0:
            self.ch(45)  # -
            v = -v
        p = 10 ** dp
        self.digits(v // p)
        f = v % p
        if f:
            while f % 10 == 0:
                f //= 10
                dp -= 1
            self.ch(46)  # .
            self.digits(f, dp)


class Hass:
    """Topics and payloads for one device. `discovery(i)` builds entity i's config message,
    `state(...)` the state message; each returns a memoryview into a reused buffer (the state's
    is the object's, discovery's the burst's), valid until the next call of the same builder
    (paho-mqtt wants bytes(view))."""

    def __init__(self, client_id, base=None, prefix="homeassistant", name="B-route meter",
                 model=None, hw=None, manufacturer="broute-stick", sw=VERSION,
                 offset_min=540, kwh_dp=2, expire_s=0):
        from .hassdisc import setup  # used once: not resident on the stick
        try:
            setup(self, client_id, base, prefix, (name, model, hw, manufacturer, sw, expire_s))
        finally:
            unload()
        self.offset_min = offset_min
        self.kwh_dp = kwh_dp                       # decimals of kWh figures (the meter's E1 step)
        self._s = _Out(_STATE_SIZE)

    def count(self):
        return COUNT

    def config_topic(self, i):
        """Entity i's discovery topic (retained); an empty message there removes the entity."""
        from .hassdisc import config_topic
        return config_topic(self, i)

    def discovery(self, i):
        """(topic, payload) of entity i's discovery message; publish it retained. The texts are
        broute.hassdisc's, loaded for a burst (i from 0 up) and forgotten after its last entity."""
        from .hassdisc import message
        t, m = message(self, i)
        if i == COUNT - 1:
            unload()
        return str(bytes(t), "utf-8"), m

    def state(self, r, month_kwh=None, today_yen=None, month_yen=None, rssi_dbm=None, now=None):
        """The state message of Reading `r` and the figures kept outside it: the month's kWh,
        the costs in yen (ints), the link in dBm (int), `now` the local stamp of the reading
        (Reading.time's scale) or None. Publish it not retained, and only for a fresh reading."""
        o = self._s
        o.n = 0
        dp = self.kwh_dp
        o.put(b'{"power_w":')
        self._num(r.power_w)
        o.put(b',"current_r_a":')
        self._num(r.current_r_da, 1)
        o.put(b',"current_t_a":')
        self._num(r.current_t_da, 1)
        o.put(b',"energy_kwh":')
        self._kwh(r.energy_kwh, dp)
        o.put(b',"energy_rev_kwh":')
        self._kwh(r.energy_rev_kwh, dp)
        o.put(b',"today_kwh":')
        self._kwh(r.today_kwh, dp)
        o.put(b',"month_kwh":')
        self._kwh(month_kwh, dp)
        o.put(b',"today_yen":')
        self._num(today_yen)
        o.put(b',"month_yen":')
        self._num(month_yen)
        o.put(b',"rssi_dbm":')
        self._num(rssi_dbm)
        o.put(b',"time":')
        if now is None:
            o.put(b"null")
        else:
            self._time(now)
        o.ch(125)  # }
        return memoryview(o.buf)[:o.n]

    def _num(self, v, dp=0):
        """Int `v` in units of 10**-dp, or null."""
        if v is None:
            self._s.put(b"null")
        else:
            self._s.fixed(v, dp)

    def _kwh(self, v, dp):
        """A kWh figure (float or int) rounded to `dp` decimals, without printing a float."""
        if v is None:
            self._s.put(b"null")
            return
        p = 10 ** dp
        self._s.fixed(int(v * p + (0.5 if v >= 0 else -0.5)), dp)

    def _time(self, s):
        """ISO 8601 local time with the offset, as `broute read` prints it: 2026-11-26T11:53:08+0900."""
        o = self._s
        y, mo, d, h, mi, sec = gmtime(s + _SHIFT)[:6]
        o.ch(34)
        o.digits(y, 4)
        for sep, v in ((45, mo), (45, d), (84, h), (58, mi), (58, sec)):
            o.ch(sep)
            o.digits(v, 2)
        off = self.offset_min
        o.ch(43 if off >= 0 else 45)
        off = abs(off)
        o.digits(off // 60, 2)
        o.digits(off % 60, 2)
        o.ch(34)
