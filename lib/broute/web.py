"""The web server's sans-I/O half, the same on the stick and the PC (docs/http.md): the request
head parser (`Head`) and the bodies of /api/now, /api/history and /metrics, written into an `Out`
that hands its buffer to a sink whenever it fills, so no body is ever whole in RAM, and numbers
are written as digits straight into it (a request's garbage on the stick: docs/http.md section 4).
The bodies' constant text (JSON keys, metric names, HELP and TYPE) is web.tpl beside this module,
read from flash per request (`fill`), not held in the heap as bytes constants would be.

The builders ask a "source" object for the device's figures; the stick's is firmware/websrc.py,
the PC's is broute serve's. A source has:

    session        the current broute.session.Session, or None: its state, rssi_dbm(), dialect,
                   version, recoveries ([rejoin, rescan, reset]: the ladder's) and timeouts
    reading        the Reading that session fills (broute.reading), or None; while its `seq` is 0
                   (no fresh reading in it) its figures are all null
    readings       fresh readings since start, over all sessions (int)
    past           [rejoin, rescan, reset, timeout] of the sessions that ended before this one
    contract_a     the contract's amperes; warn_percent: "near" from this share of it (ints)
    offset_min     the local time's offset from UTC, minutes (540: Japan)
    now_ms()       the session clock's ticks_ms(), the clock of Reading.ticks
    uptime_s()     seconds since start (int)
    costs()        (today_yen, month_yen) as ints, or (None, None) without a tariff
    heap()         free heap bytes (the stick's gc.mem_free()), or None (left out)
    minute(age)    the average watts of the minute `age` minutes ago (0: the current one), or None
    half_hour(day, slot)  kWh bought in half hour `slot` (0: 00:00-00:30) of today (day 0) or
                   yesterday (day 1), or None: broute.halfhours.HalfHours.kwh does it

Nothing here raises on a missing figure: it is null in JSON and left out of /metrics.
"""
from time import gmtime
from .compat import const, ticks_diff
from . import bstate
from .version import VERSION

# The paths (Head.path: the index in _PATHS), the contract of docs/http.md
_NOW = const(1)
_HISTORY = const(2)
_PATHS = (b"/", b"/api/now", b"/api/history", b"/metrics")
_LINE_MAX = const(128)   # a request line longer than this: 414 (every path served is short)
_HEAD_MAX = const(1024)  # the whole head (request line and headers): 431 beyond
# The kinds of value Out.val writes (_KINDS)
_INT = const(0)
_TENTHS = const(1)
_KWH2 = const(3)
_KWH3 = const(4)
_TEXT = const(5)


class Head:
    """One request's head, fed as it arrives (`feed`). `status` is 0 until the head is decided:
    200 (serve `path`), 400 (malformed), 404, 405 (not GET/HEAD), 414, 431. `head_only` for HEAD.
    Only the request line is kept (_LINE_MAX bytes); the headers are counted, not stored."""

    def __init__(self):
        self.line = bytearray(_LINE_MAX)
        self.k = 0          # bytes of the request line so far; -1: in the headers
        self.n = 0          # bytes of the head so far
        self.nl = 0         # line ends in a row (a blank line ends the head)
        self.status = 0
        self.path = -1
        self.head_only = False
        self._code = 0      # the request line's verdict, given once the head has ended

    def feed(self, data):
        """Take the next bytes; True once `status` is decided (the rest is not looked at)."""
        b = self.line
        for c in data:
            self.n += 1
            if self.n > _HEAD_MAX:
                self.status = 431
                return True
            k = self.k
            if k < 0:  # in the headers
                if c == 10:
                    self.nl += 1
                    if self.nl == 2:
                        self.status = self._code
                        return True
                elif c != 13:
                    self.nl = 0
            elif c != 10:
                if k >= _LINE_MAX:
                    self.status = 414
                    return True
                b[k] = c
                self.k = k + 1
            else:  # the request line's verdict, "METHOD TARGET HTTP/1.x" (RFC 9112 section 3)
                self.k = -1
                self.nl = 1
                if k and b[k - 1] == 13:
                    k -= 1
                a = b.find(b" ", 0, k)
                z = b.find(b" ", a + 1, k)
                ok = a > 0 and z > 0 and k - z == 9 and b[a + 1] == 47 and \
                    b.find(b"HTTP/1.", z + 1, k) == z + 1  # compared in place: a slice is garbage
                for i in range(k if ok else 0):
                    if i < a and not 65 <= b[i] <= 90 or i > z and not 33 <= b[i] <= 126:
                        ok = False  # methods are upper-case tokens, the version has no space
                if not ok:
                    self.status = 400  # garbage: answered at once
                    return True
                q = b.find(b"?", a + 1, z)
                e = z if q < 0 else q  # the path's end
                self.head_only = a == 4 and b.find(b"HEAD") == 0
                self._code = 404 if self.head_only or a == 3 and b.find(b"GET") == 0 else 405
                for i in range(4):
                    p = _PATHS[i]
                    if self._code == 404 and e - a - 1 == len(p) and b.find(p, a + 1, e) == a + 1:
                        self.path = i
                        self._code = 200
        return False


