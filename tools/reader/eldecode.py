"""Every property of the smart meter class and the node profile, with names, for people.

The PC command line and the tests use it; the firmware does not import it, so its tables cost the
board no RAM. The decoders the firmware needs live in meter.
"""
from broute.echonet import EchonetError, METER, NODE_PROFILE
from broute.meter import check_len, uint, counter_at, date_time, cumulative, current_da, fixed_time, history, power_w
from broute.meterfacts import coefficient, digits, property_map, unit_kwh

ESV_NAMES = {
    0x60: "SetI", 0x61: "SetC", 0x62: "Get", 0x63: "INF_REQ", 0x6E: "SetGet",
    0x71: "Set_Res", 0x72: "Get_Res", 0x73: "INF", 0x74: "INFC", 0x7A: "INFC_Res",
    0x7E: "SetGet_Res", 0x50: "SetI_SNA", 0x51: "SetC_SNA", 0x52: "Get_SNA",
    0x53: "INF_SNA", 0x5E: "SetGet_SNA",
}

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


def history2(edt):
    """EC: (year, month, day, hour, minute, [(normal, reverse)...] each 30 min earlier)."""
    if len(edt) < 7:
        raise EchonetError("history 2 needs at least 7 bytes, got %d" % len(edt))
    count = edt[6]
    if not 1 <= count <= 12:
        raise EchonetError("history 2 count %d is outside 1..12" % count)
    check_len(edt, 7 + 8 * count, "history 2 with %d slots" % count)
    t = date_time(edt, 0, 4)
    t.append([(counter_at(edt, 7 + 8 * i), counter_at(edt, 11 + 8 * i)) for i in range(count)])
    return tuple(t)


def history2_selector(edt):
    """ED: (year, month, day, hour, minute, count)."""
    check_len(edt, 7, "history 2 selector")
    return tuple(date_time(edt, 0, 5))


def _one(edt, what):
    check_len(edt, 1, what)
    return edt[0]


def _choice(edt, what, yes, no, yes_value, no_value):
    v = _one(edt, what)
    if v == yes:
        return yes_value
    if v == no:
        return no_value
    raise EchonetError("%s code %02X is not defined" % (what, v))


def _version(edt):
    check_len(edt, 4, "standard version")
    return "Release " + chr(edt[2]) + (" rev %d" % edt[3] if edt[3] else "")


def _text(edt):
    raw = bytes(edt).rstrip(b"\x00 ")
    for b in raw:
        if not 0x20 <= b < 0x7F:
            raise EchonetError("production number is not printable ASCII")
    return raw.decode()


def _maker(edt):
    check_len(edt, 3, "manufacturer code")
    return _hex(edt)


def _hex(edt):
    return "".join("%02X" % b for b in edt)


def _time(edt):
    check_len(edt, 2, "current time")
    return "%02d:%02d" % (edt[0], edt[1])


def _date(edt):
    check_len(edt, 4, "current date")
    return "%04d-%02d-%02d" % (uint(edt, 0, 2), edt[2], edt[3])


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


def instance_list(edt):
    """Node profile D5/D6: the EOJs a node holds."""
    if len(edt) < 1 or len(edt) != 1 + 3 * edt[0]:
        raise EchonetError("instance list of %d bytes does not match its count" % len(edt))
    return [uint(edt, 1 + 3 * i, 3) for i in range(edt[0])]


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
