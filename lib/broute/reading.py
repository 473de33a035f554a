"""The latest meter reading, and the bookkeeping that turns meter frames into it.

`Reading` is updated in place so the UI can hold one reference forever. `Tracker` applies
the properties of a Get_Res or INF frame (sans-I/O): scale factors D3/E1/D7, the Get
property map, the meter's date and clock (0x98/0x97, EA/EB), and the baselines of today's
and the billing month's energy, bought and sold: the counters at 00:00 today (E2/E4 day 0,
or EA/EB dated 00:00) and at 00:00 of the month's first day (E2/E4 of that day, chosen with
E5); docs/protocol.md section 4. A frame that contradicts itself (`implausible`) or a
counter that goes backwards is a corrupted frame: nothing of it is applied.
"""
from array import array
from . import meter
from .meter import implausible  # noqa: F401  reading.implausible, as before
from .compat import const, ticks_diff, ticks_add

NO_VALUE = const(-0x40000000)  # a minute of Minutes without a reading
MINUTES = const(60)
_MINUTE_MS = const(60000)

_E7 = const(0xE7)
_E8 = const(0xE8)
_E0 = const(0xE0)
_E3 = const(0xE3)
_E2 = const(0xE2)
_EA = const(0xEA)
_D3 = const(0xD3)
_D7 = const(0xD7)
_E1 = const(0xE1)
_9F = const(0x9F)
_E4 = const(0xE4)
_EB = const(0xEB)
_97 = const(0x97)
_98 = const(0x98)
_DAY_S = const(86400)
_HALF_HOUR = const(1800)


class Minutes:
    """The last hour's one-minute average watts: a pre-allocated ring counted in minutes of the
    readings' clock (Reading.ticks), so a day of readings allocates nothing; a minute without a
    reading stays empty. The stick's history page and the web page's hour (firmware/model.py's
    Model is one; broute serve keeps one)."""

    def __init__(self):
        self.history = array("l", [NO_VALUE] * MINUTES)
        self.head = 0                 # slot of the current minute
        self._slot_ms = None          # ticks at which the current minute began
        self._sum = 0
        self._count = 0

    def add_power(self, power_w, ticks):
        """Fold a sample into the current minute's average; skipped minutes stay empty."""
        if self._slot_ms is None:
            self._slot_ms = ticks
        while ticks_diff(ticks, self._slot_ms) >= _MINUTE_MS:
            self._slot_ms = ticks_add(self._slot_ms, _MINUTE_MS)
            self.head = (self.head + 1) % MINUTES
            self.history[self.head] = NO_VALUE
            self._sum = self._count = 0
        self._sum += power_w
        self._count += 1
        self.history[self.head] = self._sum // self._count

    def sample(self, age):
        """The history value `age` minutes ago (0 = this minute) or NO_VALUE."""
        return self.history[(self.head - age) % MINUTES]

    def minute(self, age, now_ms):
        """The average watts `age` minutes before `now_ms`'s minute (0: the current one), or None:
        the ring counts minutes from the readings, so minutes with none since are empty."""
        if self._slot_ms is None:
            return None
        age -= ticks_diff(now_ms, self._slot_ms) // _MINUTE_MS
        v = self.sample(age) if 0 <= age < MINUTES else NO_VALUE
        return None if v == NO_VALUE else v


class Reading:
    """Values are None until the meter has given one (or when it reports no data). The names
    (and units) are the firmware's from here to the screen (firmware/model.py)."""

    def __init__(self):
        self.power_w = None        # W, signed (negative when exporting)
        self.current_r_da = None   # 0.1 A, R phase
        self.current_t_da = None   # 0.1 A, T phase (None on single-phase two-wire service)
        self.energy_kwh = None     # cumulative, normal direction
        self.energy_rev_kwh = None  # cumulative, reverse direction
        self.today_kwh = None      # bought since 00:00 (meter time)
        self.today_rev_kwh = None  # sold since 00:00
        self.month_kwh = None      # bought since the billing month's first day, 00:00
        self.month_rev_kwh = None  # sold since then
        self.time = None           # meter-local seconds since 2000-01-01 (docs/mqtt.md section 4)
        self.seq = 0               # incremented on every new reading
        self.ticks = 0             # its one time stamp: the session clock's ticks_ms()
        self.halves = None         # a broute.halfhours.HalfHours to feed (the web server's), or None


