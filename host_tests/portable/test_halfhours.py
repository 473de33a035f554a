"""Yesterday's and today's half hours bought (lib/broute/halfhours.py) as the Tracker feeds them
from E2 (days 0 and 1) and EA, frame by frame with figures worked out by hand; /api/history's
today and yesterday (docs/http.md). E1 is 0.1 kWh and D7 6 digits: a count of 10 is 1 kWh."""
from broute.halfhours import HalfHours
from broute.reading import Reading, Tracker
from test_reading_days import _frame, _u32, _date, _fixed, _power

NO = 0xFFFFFFFE


def _e2(day, counters):
    return (0xE2, bytes([0, day]) + b"".join(_u32(c) for c in counters + [NO] * (48 - len(counters))))


def _start(date=(2024, 6, 15, 10, 5), e0=1065):
    r = Reading()
    r.halves = HalfHours()
    tr = Tracker(r)
    tr.ticks = 1000
    tr.apply(_frame([(0xD7, b"\x06"), (0xE1, b"\x01")] + _power() + [(0xE0, _u32(e0))] + _date(*date)))
    return r, tr, r.halves


def _near(a, b):
    return a is not None and abs(a - b) < 1e-6


def test_today_from_e2_and_the_half_hour_going_on_from_e0():
    r, tr, h = _start()
    assert h.kwh(0, 0) is None and tr.wanted(False) == 0
    tr.apply(_frame([_e2(0, [1000 + 3 * i for i in range(21)])]))  # 00:00 .. 10:00
    assert all(_near(h.kwh(0, i), 0.3) for i in range(20))
    assert _near(h.kwh(0, 20), 0.5)  # 10:00-10:30 now (10:05): E0 1065 less 1060
    assert h.kwh(0, 21) is None and h.kwh(0, 47) is None
    assert tr.wanted(False) == 14  # the month's first day (1 June) before yesterday
    tr.apply(_frame([_e2(14, [400])]))
    assert tr.wanted(False) == 1  # then yesterday's half hours, once
    tr.apply(_frame([_e2(1, [500 + 5 * i for i in range(48)])]))
    assert tr.wanted(False) == -1 and h.got == tr.day
    assert all(_near(h.kwh(1, i), 0.5) for i in range(47))
    assert _near(h.kwh(1, 47), 26.5)  # 23:30 (735) to today's 00:00 (1000)
    # EA at 10:30: the half hour has ended, its value from the counters
    tr.ticks += 30 * 60 * 1000
    tr.apply(_frame(_power() + [(0xE0, _u32(1072)), _fixed(0xEA, 2024, 6, 15, 10, 30, 1070)]))
    assert _near(h.kwh(0, 20), 1.0) and _near(h.kwh(0, 21), 0.2)  # and 10:30-11:00 from E0


def test_the_next_day_moves_today_to_yesterday_and_a_gap_clears_both():
    r, tr, h = _start(date=(2024, 6, 15, 23, 40), e0=2000)
    tr.apply(_frame([_e2(0, [1000 + 20 * i for i in range(48)])]))  # up to 23:30
    assert _near(h.kwh(0, 46), 2.0) and _near(h.kwh(0, 47), 6.0)  # 23:30 now: E0 2000 less 1940
    tr.ticks += 30 * 60 * 1000
    tr.apply(_frame(_power() + [(0xE0, _u32(2010)), _fixed(0xEA, 2024, 6, 16, 0, 0, 2005)]))
    assert tr.days == 1 and _near(h.kwh(1, 0), 2.0) and _near(h.kwh(1, 47), 6.5)  # 1940 -> 2005
    assert _near(h.kwh(0, 0), 0.5) and h.kwh(0, 1) is None
    assert tr.wanted(False) == 15  # the month's 1 June first; yesterday after it
    r2 = Reading()  # a new session's Reading gets the same HalfHours: it outlives the session
    r2.halves = h
    tr2 = Tracker(r2)
    tr2.ticks = 1000
    tr2.apply(_frame([(0xD7, b"\x06"), (0xE1, b"\x01")] + _power() + [(0xE0, _u32(2010))]
                     + _date(2024, 6, 16, 0, 10)))
    assert _near(h.kwh(1, 0), 2.0) and h.tr is tr2
    tr2.ticks += 2 * 86400 * 1000  # two days without the meter: nothing of them is known
    tr2.apply(_frame(_power() + [(0xE0, _u32(2500))] + _date(2024, 6, 18, 0, 10)))
    tr2.apply(_frame(_power() + [(0xE0, _u32(2500))] + _date(2024, 6, 18, 0, 11)))  # taken on a second look
    assert tr2.days == 1 and h.today == tr2.day
    assert all(h.kwh(d, i) is None for d in (0, 1) for i in range(48))


def test_without_halves_nothing_more_is_asked():
    r = Reading()
    tr = Tracker(r)
    tr.ticks = 1000
    tr.apply(_frame([(0xD7, b"\x06"), (0xE1, b"\x01")] + _power() + [(0xE0, _u32(1065))]
                    + _date(2024, 6, 1, 10, 5)))
    tr.apply(_frame([_e2(0, [1000])]))
    assert tr.wanted(False) == -1  # the month began today: nothing else, no yesterday
