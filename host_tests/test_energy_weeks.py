"""Days, billing months and cost over simulated weeks, against figures worked out by hand.

The simulated meter (tools/simulator) draws a load simple enough to integrate on paper: 1000 W
bought all day except 10:00-14:00, when the house sells 600 W. A day is therefore 20.0 kWh bought
and 2.4 kWh sold, a half hour 0.5 kWh or 0.3 kWh, and the counters (E1 0.1 kWh, D7 6 digits: they
wrap at 100,000.0 kWh) start half a step off the grid so that no half hour lands on a step. The
expected figures below come from that closed form (`_hand`), with calendars from CPython's
datetime; the simulator's own counters are never read back. The meter's clock runs 60x (a day is
1,440 s of the session's virtual time) so weeks take seconds; a second test runs one month end
in real time to check the clock itself (Reading.time) and that no figure of the day before
survives a midnight.
"""
import datetime
import os
import sys
from fractions import Fraction

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in ("lib", "tools/simulator", "host_tests/portable"):
    if os.path.join(ROOT, p) not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, p))

from broute import session, tariff, tariffcfg  # noqa: E402
import sim_vlink as vl  # noqa: E402
from sim_faults import Faults  # noqa: E402
from sim_meter import DEFAULT_ID, DEFAULT_PASSWORD, Meter, MeterConfig  # noqa: E402
from sim_module import Module  # noqa: E402

IMP_W, EXP_W, EXP_FROM, EXP_TO = 1000, 600, 10, 14
IMP0, EXP0 = Fraction("99650.65"), Fraction("2345.65")  # kWh at the clock's start: wraps in ~17 days
EPOCH = datetime.datetime(1970, 1, 1)
TARIFF = {"base_yen": 935.25,
          "tiers": [{"up_to_kwh": 120, "yen_per_kwh": 29.80}, {"up_to_kwh": 300, "yen_per_kwh": 36.40},
                    {"yen_per_kwh": 40.49}],
          "surcharges": [{"name": "fuel", "yen_per_kwh": -1.23},
                         {"name": "levy", "yen_per_kwh": 3.98, "own_line": True}]}


