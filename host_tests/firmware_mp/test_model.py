"""View model history ring and the number formatting used per frame."""
import fakes  # noqa: F401  (puts tools/ on the path)
import model as M
import ui_fmt
from time import ticks_add


def test_minute_average_and_gaps():
    m = M.Model()
    m.add_power(100, 0)
    m.add_power(300, 30000)
    assert m.sample(0) == 200
    m.add_power(500, 61000)           # next minute
    assert (m.sample(0), m.sample(1)) == (500, 200)
    m.add_power(700, 61000 + 3 * 60000)  # two silent minutes stay empty
    assert m.sample(0) == 700 and m.sample(1) == M.NO_VALUE and m.sample(2) == M.NO_VALUE
    assert m.sample(3) == 500


def test_history_survives_ticks_wrap():
    m = M.Model()
    t = ticks_add(0, -30000)  # 30 s before ticks_ms() wraps (2**30 on the ESP32)
    m.add_power(100, t)
    m.add_power(900, ticks_add(t, 70000))  # 70 s later, after the wrap
    assert (m.sample(0), m.sample(1)) == (900, 100)


def test_ring_keeps_sixty_minutes():
    m = M.Model()
    for i in range(90):
        m.add_power(i, i * 60000)
    assert m.sample(0) == 89 and m.sample(59) == 30


def test_max_current_and_age():
    m = M.Model()
    assert m.max_current_da() is None and m.age_s(5000) is None
    m.set_reading(1000, 50, 72, 1000)
    assert m.max_current_da() == 72 and m.age_s(13500) == 12 and m.version == 1


def _s(fn, *args):
    buf = bytearray(16)
    return bytes(buf[:fn(buf, 0, *args)])


def test_formatting():
    assert _s(ui_fmt.put_int, -3040) == b"-3040" and _s(ui_fmt.put_int, 0) == b"0"
    assert _s(ui_fmt.put_tenths, 7) == b"0.7" and _s(ui_fmt.put_tenths, -251) == b"-25.1"
    assert [_s(ui_fmt.put_age, s) for s in (9, 125, 7300)] == [b"9s", b"2m", b"2h"]


def test_warning_threshold_follows_the_configured_ratio():
    import ui_theme as T
    m = M.Model(contract_a=30, warn_percent=80)
    m.set_reading(2300, 230, 0, 0)          # 23.0 A of 30 A: 76 %
    assert T.level(m) == T.L_OK
    m.warn_percent = 70                     # warn_ratio 0.7 in config.json
    assert T.level(m) == T.L_WARN
    m.set_reading(3100, 310, 0, 0)          # over the contract
    assert T.level(m) == T.L_ALARM
    m.set_reading(-800, -80, 0, 0)          # export
    assert T.level(m) == T.L_EXPORT
