"""Local dates from NTP or the meter's clock: day numbers, both epochs, billing months, boundaries.

Expectations are hand-computed (day counts in the comments); under CPython the calendar is also
checked day by day against datetime, which MicroPython does not have.
"""
from broute import wallclock as wc
from broute.compat import ticks_add

try:
    import datetime
except ImportError:  # the MicroPython unix port
    datetime = None


def test_day_numbers_by_hand():
    assert wc.day_number(2000, 1, 1) == 0
    assert wc.day_number(1970, 1, 1) == -10957       # 30 years, 7 leap days: 30 * 365 + 7
    assert wc.day_number(2000, 3, 1) == 60           # 31 + 29: 2000 is a leap year (400 rule)
    assert wc.day_number(2024, 1, 1) == 8766         # 24 * 365 + 6 leap days (2000 .. 2020)
    assert wc.day_number(2024, 2, 29) == 8766 + 31 + 28
    assert wc.day_number(2026, 11, 26) == 9497 + 304 + 25  # 26 * 365 + 7; Jan..Oct 304 days
    assert wc.date(8825) == (2024, 2, 29)
    assert wc.date(-10957) == (1970, 1, 1)
    assert wc.date(-1) == (1999, 12, 31)


def test_leap_rules():
    assert wc.days_in_month(2000, 2) == 29   # divisible by 400
    assert wc.days_in_month(1900, 2) == 28   # by 100, not 400
    assert wc.days_in_month(2100, 2) == 28
    assert wc.days_in_month(2028, 2) == 29
    assert wc.days_in_month(2026, 2) == 28
    assert wc.days_in_month(2026, 12) == 31
    assert wc.days_in_month(2026, 4) == 30


def test_every_day_follows_the_one_before():
    y, m, d = wc.date(-800)
    for n in range(-800, 12000):  # 1997 .. 2032: month ends, year ends, leap days
        assert wc.date(n) == (y, m, d), n
        assert wc.day_number(y, m, d) == n
        d += 1
        if d > wc.days_in_month(y, m):
            d, m = 1, m + 1
            if m > 12:
                m, y = 1, y + 1


def test_calendar_against_datetime_on_cpython():
    if datetime is None:
        return
    o = datetime.date(2000, 1, 1)
    for n in range(-40000, 60000, 7):
        x = o + datetime.timedelta(days=n)
        assert wc.date(n) == (x.year, x.month, x.day)


def test_both_epochs_give_the_same_local_time():
    t1970 = 1795661588   # 2026-11-26 02:53:08 UTC (hand: 20783 days * 86400 + 10388 s)
    t2000 = t1970 - 946684800
    a = wc.stamp(t1970, wc.EPOCH_1970)
    assert a == wc.stamp(t2000, wc.EPOCH_2000)
    assert wc.fields(a) == (2026, 11, 26, 11, 53, 8)  # JST, UTC+9
    assert wc.fields(wc.stamp(t2000, wc.EPOCH_2000, 0)) == (2026, 11, 26, 2, 53, 8)
    assert wc.utc(a, wc.EPOCH_1970) == t1970
    assert wc.utc(a) == t2000
    try:
        wc.stamp(0, 1980)
        assert False, "an epoch other than 1970 or 2000 is refused"
    except ValueError:
        pass


def test_new_year_comes_nine_hours_early_in_japan():
    t = 1798729200  # 2026-12-31 15:00:00 UTC
    assert wc.fields(wc.stamp(t, wc.EPOCH_1970)) == (2027, 1, 1, 0, 0, 0)
    assert wc.fields(wc.stamp(t - 1, wc.EPOCH_1970)) == (2026, 12, 31, 23, 59, 59)
    assert wc.fields(wc.stamp(t, wc.EPOCH_1970, 0)) == (2026, 12, 31, 15, 0, 0)


def test_meter_clock_is_local_already():
    s = wc.local_stamp(2028, 2, 29, 23, 30, 0)  # EA at 23:30 on a leap day
    assert wc.fields(s) == (2028, 2, 29, 23, 30, 0)
    assert wc.fields(s + 1800) == (2028, 3, 1, 0, 0, 0)
    n, sec = wc.split(s)
    assert wc.date(n) == (2028, 2, 29) and sec == 23 * 3600 + 30 * 60


