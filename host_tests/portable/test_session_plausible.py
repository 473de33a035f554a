"""The plausibility filter of readings (lib/reading.py): what a corrupted byte turns into is
dropped, what a household draws is not; cumulative energy never steps back."""
from broute.echonet import Frame
from broute.meter import day_number
from broute.reading import Reading, Tracker, implausible


def _frame(tid, props, esv=0x72):
    body = bytearray()
    for epc, edt in props:
        body += bytes([epc, len(edt)]) + edt
    return Frame().parse(bytes([0x10, 0x81, tid >> 8, tid & 255, 0x02, 0x88, 0x01, 0x05, 0xFF, 0x01,
                                esv, len(props)]) + bytes(body))


def _u32(v):
    return bytes([(v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255])


def _e8(r, t):
    return bytes([(r >> 8) & 255, r & 255, (t >> 8) & 255, t & 255])


def test_the_corrupted_values_seen_are_implausible():
    # 2.8 A and 2.3 A on the phases: about 510 W
    assert implausible(4194817, 28, 23) and implausible(33554925, 28, 23)
    assert implausible(4194817, 28, 23, 30) and implausible(33554925, None, None)
    # 207 A where the meter said 2.3 A (the power says 2.3 A too)
    assert implausible(510, 2070, 23) and implausible(510, 2070, 23, 30)
    assert implausible(510, 23, 2070, 60)


def test_what_households_draw_is_plausible():
    assert implausible(510, 28, 23) is None
    assert implausible(0, 0, 0) is None and implausible(None, None, None) is None
    assert implausible(-1200, -70, -50) is None          # solar export, signed currents
    assert implausible(300, 120, -95) is None            # phases of opposite sign cancel
    assert implausible(5000, 500, None) is None          # two-wire: R only
    assert implausible(6100, 610, 0, 30) is None         # twice the contract for a while
    assert implausible(350, 60, 20) is None              # power factor 0.45 with slack
    assert implausible(600, 100, 100) is None            # 20 A at power factor 0.3: a motor starting
    assert implausible(300, 28, 600)                     # a mangled T current: 62.8 A for 300 W
    assert implausible(9000, 920, None, 30) and implausible(60000, None, None)
    assert implausible(12000, None, None) is None and implausible(20000, None, None, 30)


def test_an_implausible_frame_changes_nothing_and_says_why():
    r = Reading()
    tr = Tracker(r)
    tr.contract_a = 30
    assert tr.apply(_frame(1, [(0xE7, _u32(510)), (0xE8, _e8(28, 23)), (0xE0, _u32(1000))]))
    assert tr.why is None and r.power_w == 510
    assert not tr.apply(_frame(2, [(0xE7, _u32(4194817)), (0xE8, _e8(28, 23)), (0xE0, _u32(1001))]))
    assert "power" in tr.why and "4194817" in tr.why
    assert r.power_w == 510 and r.current_r_da == 28 and tr._e0 == 1000


def test_cumulative_energy_never_steps_back_but_wraps():
    r = Reading()
    tr = Tracker(r)
    tr.apply(_frame(1, [(0xD7, b"\x06"), (0xE1, b"\x01"), (0xE0, _u32(999990))]))
    assert not tr.apply(_frame(2, [(0xE0, _u32(999000))])) and "E0" in tr.why
    assert r.energy_kwh == 99999.0
    tr.apply(_frame(3, [(0xE0, _u32(5))]))  # wrapped at 10 ** 6
    assert tr.why is None and tr._e0 == 5


def test_a_wrong_counter_is_outvoted_by_two_that_agree():
    r = Reading()
    tr = Tracker(r)
    tr.apply(_frame(1, [(0xD7, b"\x06"), (0xE1, b"\x01"), (0xE0, _u32(1000))]))
    tr.apply(_frame(2, [(0xE0, _u32(1000 + 0x40000))]))  # a flipped bit went forward: accepted
    assert not tr.apply(_frame(3, [(0xE0, _u32(1002))])) and tr.why
    tr.apply(_frame(4, [(0xE0, _u32(1003))]))
    assert tr.why is None and tr._e0 == 1003


def _ea(y, mo, d, raw, h=0, mi=0):
    return (0xEA, bytes([y >> 8, y & 255, mo, d, h, mi, 0]) + _u32(raw))


def test_a_corrupted_ea_neither_counts_a_day_nor_sets_the_baseline():
    r = Reading()
    tr = Tracker(r)
    tr.apply(_frame(1, [(0xD7, b"\x06"), (0xE1, b"\x01"), (0xE0, _u32(1000)), _ea(2024, 5, 1, 1000)]))
    tr.apply(_frame(2, [(0xE0, _u32(1150)), _ea(2024, 5, 2, 1100)]))
    assert tr.days == 1 and tr._b[0] == 1100 and abs(r.today_kwh - 5.0) < 1e-9
    tr.apply(_frame(3, [_ea(2024, 5, 12, 1100)]))           # a flipped bit in the day
    tr.apply(_frame(4, [_ea(2024, 5, 3, 60)]))              # a mangled 00:00 value, below the baseline
    tr.apply(_frame(5, [_ea(2088, 5, 3, 1190, 0, 30)]))     # a flipped bit in the year
    assert tr.days == 1 and tr._b[0] == 1100 and tr.day == day_number(2024, 5, 2)
    tr.apply(_frame(6, [(0xE0, _u32(1250)), _ea(2024, 5, 3, 1200)]))
    assert tr.days == 2 and tr._b[0] == 1200 and abs(r.today_kwh - 5.0) < 1e-9
    tr.apply(_frame(7, [_ea(2024, 5, 31, 1300)]))          # days without a link: taken when the
    assert tr.days == 2 and tr._b[0] == 1200                # next EA says the same date
    tr.apply(_frame(8, [_ea(2024, 5, 31, 1300)]))
    assert tr.days == 3 and tr._b[0] == 1300 and tr.day == day_number(2024, 5, 31)
    tr.apply(_frame(9, [_ea(2024, 6, 1, 1400)]))            # the month's turn
    tr.apply(_frame(10, [_ea(2024, 12, 31, 1500)]))
    tr.apply(_frame(11, [_ea(2024, 12, 31, 1500)]))
    tr.apply(_frame(12, [_ea(2025, 1, 1, 1600)]))           # the year's turn
    assert tr.days == 6 and tr._b[0] == 1600 and tr.day == day_number(2025, 1, 1)
