"""Our codec against two independent decoders from PyPI: pychonet (frames, E0/E7/E8/E1)
and momonga (every smart meter property it knows), property by property."""
import datetime
import random

import pytest
from momonga.momonga_echonet_data import EchonetDataParser as Mo
from pychonet.lib.functions import decodeEchonetMsg
from pychonet.LowVoltageSmartElectricEnergyMeter import LowVoltageSmartElectricEnergyMeter as PyMeter

import eldecode
from broute import meter
from corpus import FRAMES, SENTINELS
from broute.echonet import Frame
from broute.meter import NO_DATA

CORPUS = [(label, bytes.fromhex(h)) for label, h, *_ in FRAMES] + [(label, bytes.fromhex(h)) for label, h, _ in SENTINELS]


def _random_frames(n=300, seed=7):
    """Meter answers with values drawn across each property's whole range, sentinels included."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        props = []
        e7 = rng.choice([rng.randint(-0x7FFFFFFF, 0x7FFFFFFD), 0x7FFFFFFE, rng.randint(-6000, 12000)])
        props.append((0xE7, e7.to_bytes(4, "big", signed=True)))
        r, t = (rng.choice([rng.randint(-3000, 3000), 0x7FFE]) for _ in range(2))
        props.append((0xE8, r.to_bytes(2, "big", signed=True) + t.to_bytes(2, "big", signed=True)))
        props.append((0xE0, rng.choice([rng.randint(0, 99999999), 0xFFFFFFFE]).to_bytes(4, "big")))
        props.append((0xE1, bytes([rng.choice([0, 1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D])])))
        props.append((0xD3, rng.choice([1, 10, 100, 40]).to_bytes(4, "big")))
        rng.shuffle(props)
        body = b"".join(bytes([epc, len(edt)]) + edt for epc, edt in props)
        out.append(("random %d" % i, bytes.fromhex("1081") + i.to_bytes(2, "big") + bytes.fromhex("02880105FF0172")
                    + bytes([len(props)]) + body))
    return out


def _none(v):
    return None if v is NO_DATA else v


def _amps(da):
    return None if da is NO_DATA else da / 10


def _momonga(epc, edt, unit=0.1, coef=1):
    """What momonga says of one property, in our codec's terms; None where it has no decoder."""
    b = bytes(edt)
    if epc == 0x80:
        return {True: "on", False: "off"}[Mo.parse_operation_status(b)]
    if epc == 0x82:
        return "Release " + Mo.parse_standard_version_information(b).split(".")[0][-1]
    if epc == 0x88:
        return {True: "fault", False: "no fault"}[Mo.parse_fault_status(b)]
    if epc == 0x8A:
        return Mo.parse_manufacturer_code(b).hex().upper()
    if epc == 0x8D:
        return Mo.parse_serial_number(b).rstrip("\x00 ")
    if epc == 0x97:
        return Mo.parse_current_time_setting(b).strftime("%H:%M")
    if epc == 0x98:
        return Mo.parse_current_date_setting(b).isoformat()
    if epc in (0x9D, 0x9E, 0x9F):
        return bytes(sorted(int(p) for p in Mo.parse_property_map(b)))
    if epc == 0xD3:
        return Mo.parse_coefficient_for_cumulative_energy(b)
    if epc == 0xD7:
        return Mo.parse_number_of_effective_digits_for_cumulative_energy(b)
    if epc in (0xE0, 0xE3):
        return Mo.parse_measured_cumulative_energy(b, unit, coef)
    if epc == 0xE1:
        return Mo.parse_unit_for_cumulative_energy(b)
    if epc in (0xE2, 0xE4):
        return [p["cumulative energy"] for p in Mo.parse_historical_cumulative_energy_1(b, unit, coef)]
    if epc == 0xE7:
        return Mo.parse_instantaneous_power(b)
    if epc == 0xE8:
        c = Mo.parse_instantaneous_current(b)
        return (c["r phase current"], c["t phase current"])
    if epc in (0xEA, 0xEB):
        r = Mo.parse_cumulative_energy_measured_at_fixed_time(b, unit, coef)
        return (r["timestamp"], r["cumulative energy"])
    return None


