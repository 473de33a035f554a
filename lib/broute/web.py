"""The web server's sans-I/O half, the same on the stick and the PC (docs/http.md): the request
head parser (`Head`) and the bodies of /api/now, /api/history and /metrics, written into an `Out`
that hands its buffer to a sink whenever it fills, so no body is ever whole in RAM.

The builders ask a "source" object for the device's figures; the stick's is firmware/websrc.py,
the PC's is broute serve's. A source has:

    session        the current broute.session.Session, or None: its state, rssi_dbm(), dialect,
                   version, and its recovery counters rejoins, scans, resets, timeouts
    reading        the Reading that session fills (broute.reading), or None; while its `seq` is 0
                   (no fresh reading in it) its figures are all null
    readings       fresh readings since start, over all sessions (int)
    past           [rejoins, scans, resets, timeouts] of the sessions that ended before this one
    contract_a     the contract's amperes; warn_percent: "near" from this share of it (ints)
    offset_min     the local time's offset from UTC, minutes (540: Japan)
    now_ms()       the session clock's ticks_ms(), the clock of Reading.ticks
    uptime_s()     seconds since start (int)
    costs()        (today_yen, month_yen) as ints, or (None, None) without a tariff
    heap()         free heap bytes (the stick's gc.mem_free()), or None (left out)
    minute(age)    the average watts of the minute `age` minutes ago (0: the current one), or None
    half_hour(day, slot)  kWh bought in half hour `slot` (0: 00:00-00:30) of today (day 0) or
                   yesterday (day 1), or None: broute.reading.HalfHours.kwh does it

Nothing here raises on a missing figure: it is null in JSON and left out of /metrics.
"""
from time import gmtime
from .compat import const, ticks_diff
from . import bstate
from .version import VERSION

# The paths (Head.path), the contract of docs/http.md
PAGE = const(0)
NOW = const(1)
HISTORY = const(2)
METRICS = const(3)
_PATHS = (b"/", b"/api/now", b"/api/history", b"/metrics")
LINE_MAX = const(128)   # a request line longer than this: 414 (every path served is short)
HEAD_MAX = const(1024)  # the whole head (request line and headers): 431 beyond
# gmtime's epoch is 2000 on the ESP32 and 1970 elsewhere (as in broute.hass)
_SHIFT = 0 if gmtime(0)[0] == 2000 else 946684800
_LEVELS = (None, "normal", "near", "over", "export")  # firmware/ui_theme.py's levels, in order


class Head:
    """One request's head, fed as it arrives (`feed`). `status` is 0 until the head is decided:
    200 (serve `path`), 400 (malformed), 404, 405 (not GET/HEAD), 414, 431. `head_only` for HEAD.
    Only the request line is kept (LINE_MAX bytes); the headers are counted, not stored."""

    def __init__(self):
        self.line = bytearray(LINE_MAX)
        self.k = 0          # bytes of the request line so far; -1: in the headers
        self.n = 0          # bytes of the head so far
        self.nl = 0         # line ends in a row (a blank line ends the head)
        self.status = 0
        self.path = -1
        self.head_only = False
        self._code = 0      # the request line's verdict, given once the head has ended

    def feed(self, data):
        """Take the next bytes; True once `status` is decided (the rest is not looked at)."""
        for c in data:
            self.n += 1
            if self.n > HEAD_MAX:
                self.status = 431
                return True
            if self.k >= 0:
                if c == 10:
                    self._code = self._request_line(self.k)
                    if self._code == 400:
                        self.status = 400  # garbage: answered at once
                        return True
                    self.k = -1
                    self.nl = 1
                elif self.k >= LINE_MAX:
                    self.status = 414
                    return True
                else:
                    self.line[self.k] = c
                    self.k += 1
            elif c == 10:
                self.nl += 1
                if self.nl == 2:
                    self.status = self._code
                    return True
            elif c != 13:
                self.nl = 0
        return False

    def _request_line(self, k):
        """The verdict on "METHOD TARGET HTTP/1.x" (RFC 9112 section 3)."""
        b = self.line
        if k and b[k - 1] == 13:
            k -= 1
        a = b.find(b" ", 0, k)
        z = b.find(b" ", a + 1, k)
        if a < 1 or z < 0 or k - z != 9 or b[z + 1:z + 8] != b"HTTP/1." or b[a + 1] != 47:  # /
            return 400
        for i in range(a):
            if not 65 <= b[i] <= 90:  # methods are upper-case tokens
                return 400
        q = b.find(b"?", a + 1, z)
        path = bytes(b[a + 1:z if q < 0 else q])
        for i in range(z + 1, k):
            if b[i] < 33 or b[i] > 126:
                return 400
        m = bytes(b[:a])
        if m != b"GET" and m != b"HEAD":
            return 405
        self.head_only = m == b"HEAD"
        if path in _PATHS:
            self.path = _PATHS.index(path)
            return 200
        return 404


