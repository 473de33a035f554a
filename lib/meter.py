"""Property values of the low-voltage smart electric energy meter (class 0x0288) and the node profile.

Decoders take an EDT (bytes or memoryview) and return natural values. The meter's
"no data", overflow and underflow codes become the sentinels below, never numbers.
Source: ECHONET Appendix "Detailed Requirements for ECHONET Device Objects", 3.3.25.
"""
from echonet import EchonetError, METER, NODE_PROFILE


class Sentinel:
    """A meter value that is not a number; compare with `is`."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


NO_DATA = Sentinel("no data")
OVERFLOW = Sentinel("overflow")
UNDERFLOW = Sentinel("underflow")

# E1: unit of the cumulative counters, as a power of ten of kWh.
_UNIT_EXP = {0x00: 0, 0x01: -1, 0x02: -2, 0x03: -3, 0x04: -4, 0x0A: 1, 0x0B: 2, 0x0C: 3, 0x0D: 4}
_CUM_NO_DATA = 0xFFFFFFFE
_HISTORY_SLOTS = 48

NAMES = {
    0x80: "operation status", 0x81: "installation location", 0x82: "standard version",
    0x88: "fault status", 0x8A: "manufacturer code", 0x8D: "production number",
    0x97: "current time", 0x98: "current date",
    0x9D: "INF property map", 0x9E: "Set property map", 0x9F: "Get property map",
    0xD3: "coefficient", 0xD7: "effective digits", 0xE0: "cumulative energy normal",
    0xE1: "cumulative energy unit", 0xE2: "history 1 normal", 0xE3: "cumulative energy reverse",
    0xE4: "history 1 reverse", 0xE5: "history 1 day", 0xE7: "instantaneous power",
    0xE8: "instantaneous current", 0xEA: "fixed-time energy normal",
    0xEB: "fixed-time energy reverse", 0xEC: "history 2", 0xED: "history 2 selector",
}
PROFILE_NAMES = {0xD5: "instance list notification", 0xD6: "self-node instance list"}


def _need(edt, n, what):
    if len(edt) != n:
        raise EchonetError("%s needs %d bytes, got %d" % (what, n, len(edt)))


def _u(edt, start, size):
    v = 0
    for i in range(start, start + size):
        v = (v << 8) | edt[i]
    return v


def power_w(edt):
    """E7: signed watts; export (solar) is negative."""
    _need(edt, 4, "E7")
    v = _u(edt, 0, 4)
    if v == 0x7FFFFFFE:
        return NO_DATA
    if v == 0x7FFFFFFF:
        return OVERFLOW
    if v == 0x80000000:
        return UNDERFLOW
    return v - 0x100000000 if v & 0x80000000 else v


def current_da(edt, phase):
    """E8: deci-amperes of phase 0 (R) or 1 (T); T has no data on single-phase two-wire."""
    _need(edt, 4, "E8")
    v = _u(edt, 2 * phase, 2)
    if v == 0x7FFE:
        return NO_DATA
    if v == 0x7FFF:
        return OVERFLOW
    if v == 0x8000:
        return UNDERFLOW
    return v - 0x10000 if v & 0x8000 else v


def _counter(edt, start):
    v = _u(edt, start, 4)
    return NO_DATA if v == _CUM_NO_DATA else v


def cumulative(edt):
    """E0/E3: raw counter (0..99,999,999) or NO_DATA."""
    _need(edt, 4, "cumulative energy")
    return _counter(edt, 0)


def coefficient(edt):
    """D3: multiplier of the counters (a Get_SNA for D3 means 1)."""
    _need(edt, 4, "D3")
    return _u(edt, 0, 4)


def unit_exp(edt):
    _need(edt, 1, "E1")
    try:
        return _UNIT_EXP[edt[0]]
    except KeyError:
        raise EchonetError("E1 unit code %02X is not defined" % edt[0])


def unit_kwh(edt):
    """E1: kWh per counter step."""
    e = unit_exp(edt)
    return 10.0 ** e if e >= 0 else 1.0 / 10 ** -e


def digits(edt):
    """D7: effective digits; the counters wrap at 10 ** digits."""
    _need(edt, 1, "D7")
    if not 1 <= edt[0] <= 8:
        raise EchonetError("D7 effective digits %d is outside 1..8" % edt[0])
    return edt[0]


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


def _date_time(edt, start, count):
    """YYYY(2) then count single bytes (month, day, hour...)."""
    out = [_u(edt, start, 2)]
    for i in range(count):
        out.append(edt[start + 2 + i])
    return out


def fixed_time(edt):
    """EA/EB: (year, month, day, hour, minute, second, raw or NO_DATA)."""
    _need(edt, 11, "fixed-time energy")
    t = _date_time(edt, 0, 5)
    t.append(_counter(edt, 7))
    return tuple(t)


def history(edt):
    """E2/E4: (day back, 48 raw half-hour counters from 00:00)."""
    _need(edt, 2 + 4 * _HISTORY_SLOTS, "history 1")
    day = _u(edt, 0, 2)
    if day > 99:
        raise EchonetError("history day %d is outside 0..99" % day)
    return day, [_counter(edt, 2 + 4 * i) for i in range(_HISTORY_SLOTS)]


def history2(edt):
    """EC: (year, month, day, hour, minute, [(normal, reverse)...] each 30 min earlier)."""
    if len(edt) < 7:
        raise EchonetError("history 2 needs at least 7 bytes, got %d" % len(edt))
    count = edt[6]
    if not 1 <= count <= 12:
        raise EchonetError("history 2 count %d is outside 1..12" % count)
    _need(edt, 7 + 8 * count, "history 2 with %d slots" % count)
    t = _date_time(edt, 0, 4)
    t.append([(_counter(edt, 7 + 8 * i), _counter(edt, 11 + 8 * i)) for i in range(count)])
    return tuple(t)


def history2_selector(edt):
    """ED: (year, month, day, hour, minute, count)."""
    _need(edt, 7, "history 2 selector")
    return tuple(_date_time(edt, 0, 5))


def instance_list(edt):
    """Node profile D5/D6: the EOJs a node holds."""
    if len(edt) < 1 or len(edt) != 1 + 3 * edt[0]:
        raise EchonetError("instance list of %d bytes does not match its count" % len(edt))
    return [_u(edt, 1 + 3 * i, 3) for i in range(edt[0])]


def property_map(edt):
    """9D/9E/9F: the EPCs, from a list (< 16) or the 16-byte bitmap (>= 16)."""
    if len(edt) < 1:
        raise EchonetError("property map is empty")
    count = edt[0]
    if count < 16:
        _need(edt, 1 + count, "property map of %d" % count)
        return bytes(sorted(edt[1:]))
    _need(edt, 17, "property map bitmap")
    out = bytearray()
    for epc in range(0x80, 0x100):
        low = epc & 0x0F
        bit = (epc >> 4) - 8
        if edt[1 + low] & (1 << bit):
            out.append(epc)
    if len(out) != count:
        raise EchonetError("property map bitmap holds %d EPCs, count says %d" % (len(out), count))
    return bytes(out)


def _one(edt, what):
    _need(edt, 1, what)
    return edt[0]


def _choice(edt, what, yes, no, yes_value, no_value):
    v = _one(edt, what)
    if v == yes:
        return yes_value
    if v == no:
        return no_value
    raise EchonetError("%s code %02X is not defined" % (what, v))


def _version(edt):
    _need(edt, 4, "standard version")
    return "Release " + chr(edt[2]) + (" rev %d" % edt[3] if edt[3] else "")


def _text(edt):
    raw = bytes(edt).rstrip(b"\x00 ")
    for b in raw:
        if not 0x20 <= b < 0x7F:
            raise EchonetError("production number is not printable ASCII")
    return raw.decode()


def _maker(edt):
    _need(edt, 3, "manufacturer code")
    return _hex(edt)


def _hex(edt):
    return "".join("%02X" % b for b in edt)


def _time(edt):
    _need(edt, 2, "current time")
    return "%02d:%02d" % (edt[0], edt[1])


def _date(edt):
    _need(edt, 4, "current date")
    return "%04d-%02d-%02d" % (_u(edt, 0, 2), edt[2], edt[3])


def _day(edt):
    d = _one(edt, "history day")
    if d > 99:
        raise EchonetError("history day %d is outside 0..99" % d)
    return d


def _location(edt):
    return edt[0] if len(edt) == 1 else _hex(edt)


_DECODERS = {
    0x80: lambda e: _choice(e, "operation status", 0x30, 0x31, "on", "off"),
    0x81: _location,
    0x82: _version,
    0x88: lambda e: _choice(e, "fault status", 0x41, 0x42, "fault", "no fault"),
    0x8A: _maker,
    0x8D: _text,
    0x97: _time,
    0x98: _date,
    0x9D: property_map,
    0x9E: property_map,
    0x9F: property_map,
    0xD3: coefficient,
    0xD7: digits,
    0xE0: cumulative,
    0xE1: unit_kwh,
    0xE2: history,
    0xE3: cumulative,
    0xE4: history,
    0xE5: _day,
    0xE7: power_w,
    0xE8: lambda e: (current_da(e, 0), current_da(e, 1)),
    0xEA: fixed_time,
    0xEB: fixed_time,
    0xEC: history2,
    0xED: history2_selector,
}


def decode(eoj, epc, edt):
    """Natural value of any known property; EchonetError for an unknown one or a bad EDT."""
    if eoj == NODE_PROFILE and epc in (0xD5, 0xD6):
        return instance_list(edt)
    if eoj >> 8 != METER >> 8 or epc not in _DECODERS:
        raise EchonetError("no decoder for EOJ %06X EPC %02X" % (eoj, epc))
    return _DECODERS[epc](edt)


def name(eoj, epc):
    table = PROFILE_NAMES if eoj >> 8 == NODE_PROFILE >> 8 else NAMES
    return table.get(epc, "EPC %02X" % epc)
