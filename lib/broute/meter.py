"""Property values of the low-voltage smart electric energy meter (class 0x0288): what the firmware reads.

Decoders take an EDT (bytes or memoryview) and return natural values. The meter's
"no data", overflow and underflow codes become the sentinels below, never numbers.
Source: ECHONET Appendix "Detailed Requirements for ECHONET Device Objects", 3.3.25.
The meter's dates become day numbers (days from 2000-01-01) and billing months here too, and
`implausible` says when E7 and E8 cannot come from one true reading (docs/protocol.md section 6).
The rest of the class (names, history 2, version, maker...) is in eldecode, which the board never imports.
"""
from .echonet import EchonetError
from .compat import const


class Sentinel:
    """A meter value that is not a number; compare with `is`."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


NO_DATA = Sentinel("no data")
OVERFLOW = Sentinel("overflow")
UNDERFLOW = Sentinel("underflow")

_CUM_NO_DATA = 0xFFFFFFFE
_HISTORY_SLOTS = const(48)

# Plausibility of one reading (single-phase 3-wire: R and T are 100 V each to neutral; two-wire
# has R only). Integer arithmetic only: floats are heap objects on the board.
_V_HI = const(110)      # V: the legal supply is 101 V +-6 V, plus margin
_V_LO = const(90)       # V
_PF_DIV = const(4)      # watts at least 1/4 of volts x amperes: a whole house stays above power factor 0.25
_SLACK_W = const(200)   # W: 0.1 A rounding per phase, E7 and E8 measured a moment apart
_CAP_A = const(240)     # A per phase without a contract: twice the largest contract, 120 A
_CONTRACT_X = const(3)  # x contract_a per phase: a breaker holds 2x for a minute (sim over-limit: 2.04x)


def check_len(edt, n, what):
    if len(edt) != n:
        raise EchonetError("%s needs %d bytes, got %d" % (what, n, len(edt)))


def uint(edt, start, size):
    v = 0
    for i in range(start, start + size):
        v = (v << 8) | edt[i]
    return v


def _signed(v, bits):
    """Two's complement, with the top three codes of the positive range as sentinels:
    max - 1 no data, max overflow, min underflow (E7 and E8 alike)."""
    top = (1 << (bits - 1)) - 1
    if v == top - 1:
        return NO_DATA
    if v == top:
        return OVERFLOW
    if v == top + 1:
        return UNDERFLOW
    return v - (1 << bits) if v > top else v


def power_w(edt):
    """E7: signed watts; export (solar) is negative."""
    check_len(edt, 4, "E7")
    return _signed(uint(edt, 0, 4), 32)


def current_da(edt, phase):
    """E8: deci-amperes of phase 0 (R) or 1 (T); T has no data on single-phase two-wire."""
    check_len(edt, 4, "E8")
    return _signed(uint(edt, 2 * phase, 2), 16)


def counter_at(edt, start):
    v = uint(edt, start, 4)
    return NO_DATA if v == _CUM_NO_DATA else v


def cumulative(edt):
    """E0/E3: raw counter (0..99,999,999) or NO_DATA."""
    check_len(edt, 4, "cumulative energy")
    return counter_at(edt, 0)


def kwh(raw, coefficient, unit):
    """raw x D3 x E1, divided rather than multiplied by fractions so 0.1 steps stay exact."""
    if raw is NO_DATA:
        return NO_DATA
    v = raw * coefficient
    if unit >= 1:
        return v * unit
    return v / round(1 / unit)


def counter_delta(old, new, digits):
    """Steps from old to new on a counter that wraps at 10 ** digits."""
    return (new - old) % (10 ** digits)


_DAYS_0000_03_01 = const(730425)  # days from 0000-03-01 to 2000-01-01


def day_number(y, m, d):
    """Days from 2000-01-01 to the date (proleptic Gregorian): the meter's dates (EA/EB, 0x98)
    as ints, so a day's step is + 1 across month and year ends alike."""
    if m <= 2:  # count years from March, so the leap day is the last day of a year
        y -= 1
        m += 12
    return 365 * y + y // 4 - y // 100 + y // 400 + (153 * (m - 3) + 2) // 5 + d - 1 - _DAYS_0000_03_01


def billing(y, m, d, reading_day):
    """(first day, next month's first day) as day numbers of the billing month holding the date:
    from the `reading_day`-th (1: the calendar month) to the day before the next one."""
    if d < reading_day:
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return day_number(y, m, reading_day), day_number(y + m // 12, m % 12 + 1, reading_day)


def date_time(edt, start, count):
    """YYYY(2) then count single bytes (month, day, hour...)."""
    out = [uint(edt, start, 2)]
    for i in range(count):
        out.append(edt[start + 2 + i])
    return out


def fixed_time(edt):
    """EA/EB: (year, month, day, hour, minute, second, raw or NO_DATA)."""
    check_len(edt, 11, "fixed-time energy")
    t = date_time(edt, 0, 5)
    t.append(counter_at(edt, 7))
    return tuple(t)


def history(edt, slots=_HISTORY_SLOTS):
    """E2/E4: (day back, the first `slots` of its 48 raw half-hour counters from 00:00); the
    session takes only the 00:00 one (slots 1), so no list of 48 is built on the stick."""
    check_len(edt, 2 + 4 * _HISTORY_SLOTS, "history 1")
    day = uint(edt, 0, 2)
    if day > 99:
        raise EchonetError("history day %d is outside 0..99" % day)
    return day, [counter_at(edt, 2 + 4 * i) for i in range(slots)]


def implausible(power_w, r_da, t_da, contract_a=None):
    """Why these values cannot come from one true reading (a corrupted frame), or None.

    `power_w` in W, `r_da`/`t_da` in 0.1 A, any of them None when unknown. Currents are signed
    (reverse flow negative, ECHONET Appendix 3.3.25 E8), so phases of opposite sign may cancel
    in the watts and only the upper bound applies then.
    """
    cap = 10 * (_CONTRACT_X * contract_a if contract_a else _CAP_A)  # 0.1 A
    if (r_da is not None and abs(r_da) > cap) or (t_da is not None and abs(t_da) > cap):
        return "a phase current beyond %d A" % (cap // 10)
    if power_w is None:
        return None
    w = abs(power_w)
    if w * 10 > _V_HI * 2 * cap:
        return "power beyond what %d A per phase carry" % (cap // 10)
    if r_da is None:
        return None
    t = t_da or 0
    a = abs(r_da) + abs(t)
    if w * 10 > _V_HI * a + _SLACK_W * 10:
        return "power above what the currents carry"
    if r_da * t >= 0 and (w + _SLACK_W) * 10 * _PF_DIV < _V_LO * a:
        return "power far below what the currents carry"
    return None