def _num(v):
    """A meter sentinel (no data, overflow, underflow) is not a number to show."""
    return None if v is meter.NO_DATA or v is meter.OVERFLOW or v is meter.UNDERFLOW else v


class Tracker:
    """Meter facts learnt so far; `apply(frame)` folds one frame into the Reading.

    The caller sets `ticks` (its clock's ticks_ms()) before each `apply`: the meter's clock
    (0x98 and 0x97, kept true by EA/EB) is advanced from it to date each reading (`time`).
    """

    def __init__(self, reading, reading_day=1):
        self.reading = reading
        self.reading_day = reading_day  # the billing month's first day: 1, or the meter-reading day
        self.contract_a = None  # the breaker size, for `implausible`
        self.why = None        # why the last frame was dropped (None: it was applied)
        self.known = False     # the scale (E1) and the property map came
        self.coefficient = 1   # D3 is optional: Get_SNA (PDC 0) means 1
        self.unit = None       # E1, kWh per count
        self.digits = 8        # D7
        self.get_map = None    # 9F, bytes of EPCs; None = unknown (assume all)
        self.ticks = 0         # ticks_ms() of the frame being applied (set by the caller)
        self._e0 = None        # last E0 raw count
        self._e3 = None        # last E3 raw count
        self._back = [None, None]  # an E0 / E3 below the accepted one, awaiting a second opinion
        self._w = self._r = self._t = self._n0 = self._n3 = None  # E7 E8 E0 E3 of the frame
        self._stale = False    # a kWh figure needs computing again (floats only on change)
        # raw E0, E3 at 00:00 today, then E0, E3 at 00:00 of the billing month's first day
        self._b = [None, None, None, None]
        self.day = None        # the meter's date, a day number (meter.day_number)
        self._mf = self._mn = 0  # day numbers of this billing month's first day and the next's
        self._odd = None       # a date not taken yet, awaiting a second opinion
        self.e5 = -1           # the day (E5) that E2/E4 answer now; -1: unknown
        self.days = 0          # meter days seen to begin
        self._cs = None        # the meter's clock: local seconds since 2000 at ticks _ct
        self._ct = 0

    def supports(self, epc):
        return self.get_map is None or epc in self.get_map

    def apply(self, f):
        """Fold every property of frame `f`; True when it carried E7 (a new reading).

        False with `why` set when the frame was dropped as corrupted: then nothing changed.
        """
        self.why = self._check(f)
        if self.why:
            return False
        r = self.reading
        fresh = False
        for i in range(f.opc):
            epc = f.epc(i)
            if not f.pdc(i):  # refused in a *_SNA answer
                if epc == _E1:
                    self.known = True
                elif epc == _E7:
                    r.power_w = None
                    fresh = True
                elif epc == _E8:
                    r.current_r_da = r.current_t_da = None
                continue
            if epc == _E7:  # E7, E8, E0 and E3 were decoded by _check
                r.power_w = self._w
                fresh = True
            elif epc == _E8:
                r.current_r_da = self._r
                r.current_t_da = self._t
            elif epc == _E0:
                if self._n0 != self._e0:
                    self._e0 = self._n0
                    self._stale = True
            elif epc == _E3:
                if self._n3 != self._e3:
                    self._e3 = self._n3
                    self._stale = True
            else:
                self._other(epc, f.edt(i), f)
        if fresh:
            t = r.time = self.now()
            if t is not None and self.day is not None and t // _DAY_S > self.day:
                self._stale = True  # midnight by the clock before the meter dated it: no stale day
        if self._stale:
            self._stale = False
            r.energy_kwh = self._kwh(self._e0)
            r.energy_rev_kwh = self._kwh(self._e3)
            self._figures()
        return fresh

    def _other(self, epc, edt, f):
        if epc == _D3 or epc == _E1 or epc == _D7 or epc == _9F:
            # the meter's facts, once per session: their decoders leave RAM once they are in (poll.py)
            from . import meterfacts as mf
            if epc == _9F:
                self.get_map = mf.property_map(edt)
                return
            if epc == _D3:
                self.coefficient = mf.coefficient(edt)
            elif epc == _E1:
                self.unit = mf.unit_kwh(edt)
                self.known = True
            else:
                self.digits = mf.digits(edt)
            self._stale = True
        elif epc == _E2 or epc == _E4:
            self._history(edt, 1 if epc == _E4 else 0)
        elif epc == _EA or epc == _EB:
            self._fixed(edt, 1 if epc == _EB else 0)
        elif epc == _98 and len(edt) == 4:  # the meter's date (YYYY MM DD) and 0x97 (hh mm)
            i = f.find(_97)
            hm = f.edt(i) if i >= 0 else b""
            if self._date(meter.uint(edt, 0, 2), edt[2], edt[3], None, 0) and len(hm) >= 2:
                # hh mm: the middle of the minute, within 30 s either way
                self._cs = self.day * _DAY_S + hm[0] * 3600 + hm[1] * 60 + (hm[2] if len(hm) > 2 else 30)
                self._ct = self.ticks

    def _check(self, f):
        """Decode E7, E8, E0 and E3; why frame `f` is corrupted (see `implausible`; E0/E3
        going backwards), or None."""
        w = r = t = None
        for i in range(f.opc):
            epc = f.epc(i)
            if not f.pdc(i):
                continue
            if epc == _E7:
                w = _num(meter.power_w(f.edt(i)))
            elif epc == _E8:
                edt = f.edt(i)
                r = _num(meter.current_da(edt, 0))
                t = _num(meter.current_da(edt, 1))
            elif epc == _E0:
                self._n0 = _num(meter.cumulative(f.edt(i)))
            elif epc == _E3:
                self._n3 = _num(meter.cumulative(f.edt(i)))
        self._w, self._r, self._t = w, r, t
        why = implausible(w, r, t, self.contract_a)
        if why:
            return "%s (%s W, R %s, T %s x 0.1 A)" % (why, w, r, t)
        for i in range(f.opc):
            epc = f.epc(i)
            if (epc == _E0 or epc == _E3) and f.pdc(i):
                k = 0 if epc == _E0 else 1
                if self._backwards(k, self._n0 if k == 0 else self._n3):
                    return "cumulative energy %02X went backwards" % epc
        return None

    def _backwards(self, k, v):
        """Counter k (0: E0, 1: E3) steps back from the accepted value, other than a wrap at
        10 ** D7. Two backward values in a row that agree win: the accepted one was corrupted."""
        old = self._e0 if k == 0 else self._e3
        if v is None or old is None:
            return False
        half = 10 ** self.digits // 2
        if meter.counter_delta(old, v, self.digits) < half:
            self._back[k] = None
            return False
        b = self._back[k]
        self._back[k] = v
        if b is not None and meter.counter_delta(b, v, self.digits) < half:
            self._back[k] = None
            return False
        return True

    def _kwh(self, raw):
        if raw is None or self.unit is None:
            return None
        return meter.kwh(raw, self.coefficient, self.unit)

    # --- the meter's clock, days and billing months ----------------------------------------
    def now(self):
        """The meter's local time at `ticks` (seconds since 2000-01-01), or None before known.
        Re-based on every call, so the ticks' wrap (2**30 ms) never comes between."""
        if self._cs is None:
            return None
        s = ticks_diff(self.ticks, self._ct) // 1000
        self._cs += s
        self._ct = ticks_add(self._ct, s * 1000)
        return self._cs

    def wanted(self, sold):
        """The day back (E5) whose E2 (and E4 when `sold`) still holds a baseline to take: 0 for
        today's, the billing month's first day for the month's, then 1 for yesterday's half hours
        when the Reading keeps them (`halves`); -1 when none is."""
        b = self._b
        if b[0] is None or sold and b[1] is None:
            return 0
        n = -1 if self.day is None else self.day - self._mf
        if 0 < n <= 99 and (b[2] is None or sold and b[3] is None):
            return n
        hh = self.reading.halves  # yesterday's half hours, once a day, for the web page
        return 1 if hh is not None and self.day is not None and hh.got != self.day else -1

    def _fixed(self, edt, k):
        """EA (k 0) or EB (k 1), pushed or asked: the counter at the last half hour and its date.
        A new date begins a new day; a 00:00 value is today's baseline; the meter's clock is
        within the half hour that follows (docs/protocol.md section 4)."""
        y, mo, d, h, mi, s, raw = meter.fixed_time(edt)
        raw = _num(raw)
        if self._date(y, mo, d, raw, k):
            at = self.day * _DAY_S + h * 3600 + mi * 60 + s
            c = self.now()
            if c is None or c < at or c >= at + _HALF_HOUR:
                self._cs = at if c is None or c < at else at + _HALF_HOUR - 1
                self._ct = self.ticks
            if h == 0 and mi == 0 and raw is not None and self._b[k] is None:
                self._base(k, raw)
            hh = self.reading.halves
            if hh is not None and k == 0 and mi % 30 == 0:
                hh.put(48 + h * 2 + mi // 30, raw)

    def _date(self, y, mo, d, raw, k):
        """Take the meter's date; True when it is today's (now). A corrupted date must neither
        count a day nor clear the baselines, so a date other than the next day, or a counter
        `raw` (k: 0 E0, 1 E3) below today's baseline, is taken only when the next date says the
        same (days without a link, or a wrong date taken before)."""
        n = meter.day_number(y, mo, d)
        old = self.day
        if n == old:
            return True
        b = self._b
        if old is not None:
            up = raw is None or b[k] is None or \
                meter.counter_delta(b[k], raw, self.digits) <= 10 ** self.digits // 2
            if not (n == old + 1 and up) and self._odd != n:
                self._odd = n
                return False
            self.days += 1
        self._odd = None
        self.day = n
        hh = self.reading.halves
        if hh is not None:
            hh.tr = self
            hh.move(n)
        b[0] = b[1] = None  # today's baselines: from 00:00 EA/EB or E2/E4 day 0
        if not self._mf <= n < self._mn:
            self._mf, self._mn = meter.billing(y, mo, d, self.reading_day)
            b[2] = b[3] = None
        self._stale = True
        return True

    def _base(self, k, raw):
        """Today's 00:00 counter k (0 E0, 1 E3); on the month's first day the month's too."""
        self._b[k] = raw
        if self.day == self._mf:
            self._b[k + 2] = raw
        self._stale = True

    def _history(self, edt, k):
        """E2 (k 0) or E4 (k 1): the 00:00 value of the day E5 chose (today's, or the month's
        first day's)."""
        day, values = meter.history(edt, 1)
        self.e5 = day
        hh = self.reading.halves
        if hh is not None and k == 0 and self.day is not None and hh.today == self.day:
            hh.history(day, edt)
        v = _num(values[0])
        if v is not None and day == 0:
            self._base(k, v)
        elif v is not None and self.day is not None and day == self.day - self._mf:
            self._b[k + 2] = v
            self._stale = True

    def _figures(self):
        """Today's and the month's kWh; None for what the clock says has ended (no stale day)."""
        t = self.now()
        late = 0 if t is None or self.day is None else (t // _DAY_S > self.day) + (t // _DAY_S >= self._mn)
        v = [None, None, None, None]
        for k in range(4):
            base = self._b[k]
            raw = self._e3 if k & 1 else self._e0
            if base is None or raw is None or self.unit is None or late > (k >> 1):
                continue  # unknown, or a day (k 0, 1) or month (k 2, 3) the clock says has ended
            delta = meter.counter_delta(base, raw, self.digits)
            if delta <= 10 ** self.digits // 2:  # else read before the baseline's 00:00: not known
                v[k] = meter.kwh(delta, self.coefficient, self.unit)
        r = self.reading
        r.today_kwh, r.today_rev_kwh, r.month_kwh, r.month_rev_kwh = v
