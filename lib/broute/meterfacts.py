"""The meter's facts read once per session: D3 coefficient, E1 unit, D7 digits, 9D/9E/9F property maps.

ECHONET Appendix 3.3.25, as meter.py: the Tracker (reading.py) decodes them from the first
answer after a join, the serve step builds its Gets from them (`gets`) and drops this module
(poll.py), so it is off the heap while the meter is polled. meter.py forwards their names here for the PC tools.
"""
from .echonet import EchonetError
from .meter import check_len, uint


def coefficient(edt):
    """D3: multiplier of the counters (a Get_SNA for D3 means 1)."""
    check_len(edt, 4, "D3")
    return uint(edt, 0, 4)


def unit_exp(edt):
    check_len(edt, 1, "E1")
    c = edt[0]  # 00..04: 10**-code kWh; 0A..0D: 10**(code - 9) kWh (computed: a table is heap)
    if c <= 4:
        return -c
    if 0x0A <= c <= 0x0D:
        return c - 9
    raise EchonetError("E1 unit code %02X is not defined" % c)


def unit_kwh(edt):
    """E1: kWh per counter step."""
    e = unit_exp(edt)
    return 10.0 ** e if e >= 0 else 1.0 / 10 ** -e


def digits(edt):
    """D7: effective digits; the counters wrap at 10 ** digits."""
    check_len(edt, 1, "D7")
    if not 1 <= edt[0] <= 8:
        raise EchonetError("D7 effective digits %d is outside 1..8" % edt[0])
    return edt[0]


def property_map(edt):
    """9D/9E/9F: the EPCs, from a list (< 16) or the 16-byte bitmap (>= 16)."""
    if len(edt) < 1:
        raise EchonetError("property map is empty")
    count = edt[0]
    if count < 16:
        check_len(edt, 1 + count, "property map of %d" % count)
        return bytes(sorted(edt[1:]))
    check_len(edt, 17, "property map bitmap")
    out = bytearray()
    for epc in range(0x80, 0x100):
        low = epc & 0x0F
        bit = (epc >> 4) - 8
        if edt[1 + low] & (1 << bit):
            out.append(epc)
    if len(out) != count:
        raise EchonetError("property map bitmap holds %d EPCs, count says %d" % (len(out), count))
    return bytes(out)


def gets(tr):
    """The energy Get (E7 E8 E0, and E3 EA EB where the meter has them: EA dates the energy,
    so a midnight is seen and its 00:00 baselines taken even when pushes are missed) and
    the history Get (EA, then E2 and E4 of the day E5 chose), from the property map: built
    once per session by the serve step (poll.py)."""
    e, h = bytearray(b"\xE7\xE8\xE0"), bytearray(b"\xEA\xE2")
    sold = tr.supports(0xE3)
    if sold:
        e.append(0xE3)
    if tr.supports(0xEA):
        e.append(0xEA)
    if sold and tr.supports(0xEB):
        e.append(0xEB)
    if sold and tr.supports(0xE4):
        h.append(0xE4)
    return bytes(e), bytes(h)
