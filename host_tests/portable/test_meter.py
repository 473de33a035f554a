"""Smart meter property decoders: real frames, sentinels, units and counter arithmetic."""
import eldecode
from broute import meter, meterfacts
from broute.echonet import EchonetError, Frame
from broute.meter import NO_DATA, OVERFLOW, UNDERFLOW
from corpus import FRAMES, SENTINELS, FULL_GET_MAP


def _h(s):
    return bytes.fromhex(s)


def _check(label, f, props):
    for epc, want in props:
        i = f.find(epc)
        if want is None:  # an SNA answer: the property came back empty
            assert f.pdc(i) == 0, label
            continue
        got = eldecode.decode(f.seoj, epc, f.edt(i))
        if epc == 0xE2:
            got = (got[0], list(got[1]))
        assert got == want, (label, got, want)


def test_corpus_meanings():
    f = Frame()
    for label, hexs, _tid, _s, _d, _esv, props in FRAMES:
        _check(label, f.parse(_h(hexs)), props)


def test_sentinels_are_values_not_numbers():
    f = Frame()
    for label, hexs, props in SENTINELS:
        _check(label, f.parse(_h(hexs)), props)


def test_power_sentinels_and_sign():
    assert meter.power_w(_h("7FFFFFFF")) is OVERFLOW
    assert meter.power_w(_h("80000000")) is UNDERFLOW
    assert meter.power_w(_h("7FFFFFFE")) is NO_DATA
    assert meter.power_w(_h("80000001")) == -0x7FFFFFFF
    assert meter.power_w(_h("FFFFFFFF")) == -1


def test_current_sentinels_and_phases():
    edt = _h("7FFF8000")
    assert meter.current_da(edt, 0) is OVERFLOW
    assert meter.current_da(edt, 1) is UNDERFLOW
    edt = _h("FFF6001E")  # -1.0 A on R (export through one phase), 3.0 A on T
    assert (meter.current_da(edt, 0), meter.current_da(edt, 1)) == (-10, 30)


def test_units_table():
    want = {0x00: 1, 0x01: 0.1, 0x02: 0.01, 0x03: 0.001, 0x04: 0.0001,
            0x0A: 10, 0x0B: 100, 0x0C: 1000, 0x0D: 10000}
    for code, mult in want.items():
        got = meterfacts.unit_kwh(bytes([code]))
        assert abs(got - mult) <= mult * 1e-6, (code, got)
    try:
        meterfacts.unit_kwh(b"\x05")
    except EchonetError:
        return
    assert False


def test_kwh_is_raw_times_coefficient_times_unit():
    assert meter.kwh(12345, 1, 0.1) == 1234.5
    assert meter.kwh(65139, 10, 0.1) == 65139.0
    assert meter.kwh(7, 1, 100) == 700
    assert abs(meter.kwh(123456, 1, 0.01) - 1234.56) < 1e-3
    assert meter.kwh(NO_DATA, 1, 0.1) is NO_DATA


def test_counter_delta_wraps_at_effective_digits():
    assert meter.counter_delta(999990, 5, 6) == 15
    assert meter.counter_delta(100, 250, 6) == 150
    assert meter.counter_delta(99999999, 0, 8) == 1


def test_history2_and_selector():
    edt = _h("07EA0514" "0E00" "02" "00000064" "00000001" "00000060" "FFFFFFFE")
    y, mo, d, h, mi, slots = eldecode.history2(edt)
    assert (y, mo, d, h, mi) == (2026, 5, 20, 14, 0)
    assert slots == [(100, 1), (96, NO_DATA)]
    assert eldecode.history2_selector(_h("07EA05140E0002")) == (2026, 5, 20, 14, 0, 2)


def test_history_with_no_data_slots():
    edt = _h("0000" + "FFFFFFFE" * 48)
    day, values = meter.history(edt)
    assert day == 0 and len(values) == 48 and values[0] is NO_DATA


def test_property_map_list_form():
    assert meterfacts.property_map(_h("04E8E780E0")) == bytes([0x80, 0xE0, 0xE7, 0xE8])


def test_property_map_bitmap_form_round_trip():
    bitmap = bytearray(17)
    bitmap[0] = len(FULL_GET_MAP)
    for epc in FULL_GET_MAP:
        bitmap[1 + (epc & 0x0F)] |= 1 << ((epc >> 4) - 8)
    assert meterfacts.property_map(bitmap) == FULL_GET_MAP
    bitmap[0] = 16  # the count must match the bits
    try:
        meterfacts.property_map(bitmap)
    except EchonetError:
        return
    assert False


def test_wrong_lengths_are_codec_errors():
    for epc, edt in ((0xE7, "0000"), (0xE8, "000000"), (0xE0, "00"), (0xEA, "07EA"), (0xE2, "0000"),
                     (0xD7, "09"), (0x9F, "05E0"), (0x80, "35"), (0x8D, "FF00")):
        try:
            eldecode.decode(0x028801, epc, _h(edt))
        except EchonetError:
            continue
        assert False, "%02X accepted" % epc


def test_unknown_property_and_object():
    for eoj, epc in ((0x028801, 0xF0), (0x013001, 0xE7)):
        try:
            eldecode.decode(eoj, epc, b"\x00")
        except EchonetError:
            continue
        assert False


def test_names():
    assert eldecode.name(0x028801, 0xE7) == "instantaneous power"
    assert eldecode.name(0x0EF001, 0xD5) == "instance list notification"


def test_day_numbers_by_hand():
    """Days from 2000-01-01 (the meter's dates and Reading.time count from there)."""
    assert meter.day_number(2000, 1, 1) == 0
    assert meter.day_number(1970, 1, 1) == -10957       # 30 years, 7 leap days: 30 * 365 + 7
    assert meter.day_number(2000, 3, 1) == 60           # 31 + 29: 2000 is a leap year (400 rule)
    assert meter.day_number(2024, 1, 1) == 8766         # 24 * 365 + 6 leap days (2000 .. 2020)
    assert meter.day_number(2024, 2, 29) == 8766 + 31 + 28
    assert meter.day_number(2100, 3, 1) - meter.day_number(2100, 2, 28) == 1  # 2100: no leap day
    assert meter.day_number(2026, 11, 26) == 9497 + 304 + 25  # 26 * 365 + 7; Jan..Oct 304 days


def test_day_numbers_against_datetime_on_cpython():
    try:
        import datetime
    except ImportError:  # the MicroPython unix port
        return
    o = datetime.date(2000, 1, 1)
    for n in range(-40000, 60000, 7):
        x = o + datetime.timedelta(days=n)
        assert meter.day_number(x.year, x.month, x.day) == n