class Out:
    """Bytes written into one reused buffer; `sink(memoryview)` takes the buffer each time it is
    full and at `flush()` (the sink must use or copy the bytes before returning). Bytes are
    copied one by one: a memoryview slice would be garbage (16 B on the ESP32) per piece."""

    def __init__(self, buf, sink):
        self.buf = buf
        self.mv = memoryview(buf)
        self.n = 0
        self.sink = sink

    def put(self, b, i, e):
        """Bytes [i:e] of bytes or a bytearray."""
        buf = self.buf
        n = self.n
        for j in range(i, e):
            buf[n] = b[j]
            n += 1
            if n == len(buf):
                self.n = n
                self.flush()
                n = 0
        self.n = n

    def ch(self, c):
        self.buf[self.n] = c
        self.n += 1
        if self.n == len(self.buf):
            self.flush()

    def val(self, v, kind):
        """Value `v` of a kind (_KINDS): _INT, _TENTHS (an int of 0.1 A), _KWH2 or _KWH3 (a float or
        int, rounded to 2 or 3 decimals: no float is printed, the ESP32's print 12345.6 as
        12345.599), _TEXT (a JSON string, a Prometheus label value); None is null."""
        if v is None:
            self.put(b"null", 0, 4)
        elif kind == _TEXT:
            self.ch(34)
            for c in v:
                if c != '"' and c != "\\":  # nothing that could end the string
                    self.ch(ord(c))
            self.ch(34)
        else:
            dp = 1 if kind == _TENTHS else kind - 1 if kind > _TENTHS else 0
            p = 10 ** dp
            if kind > _TENTHS:
                v = round(v * p)  # one float made, not two (16 B each on the ESP32)
            if v < 0:
                self.ch(45)  # -
                v = -v
            d = p  # from the units digit's place at least: 0.05, not .05
            while d * 10 <= v:
                d *= 10
            while d:
                self.ch(48 + v // d % 10)
                if d == p > 1:
                    self.ch(46)  # . after the units digit
                d //= 10

    def flush(self):
        if self.n:
            self.sink(self.mv[:self.n])
            self.n = 0



# The kinds of values()'s figures, in its order (the template's $A to $Z, then $[)
_KINDS = b"\x00\x01\x01\x03\x03\x03\x05\x03\x03\x03\x00\x00\x00\x00\x05\x00\x05\x05\x05\x00\x00\x00\x00\x00\x00\x00\x00"


def values(src, time):
    """Every figure served, unformatted (None: unknown): /api/now's in its order, then link up,
    readings, the four recoveries and the free heap (web.tpl names them $A to $Z, then $[).
    The time's text only with `time` (/metrics has none: its string would be garbage)."""
    s = src.session
    r = src.reading
    if r is not None and not r.seq:
        r = None  # a Reading with no fresh reading in it: nothing to show, never a stale figure
    lv = t = None
    if r:
        w = r.power_w
        if w is not None:  # the level: firmware/ui_theme.py's `level` by name, the larger phase
            a, b = r.current_r_da, r.current_t_da  # current against the contract (the power
            a = b if a is None else a if b is None or a > b else b  # at 100 V per A without them)
            a = a * 10 // src.contract_a if a is not None else w // src.contract_a
            lv = ("export" if w < 0 else "over" if a >= 100 else
                  "near" if a >= src.warn_percent else "normal")
        if time and r.time is not None:  # local seconds since 2000 as broute read prints them
            # gmtime's epoch is 2000 on the ESP32 and 1970 elsewhere (as in broute.hass); asked
            # here, not at import: its tuple would be garbage in every request's peak
            t = gmtime(r.time + (0 if gmtime(0)[0] == 2000 else 946684800))
            a = abs(src.offset_min)
            t = "%04d-%02d-%02dT%02d:%02d:%02d%s%02d%02d" % (
                t[0], t[1], t[2], t[3], t[4], t[5], "-" if src.offset_min < 0 else "+", a // 60, a % 60)
    ty, my = src.costs()
    p = src.past
    c = s.recoveries if s else (0, 0, 0)  # the ladder's rejoins, rescans, resets
    # one list (r and r.x: None without a reading), not one joined from two: a request's garbage
    return [r and r.power_w, r and r.current_r_da, r and r.current_t_da, r and r.energy_kwh,
            r and r.energy_rev_kwh, r and r.today_kwh, t, r and r.today_rev_kwh,
            r and r.month_kwh, r and r.month_rev_kwh, ty, my, s.rssi_dbm() if s else None,
            r and ticks_diff(src.now_ms(), r.ticks) // 1000, lv, src.contract_a,
            bstate.name(s.state) if s else "starting",
            None if s is None or not s.version else "%s %s" % (s.dialect, s.version),
            VERSION, src.uptime_s(), 1 if s and s.state == bstate.CONNECTED else 0, src.readings,
            p[0] + c[0], p[1] + c[1], p[2] + c[2], p[3] + (s.timeouts if s else 0), src.heap()]


# The bodies' text (web.tpl, beside this module: on the stick's flash, not in its heap), read a
# line at a time (no line is longer than _LINE_MAX) into the request's Head.line, done with by then;
# its sections, each after an "@" line, in the order of Head.path's: /api/now, /api/history, /metrics
TPL = __file__[:__file__.rfind("/") + 1] + "web.tpl"


def fill(o, src, path, b):
    """The body of `path` (Head.path: 1 /api/now, 2 /api/history, 3 /metrics), its section of
    web.tpl read through bytearray `b` (_LINE_MAX bytes or more) and written with values(src):
    /api/now's JSON object, /api/history's, /metrics (the Prometheus text format 0.0.4: # HELP
    and # TYPE once per family, a sample without a value left out, and a family without any).
    "$X" is figure X ($A the first), "$a" the last hour's minute averages (oldest first), "$b"
    and "$c" today's and yesterday's half hours bought; a line beginning "?XY " is kept when X
    or Y is known, "!X " when X is not."""
    v = None if path == _HISTORY else values(src, path == _NOW)
    at = i = n = k = 0
    with open(TPL, "rb") as f:
        while True:
            e = b.find(b"\n", i, n)
            if e < 0:  # the next lines from the line that did not end in b
                at += i
                f.seek(at)
                n = f.readinto(b)
                i = 0
                e = b.find(b"\n", 0, n)
                if e < 0:
                    return  # the file's end
            c = b[i]
            if c == 64:  # @: a section's head
                k += 1
                if k > path:
                    return
            elif k == path:
                if c == 63 or c == 33:  # ? !
                    s = b.find(b" ", i)
                    known = False
                    for j in range(i + 1, s):
                        if v[b[j] - 65] is not None:
                            known = True
                    i = s + 1 if known == (c == 63) else e + 1  # past e: the line left out
                while i <= e:
                    d = b.find(b"$", i, e)
                    if d < 0:
                        o.put(b, i, e + (path != _HISTORY))  # /api/history: no line end
                        break
                    o.put(b, i, d)
                    x = b[d + 1] - 65  # $A: 0 ... $Z: 25, $[: 26; $a: 32 ... $c: 34
                    if x < 32:
                        o.val(v[x], _KINDS[x])
                    else:  # a series: 60 minutes (watts) or 48 half hours (kWh) of a day
                        x -= 33
                        for j in range(60 if x < 0 else 48):
                            if j:
                                o.ch(44)  # ,
                            if x < 0:
                                o.val(src.minute(59 - j), _INT)
                            else:
                                o.val(src.half_hour(x, j), _KWH3)
                    i = d + 2
            i = e + 1