def test_billing_month_calendar_and_reading_day():
    assert wc.month_of(2026, 3, 1) == (2026, 3)
    assert wc.month_of(2026, 3, 31) == (2026, 3)
    assert wc.month_of(2026, 3, 14, 15) == (2026, 2)   # before the 15th: February's period
    assert wc.month_of(2026, 3, 15, 15) == (2026, 3)
    assert wc.month_of(2026, 1, 3, 5) == (2025, 12)    # across the year end
    assert wc.month_start(2026, 3, 14, 15) == wc.day_number(2026, 2, 15)
    assert wc.month_start(2026, 1, 31) == wc.day_number(2026, 1, 1)
    assert wc.month_start(2026, 1, 4, 28) == wc.day_number(2025, 12, 28)


def test_reading_day_check():
    for bad in (0, 29, 31, -1, True, 1.0, "5", None):
        assert "1" in wc.check_reading_day(bad), bad
    for good in (1, 15, 28):
        assert wc.check_reading_day(good) is None


def _d(y, m, d):
    return wc.day_number(y, m, d)


def test_day_and_month_boundaries():
    days = wc.Days()
    assert days.feed(_d(2026, 1, 31)) == wc.FIRST
    assert days.feed(_d(2026, 1, 31)) == 0
    assert days.feed(_d(2026, 2, 1)) == wc.DAY | wc.MONTH
    assert days.feed(_d(2026, 2, 2)) == wc.DAY
    assert days.feed(_d(2026, 2, 5)) == wc.DAY          # days without a reading: one boundary
    assert days.feed(_d(2026, 4, 20)) == wc.DAY | wc.MONTH  # a whole month missed
    assert days.month == 2026 * 12 + 3
    assert days.feed(_d(2026, 3, 31)) == wc.DAY | wc.BACK | wc.MONTH  # a clock set back
    assert days.feed(_d(2026, 12, 31)) == wc.DAY | wc.MONTH
    assert days.feed(_d(2027, 1, 1)) == wc.DAY | wc.MONTH  # the year end


def test_boundaries_with_a_reading_day_and_a_leap_day():
    days = wc.Days(15)
    assert days.feed(_d(2028, 2, 14)) == wc.FIRST
    assert days.feed(_d(2028, 2, 15)) == wc.DAY | wc.MONTH
    assert days.feed(_d(2028, 2, 28)) == wc.DAY
    assert days.feed(_d(2028, 2, 29)) == wc.DAY
    assert days.feed(_d(2028, 3, 1)) == wc.DAY       # the calendar month is not the billing one
    assert days.feed(_d(2028, 3, 15)) == wc.DAY | wc.MONTH
    days = wc.Days(15)
    days.feed(_d(2026, 12, 31))
    assert days.feed(_d(2027, 1, 1)) == wc.DAY       # still December 15th's period
    assert days.feed(_d(2027, 1, 15)) == wc.DAY | wc.MONTH


def test_wall_clock_sources():
    w = wc.Wall()
    assert w.now(0) is None
    assert w.set(1000, 5000, wc.METER)
    assert w.now(7500) == 1002
    assert w.set(2000, 8000, wc.NTP, 500)
    assert w.now(8499) == 2000 and w.now(8500) == 2001
    assert not w.set(9999, 9000, wc.METER)            # NTP is fresher than 6 h: kept
    assert w.now(9000) == 2001
    later = 8000 + 6 * 3600 * 1000
    assert w.set(50000, later, wc.METER)              # NTP went stale: the meter's is taken
    assert w.source == wc.METER and w.now(later) == 50000


def test_wall_clock_across_the_ticks_wrap():
    w = wc.Wall()
    t = (1 << 30) - 3000        # ticks_ms wraps at 2**30
    w.set(100, t, wc.NTP)
    assert w.now(ticks_add(t, 5000)) == 105
    step = 1 << 27              # ~37 hours a step, 40 steps: ~62 days, the ticks wrap 5 times
    for i in range(1, 41):
        t = ticks_add(t, step)
        assert w.now(t) == 100 + (i * step) // 1000, i
    assert w.set(1, t, wc.METER)                      # NTP set 62 days ago is stale: taken
