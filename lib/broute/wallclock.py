"""Local dates and times without CPython's datetime: from NTP (UTC) or from the meter's own clock.

Why: today's and this month's kWh reset on local midnight and on the month's first day (or the
meter-reading day, 検針日), and the stick has no datetime module. NTP gives UTC seconds; the meter's
dates (EA/EB, 0x97/0x98; docs/protocol.md section 4) are already its local time.

One time scale inside: local seconds since 2000-01-01 00:00 local ("stamps"). On the ESP32
time.time() counts from 2000-01-01 UTC, on the unix port and CPython from 1970-01-01 UTC: `stamp`
takes either (`epoch`). 2000 keeps the numbers small ints on a 32-bit board until 2034, where 1970
seconds (1.8e9) would each be a heap-allocated long int. Days are counted from 2000-01-01 too
("day numbers"); dates are proleptic Gregorian, leap years by the 4/100/400 rule.
"""
from .compat import const, ticks_diff, ticks_add
from .meter import day_number  # noqa: F401  one definition of the day numbers, resident on the stick

JST = const(540)          # minutes east of UTC: Japan, no daylight saving time
DAY_S = const(86400)
EPOCH_1970 = const(1970)
EPOCH_2000 = const(2000)
_SHIFT_1970 = const(946684800)   # 2000-01-01 minus 1970-01-01, in seconds
_DAYS_0000_03_01 = const(730425)  # days from 0000-03-01 to 2000-01-01 (the algorithm's origin)

# What a date step was (bits of Days.feed's answer).
FIRST = const(1)   # the first date seen: nothing to reset, baselines come from history
DAY = const(2)     # a new day began (one or more days later)
MONTH = const(4)   # a new billing month began
BACK = const(8)    # the date went backwards (a clock was corrected): the caller decides

NONE = const(0)    # clock sources, lowest first
METER = const(1)
NTP = const(2)
_STALE_MS = const(6 * 3600 * 1000)  # a better source's time is trusted this long without news
_REBASE_MS = const(1 << 28)         # ticks wrap at 2**30 ms: re-base well before


def date(n):
    """(year, month, day) of day number `n` (the inverse of day_number)."""
    n += _DAYS_0000_03_01
    era = n // 146097           # 400-year cycles from 0000-03-01
    doe = n - era * 146097      # day of the era, 0..146096
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)  # day of the March-based year
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def days_in_month(y, m):
    return day_number(y + 1, 1, 1) - day_number(y, 12, 1) if m == 12 else \
        day_number(y, m + 1, 1) - day_number(y, m, 1)


def stamp(t, epoch=EPOCH_2000, offset_min=JST):
    """Local stamp of UTC seconds `t` counted from `epoch` (1970 or 2000), `offset_min` east of UTC."""
    if epoch == EPOCH_1970:
        t -= _SHIFT_1970
    elif epoch != EPOCH_2000:
        raise ValueError("epoch must be 1970 or 2000")
    return t + offset_min * 60


def utc(s, epoch=EPOCH_2000, offset_min=JST):
    """UTC seconds from `epoch` of local stamp `s` (the inverse of `stamp`)."""
    t = s - offset_min * 60
    return t + _SHIFT_1970 if epoch == EPOCH_1970 else t


def local_stamp(y, mo, d, h=0, mi=0, s=0):
    """Stamp of a local date and time, as the meter gives them (EA/EB, 0x98 + 0x97)."""
    return day_number(y, mo, d) * DAY_S + h * 3600 + mi * 60 + s


def split(s):
    """(day number, second of the day) of stamp `s`."""
    return s // DAY_S, s % DAY_S


def fields(s):
    """(year, month, day, hour, minute, second) of stamp `s`."""
    n, sec = s // DAY_S, s % DAY_S
    y, m, d = date(n)
    return y, m, d, sec // 3600, sec // 60 % 60, sec % 60


def check_reading_day(v):
    """The config check for a meter-reading day: None when good, else what a good one looks like.
    Up to 28 so that every month has that day."""
    if type(v) is not int or not 1 <= v <= 28:
        return "must be a whole number from 1 (the calendar month) to 28"
    return None


def month_of(y, m, d, reading_day=1):
    """(year, month) naming the billing month that holds the date: the month its period starts
    in. With reading day k the period runs from the k-th to the day before the next k-th; k = 1 is
    the calendar month. (Real meter-reading days move by a day or two from month to month; a fixed
    day is what the config can say.)"""
    if d >= reading_day:
        return y, m
    return (y, m - 1) if m > 1 else (y - 1, 12)


def month_start(y, m, d, reading_day=1):
    """Day number of the first day of the billing month that holds the date."""
    py, pm = month_of(y, m, d, reading_day)
    return day_number(py, pm, reading_day)


class Days:
    """Day and month boundaries in a stream of local dates (sans-I/O: day numbers in, flags out).

    `feed(n)` takes the day number of each reading's local date and says what began (FIRST, DAY,
    MONTH, BACK bits), so the caller resets today's and the month's baselines exactly once per
    boundary, also after days without a reading. `month` is the current billing month as
    year * 12 + month - 1, comparable and small.
    """

    def __init__(self, reading_day=1):
        self.reading_day = reading_day
        self.day = None     # day number last fed
        self.month = None   # its billing month, year * 12 + month - 1

    def feed(self, n):
        if n == self.day:
            return 0
        y, m, d = date(n)
        py, pm = month_of(y, m, d, self.reading_day)
        month = py * 12 + pm - 1
        old, old_month = self.day, self.month
        self.day, self.month = n, month
        if old is None:
            return FIRST
        flags = DAY if n > old else DAY | BACK
        return flags | MONTH if month != old_month else flags


class Wall:
    """The local time now, from the best source seen: NTP beats the meter's clock while it is
    younger than 6 hours (the meter's clock may drift by minutes; NTP is what a person checks).
    Kept as a stamp at a ticks_ms() value; re-based before the ticks wrap (2**30 ms)."""

    def __init__(self):
        self.source = NONE
        self._s = 0       # stamp at _t
        self._t = 0       # ticks_ms of the last set or re-base
        self._ms = 0      # milliseconds into the second at _t
        self._set_t = 0   # ticks_ms of the last set (for staleness)

    def set(self, s, ticks, source, ms=0):
        """Take stamp `s` (milliseconds `ms` into it) from `source` at `ticks`; False when a
        better source is fresh enough to keep."""
        if source < self.source and ticks_diff(ticks, self._set_t) < _STALE_MS:
            return False
        self.source = source
        self._s, self._ms, self._t, self._set_t = s, ms, ticks, ticks
        return True

    def now(self, ticks):
        """Local stamp at `ticks`, or None before any source has set it."""
        if self.source == NONE:
            return None
        el = ticks_diff(ticks, self._t) + self._ms
        if el >= _REBASE_MS:
            whole = el // 1000
            self._s += whole
            self._ms = el - whole * 1000
            self._t = ticks
            el = self._ms
            if ticks_diff(ticks, self._set_t) >= _STALE_MS:
                self._set_t = ticks_add(ticks, -_STALE_MS)  # keep "stale" true across the wrap
        return self._s + el // 1000