def _ours(eoj, epc, edt, unit=0.1, coef=1):
    v = eldecode.decode(eoj, epc, edt)
    if epc in (0xE0, 0xE3):
        return _none(meter.kwh(v, coef, unit))
    if epc in (0xE2, 0xE4):
        return [_none(meter.kwh(x, coef, unit)) for x in v[1]]
    if epc == 0xE7:
        return _none(v)
    if epc == 0xE8:
        return (_amps(v[0]), _amps(v[1]))
    if epc in (0xEA, 0xEB):
        return (datetime.datetime(*v[:6]), _none(meter.kwh(v[6], coef, unit)))
    return v


def _close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) <= 1e-6 * max(1, abs(a))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("label,raw", CORPUS + _random_frames(), ids=lambda x: x if isinstance(x, str) else "")
def test_frame_structure_agrees_with_pychonet(label, raw):
    theirs = decodeEchonetMsg(raw)
    f = Frame().parse(raw)
    assert f.tid == theirs["TID"]
    assert f.seoj == (theirs["SEOJGC"] << 16) | (theirs["SEOJCC"] << 8) | theirs["SEOJCI"]
    assert f.deoj == (theirs["DEOJGC"] << 16) | (theirs["DEOJCC"] << 8) | theirs["DEOJCI"]
    assert f.esv == theirs["ESV"]
    assert [(f.epc(i), f.pdc(i), bytes(f.edt(i))) for i in range(f.opc)] == \
        [(p["EPC"], p["PDC"], bytes(p["EDT"])) for p in theirs["OPC"]]


def _compare_with_momonga(raw):
    """Asserts agreement on each property momonga decodes; returns the EPCs compared."""
    f = Frame().parse(raw)
    compared = set()
    for i in range(f.opc):
        epc, edt = f.epc(i), f.edt(i)
        if f.pdc(i) == 0 or f.seoj >> 8 != 0x0288:
            continue
        theirs = _momonga(epc, edt)
        if theirs is None and epc not in (0xE7, 0xE0, 0xE3, 0xE2, 0xE4, 0xE8):
            continue  # momonga has no decoder for it
        ours = _ours(f.seoj, epc, edt)
        assert _close(ours, theirs), (hex(epc), ours, theirs)
        compared.add(epc)
    return compared


@pytest.mark.parametrize("label,raw", CORPUS + _random_frames(), ids=lambda x: x if isinstance(x, str) else "")
def test_property_values_agree_with_momonga(label, raw):
    _compare_with_momonga(raw)


def test_momonga_cross_check_covers_the_meter_properties():
    compared = set()
    for _, raw in CORPUS:
        compared |= _compare_with_momonga(raw)
    want = {0x80, 0x82, 0x88, 0x8A, 0x8D, 0x97, 0x98, 0x9D, 0x9E, 0x9F, 0xD3, 0xD7, 0xE0, 0xE2, 0xE7, 0xE8, 0xEA, 0xEB}
    assert want <= compared, sorted(want - compared)


@pytest.mark.parametrize("label,raw", CORPUS + _random_frames(), ids=lambda x: x if isinstance(x, str) else "")
def test_instantaneous_values_agree_with_pychonet(label, raw):
    f = Frame().parse(raw)
    funcs = PyMeter.EPC_FUNCTIONS
    for i in range(f.opc):
        epc, edt = f.epc(i), bytes(f.edt(i))
        if f.pdc(i) == 0 or f.seoj >> 8 != 0x0288 or epc not in (0xE7, 0xE8, 0xE0, 0xD3, 0xD7):
            continue
        theirs = funcs[epc](edt)
        ours = eldecode.decode(f.seoj, epc, edt)
        if epc == 0xE8:
            ours = {"r_phase_amperes": _amps(ours[0]), "t_phase_amperes": _amps(ours[1])}
            assert all(_close(ours[k], theirs[k]) for k in ours), (label, ours, theirs)
        else:
            assert _none(ours) == theirs, (label, hex(epc), ours, theirs)
