"""Today's and the billing month's kWh, bought and sold, and the meter's clock (lib/broute/reading.py),
frame by frame with figures worked out by hand (docs/protocol.md section 4: E2/E4 + E5, EA/EB,
0x97/0x98). E1 is 0.1 kWh and D7 6 digits throughout: a count of 10 is 1 kWh."""
from broute.compat import ticks_add
from broute.echonet import Frame
from broute.meter import day_number
from broute.reading import Reading, Tracker
from broute import session

DAY = 86400


def _frame(props, esv=0x72):
    body = bytearray()
    for epc, edt in props:
        body += bytes([epc, len(edt)]) + edt
    return Frame().parse(bytes([0x10, 0x81, 0, 1, 0x02, 0x88, 0x01, 0x05, 0xFF, 0x01, esv, len(props)])
                         + bytes(body))


def _u32(v):
    return bytes([(v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255])


def _date(y, mo, d, h, mi):
    return [(0x98, bytes([y >> 8, y & 255, mo, d])), (0x97, bytes([h, mi]))]


def _hist(epc, day, first):
    return (epc, bytes([0, day]) + _u32(first) + _u32(0xFFFFFFFE) * 47)


def _fixed(epc, y, mo, d, h, mi, raw):
    return (epc, bytes([y >> 8, y & 255, mo, d, h, mi, 0]) + _u32(raw))


def _power(w=500):
    return [(0xE7, _u32(w)), (0xE8, bytes([0, 25, 0, 25]))]


def _start(reading_day=1, date=(2025, 3, 17, 12, 34), e0=5000, e3=300, ticks=1000):
    r = Reading()
    tr = Tracker(r, reading_day)
    tr.ticks = ticks
    tr.apply(_frame([(0xD7, b"\x06"), (0xE1, b"\x01")] + _power() + [(0xE0, _u32(e0)), (0xE3, _u32(e3))]
                    + _date(*date)))
    return r, tr


def _close(a, b):
    return a is not None and abs(a - b) < 1e-9


def test_today_then_the_month_from_history_bought_and_sold():
    r, tr = _start()
    assert r.today_kwh is None and r.month_kwh is None and r.energy_kwh == 500.0
    assert tr.wanted(True) == 0  # today's 00:00 first
    tr.apply(_frame([_hist(0xE2, 0, 4900), _hist(0xE4, 0, 290)]))
    assert _close(r.today_kwh, 10.0) and _close(r.today_rev_kwh, 1.0) and r.month_kwh is None
    assert tr.e5 == 0 and tr.wanted(True) == 16  # 1 March is 16 days before 17 March
    tr.apply(_frame([_hist(0xE2, 5, 1000), _hist(0xE4, 5, 10)]))  # another day (E5 moved): no baseline
    assert r.month_kwh is None and tr.e5 == 5 and tr.wanted(True) == 16
    tr.apply(_frame([_hist(0xE2, 16, 3000), _hist(0xE4, 16, 100)]))
    assert _close(r.month_kwh, 200.0) and _close(r.month_rev_kwh, 20.0) and tr.wanted(True) == -1
    assert _close(r.today_kwh, 10.0)


def test_a_meter_reading_day_counts_the_month_from_it():
    r, tr = _start(reading_day=20)
    tr.apply(_frame([_hist(0xE2, 0, 4900)]))
    assert tr.wanted(False) == 25  # 20 February to 17 March 2025: 8 + 17 days
    tr.apply(_frame([_hist(0xE2, 25, 2500)]))
    assert _close(r.month_kwh, 250.0)
    r, tr = _start(reading_day=17)  # the reading day itself: the month began at today's 00:00
    tr.apply(_frame([_hist(0xE2, 0, 4900)]))
    assert _close(r.month_kwh, 10.0) and _close(r.today_kwh, 10.0) and tr.wanted(False) == -1


def test_the_month_across_the_counter_wrap():
    r, tr = _start(e0=120)  # wrapped at 10 ** 6 since the 1st
    tr.apply(_frame([_hist(0xE2, 0, 100), _hist(0xE2, 16, 999900)]))
    assert _close(r.today_kwh, 2.0) and _close(r.month_kwh, 22.0)


def test_midnight_from_ea_keeps_the_month_and_a_new_month_starts_from_00_00():
    r, tr = _start(date=(2025, 3, 30, 23, 50), e0=9000)
    tr.apply(_frame([_hist(0xE2, 0, 8800), _hist(0xE2, 29, 6000)]))
    assert _close(r.today_kwh, 20.0) and _close(r.month_kwh, 300.0)
    tr.ticks += 15 * 60 * 1000
    tr.apply(_frame(_power() + [(0xE0, _u32(9030)), _fixed(0xEA, 2025, 3, 31, 0, 0, 9010)]))
    assert tr.days == 1 and _close(r.today_kwh, 2.0) and _close(r.month_kwh, 303.0)
    tr.ticks += DAY * 1000
    tr.apply(_frame(_power() + [(0xE0, _u32(9250)), _fixed(0xEA, 2025, 4, 1, 0, 0, 9240)]))
    assert tr.days == 2 and _close(r.today_kwh, 1.0) and _close(r.month_kwh, 1.0) and tr.wanted(False) == -1


def test_a_day_without_its_00_00_value_shows_nothing_until_e2():
    r, tr = _start(date=(2025, 3, 17, 23, 50), e0=9000)
    tr.apply(_frame([_hist(0xE2, 0, 8800), _hist(0xE2, 16, 6000)]))
    tr.ticks += 45 * 60 * 1000  # the 00:00 push was lost; the energy Get at 00:35 dates the day
    tr.apply(_frame(_power() + [(0xE0, _u32(9040)), _fixed(0xEA, 2025, 3, 18, 0, 30, 9030)]))
    assert tr.days == 1 and r.today_kwh is None and _close(r.month_kwh, 304.0)
    assert tr.wanted(False) == 0
    tr.apply(_frame([_fixed(0xEA, 2025, 3, 18, 0, 30, 9030), _hist(0xE2, 0, 9005)]))
    assert _close(r.today_kwh, 3.5) and tr.wanted(False) == -1


def test_the_clock_from_0x98_and_0x97_advances_with_ticks_across_their_wrap():
    t0 = (1 << 30) - 5000  # ticks_ms wraps at 2**30 five seconds later
    r, tr = _start(ticks=t0)
    at = day_number(2025, 3, 17) * DAY + 12 * 3600 + 34 * 60 + 30  # hh mm: the middle of the minute
    assert r.time == at
    for i in range(1, 9):  # 8 days of 23 hours: more than a ticks_diff can span at once
        tr.ticks = ticks_add(t0, i * 23 * 3600 * 1000 + 500)
        tr.apply(_frame(_power()))
        assert r.time == at + i * 23 * 3600, (i, r.time - at)


def test_ea_keeps_the_clock_within_the_half_hour_after_it():
    r, tr = _start()  # 12:34:30
    base = day_number(2025, 3, 17) * DAY
    tr.apply(_frame([_fixed(0xEA, 2025, 3, 17, 13, 0, 5000)], 0x73))  # the 13:00 push: the clock was slow
    assert tr.now() == base + 13 * 3600
    tr.ticks += 600 * 1000
    tr.apply(_frame([_fixed(0xEA, 2025, 3, 17, 13, 0, 5000)]))  # 13:00's value asked at 13:10: no change
    assert tr.now() == base + 13 * 3600 + 600
    tr.apply(_frame([_fixed(0xEA, 2025, 3, 17, 12, 0, 5000)]))  # the clock ran ahead past 12:30
    assert tr.now() == base + 12 * 3600 + 1799


def test_midnight_by_the_clock_hides_the_days_figures_before_the_meter_dates_them():
    r, tr = _start(date=(2025, 3, 31, 23, 59), e0=9000)  # the month's last day
    tr.apply(_frame([_hist(0xE2, 0, 8800), _hist(0xE2, 30, 6000)]))
    assert _close(r.today_kwh, 20.0) and _close(r.month_kwh, 300.0)
    tr.ticks += 40 * 1000  # 00:00:10 by the clock; E0 is still March's
    tr.apply(_frame(_power()))
    assert r.today_kwh is None and r.month_kwh is None and r.energy_kwh == 900.0
    r, tr = _start(date=(2025, 3, 17, 23, 59), e0=9000)  # mid-month: the month's figure goes on
    tr.apply(_frame([_hist(0xE2, 0, 8800), _hist(0xE2, 16, 6000)]))
    tr.ticks += 40 * 1000
    tr.apply(_frame(_power()))
    assert r.today_kwh is None and _close(r.month_kwh, 300.0)


def test_a_corrupted_date_in_0x98_is_not_a_new_day():
    r, tr = _start()
    tr.apply(_frame([_hist(0xE2, 0, 4900)]))
    tr.apply(_frame(_date(2025, 3, 27, 12, 40)))  # a flipped bit in the day
    assert tr.days == 0 and _close(r.today_kwh, 10.0) and tr.day == day_number(2025, 3, 17)


def test_session_takes_a_reading_day_from_1_to_28():
    for bad in (0, 29, "5", None):
        try:
            session.Session(None, None, "0" * 32, "A" * 12, reading_day=bad)
        except ValueError:
            continue
        assert False, bad
