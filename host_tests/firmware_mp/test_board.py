"""board.py's wiring and detection against a recording fake `machine` module."""
import sys
import fakes  # noqa: F401
import fake_machine as fm

sys.modules["machine"] = fm
import board  # noqa: E402  (must see the fake machine)


def _make(devices, kind="stickc"):
    fm.LOG[:] = []
    fm.I2C_DEVICES[:] = devices
    fm.REGS.clear()
    fm.REGS[0x12] = 0x10
    return board.create(kind, 26)


def test_axp192_means_stickc_with_st7735s():
    b = _make([0x34, 0x51])
    assert b.name == "StickC" and (b.display.width, b.display.height) == (160, 80)
    assert fm.REGS[0x12] == 0x4D and fm.REGS[0x28] == 0xCC  # AXP192 powered the LCD
    assert ("spi", 1, 27_000_000, 13, 15, None) in fm.LOG
    assert ("pin", 23, fm.Pin.OUT, None) in fm.LOG  # DC
    b.backlight(0)
    assert not fm.REGS[0x12] & 0x04
    b.led(True)
    assert b._led() == 0  # GPIO10 is active low


def test_config_chooses_plus_and_no_axp_means_plus2():
    b = _make([0x34], "plus")
    assert b.name == "StickC Plus" and b.display.width == 240 and b.buzzer_pin == 2
    b = _make([0x51])
    assert b.name == "StickC Plus2" and b.display.height == 135
    # Power hold right after the I2C probe, before the display is set up.
    assert fm.LOG[2][0] == "i2c" and fm.LOG[3] == ("pin", 4, fm.Pin.OUT, 1)
    assert ("pin", 14, fm.Pin.OUT, None) in fm.LOG and ("pwm", 27, 5000) in fm.LOG
    b.backlight(4)
    assert b._bl.duty == 65535 * 4 // 8
    assert b.facts()[1] == ("Power", "4.10 V")


def test_state_in_rtc_memory_is_ours_only():
    b = _make([0x34])
    fm._Rtc.mem = b"\x01\x02\x03"  # something else's RTC memory
    assert b.load_state() is None
    b.save_state(b"\x02\x05\x01")
    assert b.load_state() == b"\x02\x05\x01"


def test_uart_for_the_hat():
    import asyncio
    b = _make([0x34])
    asyncio.run(b.uart_streams())
    assert ("uart", 1, 0, 26, 2048) in fm.LOG