class Out:
    """Bytes written into one reused buffer; `sink(memoryview)` takes the buffer each time it is
    full and at `flush()` (the sink must use or copy the bytes before returning)."""

    def __init__(self, buf, sink):
        self.buf = buf
        self.mv = memoryview(buf)
        self.n = 0
        self.sink = sink

    def put(self, b):
        """bytes or (ASCII) str."""
        if isinstance(b, str):
            b = b.encode()
        i = 0
        while i < len(b):
            k = min(len(self.buf) - self.n, len(b) - i)
            self.mv[self.n:self.n + k] = b[i:i + k] if i or k < len(b) else b
            self.n += k
            i += k
            if self.n == len(self.buf):
                self.flush()

    def flush(self):
        if self.n:
            self.sink(self.mv[:self.n])
            self.n = 0


def num(v, dp=0):
    """JSON / Prometheus text of `v`: None, an int in units of 10**-dp (tenths of an ampere) when
    dp > 0 and it is an int, or a float (kWh) rounded to `dp` decimals. No float printing: the
    ESP32's single-precision floats print 12345.6 as 12345.599."""
    if v is None:
        return None
    if dp == 0:
        return "%d" % v
    p = 10 ** dp
    if isinstance(v, float):
        v = int(v * p + (0.5 if v >= 0 else -0.5))
        sign = "-" if v < 0 else ""
    else:
        sign = "-" if v < 0 else ""
    v = abs(v)
    return "%s%d.%0*d" % (sign, v // p, dp, v % p)


def level(src, r):
    """firmware/ui_theme.py's `level` by name: the larger phase current against the contract
    (the power at 100 V per ampere without currents); None without a reading."""
    w = r.power_w
    if w is None:
        return None
    if w < 0:
        return "export"
    a, b = r.current_r_da, r.current_t_da
    da = b if a is None else a if b is None or a > b else b
    pct = da * 10 // src.contract_a if da is not None else w // src.contract_a
    return "over" if pct >= 100 else "near" if pct >= src.warn_percent else "normal"


def local_time(s, offset_min):
    """Reading.time (local seconds since 2000) as broute read prints it: 2026-11-26T11:53:08+0900."""
    if s is None:
        return None
    t = gmtime(s + _SHIFT)
    o = abs(offset_min)
    return "%04d-%02d-%02dT%02d:%02d:%02d%s%02d%02d" % (
        t[0], t[1], t[2], t[3], t[4], t[5], "-" if offset_min < 0 else "+", o // 60, o % 60)


def _text(s):
    """A JSON / label string of device text: quotes and backslashes escaped, controls dropped."""
    if s is None:
        return None
    return '"%s"' % "".join(c if c >= " " and c != '"' and c != "\\" else
                            ("\\" + c if c >= " " else "") for c in str(s))


def module(s):
    return None if s is None or not s.version else "%s %s" % (s.dialect, s.version)


# /api/now: (key, the Reading's attribute, decimals); the first seven keys are broute read
# --json's (tools/reader/broute_read.py), time among them
_NOW = (("power_w", "power_w", 0), ("current_r_a", "current_r_da", -1),
        ("current_t_a", "current_t_da", -1), ("energy_kwh", "energy_kwh", 2),
        ("energy_rev_kwh", "energy_rev_kwh", 2), ("today_kwh", "today_kwh", 2), ("time", None, 0),
        ("today_rev_kwh", "today_rev_kwh", 2), ("month_kwh", "month_kwh", 2),
        ("month_rev_kwh", "month_rev_kwh", 2))


def _fresh(src):
    r = src.reading
    return r if r is not None and r.seq else None


def _fig(r, attr, dp):
    v = None if r is None else getattr(r, attr)
    return num(v, 1) if dp < 0 else num(v, dp)


def now(o, src):
    """/api/now's JSON object."""
    s = src.session
    r = _fresh(src)
    for i, (key, attr, dp) in enumerate(_NOW):
        o.put('{"' if i == 0 else ',"')
        o.put(key)
        o.put('":')
        if attr is None:
            t = None if r is None else local_time(r.time, src.offset_min)
            v = None if t is None else '"%s"' % t
        else:
            v = _fig(r, attr, dp)
        o.put(v or "null")
    ty, my = src.costs()
    rssi = s.rssi_dbm() if s else None
    age = None if r is None else ticks_diff(src.now_ms(), r.ticks) // 1000
    lv = None if r is None else level(src, r)
    for key, v in (("today_yen", num(ty)), ("month_yen", num(my)), ("rssi_dbm", num(rssi)),
                   ("age_s", num(age)), ("level", _text(lv)), ("contract_a", num(src.contract_a)),
                   ("link", _text(bstate.name(s.state) if s else "starting")),
                   ("module", _text(module(s))), ("firmware", _text(VERSION)),
                   ("uptime_s", num(src.uptime_s()))):
        o.put(',"')
        o.put(key)
        o.put('":')
        o.put(v or "null")
    o.put("}")


def _list(o, key, n, f, a, dp):
    o.put(key)
    for i in range(n):
        o.put("," if i else "[")
        o.put(num(f(*a, i), dp) or "null")
    o.put("]")


def history(o, src):
    """/api/history: the last hour's minute averages (oldest first), today's and yesterday's
    half hours bought."""
    _list(o, '{"minutes":', 60, lambda i: src.minute(59 - i), (), 0)
    _list(o, ',"today":', 48, src.half_hour, (0,), 3)
    _list(o, ',"yesterday":', 48, src.half_hour, (1,), 3)
    o.put("}")


# /metrics: (name, type, help); the samples come from `_samples`, in this order
_FAMILIES = (
    ("broute_power_watts", "gauge", "Instantaneous power (E7); negative: export."),
    ("broute_current_amperes", "gauge", "Instantaneous current per phase (E8)."),
    ("broute_energy_bought_kilowatt_hours_total", "counter", "The meter's cumulative energy bought (E0)."),
    ("broute_energy_sold_kilowatt_hours_total", "counter", "The meter's cumulative energy sold (E3)."),
    ("broute_energy_today_kilowatt_hours", "gauge", "Energy since 00:00, meter time."),
    ("broute_energy_month_kilowatt_hours", "gauge", "Energy since the billing month began."),
    ("broute_cost_yen", "gauge", "Cost by the configured tariff."),
    ("broute_link_rssi_dbm", "gauge", "The Wi-SUN link's signal strength."),
    ("broute_link_up", "gauge", "1 while connected to the meter."),
    ("broute_reading_age_seconds", "gauge", "Seconds since the last reading."),
    ("broute_readings_total", "counter", "Fresh readings since start."),
    ("broute_recoveries_total", "counter", "Recoveries of the meter link since start, by kind."),
    ("broute_free_heap_bytes", "gauge", "Free heap (gc.mem_free())."),
    ("broute_uptime_seconds", "gauge", "Seconds since start."),
    ("broute_info", "gauge", "Firmware and module versions."),
)


def _samples(src, i, r, s):
    """Family i's ((labels, value text), ...); a None value is left out."""
    if i == 0:
        return ((None, _fig(r, "power_w", 0)),)
    if i == 1:
        return (('phase="r"', _fig(r, "current_r_da", -1)), ('phase="t"', _fig(r, "current_t_da", -1)))
    if i < 4:
        return ((None, _fig(r, "energy_kwh" if i == 2 else "energy_rev_kwh", 2)),)
    if i < 6:
        p = "today" if i == 4 else "month"
        return (('direction="bought"', _fig(r, p + "_kwh", 2)),
                ('direction="sold"', _fig(r, p + "_rev_kwh", 2)))
    if i == 6:
        ty, my = src.costs()
        return (('period="today"', num(ty)), ('period="month"', num(my)))
    if i == 7:
        return ((None, num(s.rssi_dbm() if s else None)),)
    if i == 8:
        return ((None, "1" if s and s.state == bstate.CONNECTED else "0"),)
    if i == 9:
        return ((None, None if r is None else num(ticks_diff(src.now_ms(), r.ticks) // 1000)),)
    if i == 10:
        return ((None, num(src.readings)),)
    if i == 11:
        p = src.past
        return tuple(('kind="%s"' % k, num(p[j] + (getattr(s, a) if s else 0))) for j, (k, a) in
                     enumerate((("rejoin", "rejoins"), ("rescan", "scans"), ("reset", "resets"),
                                ("timeout", "timeouts"))))
    if i == 12:
        return ((None, num(src.heap())),)
    if i == 13:
        return ((None, num(src.uptime_s())),)
    m = module(s)
    return (('firmware=%s%s' % (_text(VERSION), "" if m is None else ",module=" + _text(m)), "1"),)


def metrics(o, src):
    """/metrics in the Prometheus text format 0.0.4; families without a value are left out."""
    s = src.session
    r = _fresh(src)
    for i, (name, kind, help) in enumerate(_FAMILIES):
        ss = _samples(src, i, r, s)
        first = True
        for labels, v in ss:
            if v is None:
                continue
            if first:
                first = False
                o.put("# HELP %s %s\n# TYPE %s %s\n" % (name, help, name, kind))
            o.put(name)
            if labels:
                o.put("{%s}" % labels)
            o.put(" %s\n" % v)


BODIES = (None, now, history, metrics)  # by path; the page is a file