def _secs(text):
    return int((datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S") - EPOCH).total_seconds())


def _day_wh(sec):
    """(bought, sold) Wh from 00:00 to `sec` seconds into a day, as Fractions."""
    a, b = EXP_FROM * 3600, EXP_TO * 3600
    sold = max(0, min(sec, b) - a)
    return Fraction(IMP_W * (sec - sold), 3600), Fraction(EXP_W * sold, 3600)


def _cum(t):
    """(bought, sold) Wh from the epoch's first midnight to meter time t (whole days + the rest)."""
    days, sec = divmod(int(t), 86400)
    i, e = _day_wh(sec)
    frac = Fraction(t) - int(t)
    p = -EXP_W if EXP_FROM * 3600 <= sec < EXP_TO * 3600 else IMP_W
    i += frac * max(p, 0) / 3600
    e += frac * max(-p, 0) / 3600
    return days * 20000 + i, days * 2400 + e


def _hand(start):
    """Raw counter steps (0.1 kWh, modulo 10**6) bought and sold at meter time t."""
    i0, e0 = _cum(start)

    def raw(t):
        i, e = _cum(t)
        return (int((IMP0 * 1000 + i - i0) / 100) % 10 ** 6, int((EXP0 * 1000 + e - e0) / 100) % 10 ** 6)
    return raw


def _month_first(day, reading_day):
    """The billing month's first day holding `day` (a date), by the calendar."""
    if day.day >= reading_day:
        return day.replace(day=reading_day)
    first = day.replace(day=1) - datetime.timedelta(days=1)
    return first.replace(day=reading_day)


def _bill(kwh):
    """The month's yen by hand: base + tiers + folded surcharge, fraction dropped; the levy on its own."""
    kwh = Fraction(kwh)
    energy = min(kwh, 120) * Fraction("29.80") + max(0, min(kwh, 300) - 120) * Fraction("36.40") + \
        max(0, kwh - 300) * Fraction("40.49")
    return int(Fraction("935.25") + energy + kwh * Fraction("-1.23")) + int(kwh * Fraction("3.98"))


def _kwh(steps):
    return Fraction(steps % 10 ** 6, 10)


def _session(link, clock, reading_day, logs):
    return session.Session(link, link, DEFAULT_ID, DEFAULT_PASSWORD, clock=clock, log=logs.append,
                           reading_day=reading_day)


class Checker:
    """Checks every reading against the hand figures; counts the unknown ones per meter day."""

    def __init__(self, meter, s, reading_day, raw):
        self.m, self.s, self.rd, self.raw = meter, s, reading_day, raw
        self.t = tariffcfg.load(TARIFF)
        self.wrong, self.unknown, self.right = [], {}, {}
        self.months, self.costs, self.wrapped, self.last = set(), 0, False, None

    def __call__(self, kind):
        if kind != "reading":
            return
        m, r = self.m, self.s.reading
        at = next(t for t, _, _, epcs in reversed(m.requests) if 0xE0 in epcs)  # when E0 was read
        w = m.wall(at)
        now = self.raw(w)
        day = datetime.date(1970, 1, 1) + datetime.timedelta(days=int(w // 86400))
        midnight = int(w // 86400) * 86400
        first = _month_first(day, self.rd)
        mfirst = int((datetime.datetime.combine(first, datetime.time()) - EPOCH).total_seconds())
        d0, mon0 = self.raw(midnight), self.raw(mfirst)
        want = (_kwh(now[0] - d0[0]), _kwh(now[1] - d0[1]), _kwh(now[0] - mon0[0]), _kwh(now[1] - mon0[1]))
        got = (r.today_kwh, r.today_rev_kwh, r.month_kwh, r.month_rev_kwh)
        if r.energy_kwh != float(_kwh(now[0])) or r.energy_rev_kwh != float(_kwh(now[1])):
            self.wrong.append((day, "energy", r.energy_kwh, float(_kwh(now[0]))))
        if self.last is not None and r.energy_kwh < self.last:
            self.wrapped = True
        self.last = r.energy_kwh
        if None in got:
            self.unknown[day] = self.unknown.get(day, 0) + 1
        for name, g, x in zip(("today", "today sold", "month", "month sold"), got, want):
            if g is not None and abs(g - float(x)) > 1e-6:
                self.wrong.append((day, name, g, float(x)))
        if None not in got:
            self.right[day] = self.right.get(day, 0) + 1
            self.months.add(first)
            yen = tariff.costs(self.t, r)
            bill = (_bill(want[2]) - _bill(want[2] - want[0]), _bill(want[2]))
            if yen != bill:
                self.wrong.append((day, "yen", yen, bill))
            self.costs += 1


@pytest.mark.parametrize("reading_day", [1, 25])
def test_weeks_of_days_months_restarts_missed_pushes_and_a_wrap(reading_day):
    start = _secs("2025-01-27T13:10:00")  # the stick starts mid-day, mid-month
    cfg = MeterConfig(flat=(IMP_W, EXP_W, EXP_FROM, EXP_TO), import_kwh=float(IMP0), export_kwh=float(EXP0),
                      clock_start="2025-01-27T13:10:00", clock_speed=60)

    def sim_s(text):  # session seconds of a meter time
        return (_secs(text) - start) / 60

    # pushes lost: a whole stretch of days, and single midnights (00:00 and 00:30 pushes)
    faults = ["push-loss:%d@%d" % (4 * 1440, sim_s("2025-01-30T20:00:00")),
              "push-loss:60@%d" % sim_s("2025-02-12T23:50:00"),
              "push-loss:60@%d" % sim_s("2025-02-24T23:50:00"),
              "push-loss:60@%d" % sim_s("2025-02-28T23:50:00")]
    clock = vl.VClock()
    mod = Module("bp35a1", Meter(cfg), Faults(faults))
    link = vl.Link(mod, clock)
    logs = []
    raw = _hand(start)
    runs = []
    # a restart mid-day, mid-month (a new Session: the stick rebooted; the module is reset and the
    # meter's E5 is still where the last session left it)
    for until in ("2025-02-10T15:20:00", "2025-03-03T12:00:00"):
        s = _session(link, clock, reading_day, logs)
        c = Checker(mod.meter, s, reading_day, raw)
        s.listener = c
        vl.run(s, clock, lambda: False, sim_s(until) * 1000)
        runs.append(c)
        assert not c.wrong, c.wrong[:5]
        assert s.rejoins == 0 and s.resets == 1, logs[-10:]
    a, b = runs
    days = sorted(set(a.right) | set(b.right))
    assert len(days) >= 34, days
    # unknown only while a day's (or a restart's) baselines are asked: a few polls, 6 min each
    assert max(list(a.unknown.values()) + list(b.unknown.values())) <= 4, (a.unknown, b.unknown)
    assert b.wrapped and not a.wrapped  # the bought counter passed 99,999.9 kWh in the second run
    firsts = {datetime.date(2025, 1, 1), datetime.date(2025, 2, 1), datetime.date(2025, 3, 1)} \
        if reading_day == 1 else {datetime.date(2025, 1, 25), datetime.date(2025, 2, 25)}
    assert a.months | b.months == firsts, sorted(a.months | b.months)
    assert a.costs > 100 and b.costs > 100
    # E5 asked for the month's first day once per session and month, day 0 on mornings without pushes
    sets = [t for t, _, esv, epcs in mod.meter.requests if esv == 0x61]
    assert 3 <= len(sets) <= 40, len(sets)
    print("reading day %d: %d meter days right, %d readings priced, %d SetC E5, unknown per day: %s"
          % (reading_day, len(days), a.costs + b.costs, len(sets),
             sorted(set(list(a.unknown.values()) + list(b.unknown.values())))))


def test_a_month_end_in_real_time_clock_and_no_stale_figures():
    """Feb 28 23:39 to Mar 1 01:00 at real speed: the clock (0x98 + 0x97, then EA) dates the
    readings; from 00:00 by the meter's clock no figure of February is shown; on the month's
    first day this month's kWh equal today's. The 00:00 push is lost (the 00:30 one is not)."""
    start = _secs("2025-02-28T23:39:30")
    cfg = MeterConfig(flat=(IMP_W, EXP_W, EXP_FROM, EXP_TO), import_kwh=float(IMP0),
                      export_kwh=float(EXP0), clock_start="2025-02-28T23:39:30")
    clock = vl.VClock()
    mod = Module("bp35a1", Meter(cfg), Faults(["push-loss:300@1100"]))
    link = vl.Link(mod, clock)
    logs = []
    s = _session(link, clock, 1, logs)
    m = mod.meter
    raw = _hand(start)
    seen, bad = [], []

    def check(kind):  # the session swallows a listener's exceptions: collect, assert after
        if kind != "reading":
            return
        r = s.reading
        w = m.wall(clock.now / 1000.0)
        t2000 = int(w) - 946684800  # the meter's local seconds since 2000-01-01
        if r.time is None or not -32 <= r.time - t2000 <= 32:
            bad.append(("time", r.time, t2000))
            return
        seen.append((w, r.today_kwh, r.month_kwh))
        if r.time >= _secs("2025-03-01T00:00:00") - 946684800:  # March by the clock
            at = next(t for t, _, _, epcs in reversed(m.requests) if 0xE0 in epcs)
            if m.wall(at) < _secs("2025-03-01T00:00:00"):  # E0 still February's: nothing to show
                if r.today_kwh is not None or r.month_kwh is not None:
                    bad.append(("stale", w, r.today_kwh, r.month_kwh))
            elif r.today_kwh is not None:
                now, d0 = raw(m.wall(at)), raw(_secs("2025-03-01T00:00:00"))
                if not r.today_kwh == r.month_kwh == float(_kwh(now[0] - d0[0])):
                    bad.append(("march", w, r.today_kwh, r.month_kwh))
    s.listener = check
    assert not vl.run(s, clock, lambda: False, 4800 * 1000)
    assert not bad, bad[:5]
    march = [x for x in seen if x[0] >= _secs("2025-03-01T00:00:00")]
    assert march and march[-1][1] is not None and march[-1][1] > 0.5, march[-5:]
    feb = [x for x in seen if x[0] < _secs("2025-02-28T23:59:00")]
    assert feb and all(x[1] is not None for x in feb[3:]), feb[:5]
