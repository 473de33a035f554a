"""AXP192 and ST77xx drivers against recording fakes: the exact bytes sent."""
import micropython
import fakes
from fakes import FakeI2C
from emu_board import FakePin, FakeSPI
import axp192
from st77xx import ST77xx, rgb


def test_axp192_init_sequence():
    i2c = FakeI2C({0x12: 0x10, 0x31: 0x03})
    axp192.AXP192(i2c).init()
    assert i2c.writes == [(0x28, 0xCC), (0x82, 0xFF), (0x84, 0xF2), (0x33, 0xC0),
                          (0x36, 0x0C), (0x30, 0x80), (0x39, 0xFC), (0x35, 0xA2),
                          (0x32, 0x46), (0x12, 0x4D), (0x31, 0x04)]


def test_axp192_backlight_levels():
    i2c = FakeI2C({0x28: 0xCC, 0x12: 0x4D})
    pmu = axp192.AXP192(i2c)
    pmu.backlight(8)
    assert i2c.regs[0x28] == 0xFC and i2c.regs[0x12] & 0x04
    pmu.backlight(1)
    assert i2c.regs[0x28] == 0x8C  # LDO3 (LCD logic) nibble untouched
    pmu.backlight(0)
    assert not i2c.regs[0x12] & 0x04 and i2c.regs[0x12] & 0x08  # LDO2 off, LDO3 on


def test_axp192_readings():
    """What the info screen shows: battery voltage, USB power."""
    pmu = axp192.AXP192(FakeI2C({0x78: 0xDE, 0x79: 0x0A, 0x00: 0x24}))
    assert pmu.battery_mv() == (0xDEA * 11) // 10 == 3918
    assert pmu.usb_present()
    pmu = axp192.AXP192(FakeI2C({0x00: 0x04}))  # charging bit alone: no USB
    assert not pmu.usb_present()


def _panel(panel, rotation=1):
    dc = FakePin()
    spi = FakeSPI(dc)
    spi.log = []
    delays = []
    d = ST77xx(spi, dc, FakePin(), FakePin(), panel, rotation, sleep_ms=delays.append)
    return d, spi, delays


def _commands(log):
    """Group the SPI records into (command, data bytes) pairs."""
    out = []
    for dc, data in log:
        if dc == 0:
            out.append([data[0], b""])
        else:
            out[-1][1] += data
    return out


def test_st7735s_init_and_window():
    d, spi, delays = _panel("st7735s")
    # No whole-screen frame buffer: a band of 16 rows, 4 bits a pixel (6400 B for the screen)
    assert (d.width, d.height, d.band, len(d.buffer)) == (160, 80, 16, 1280)
    d.reset()
    cmds = _commands(spi.log)
    assert cmds[0] == [0x01, b""] and cmds[1] == [0x11, b""]
    assert delays[:5] == [5, 20, 150, 150, 120]
    assert [0xB4, b"\x03"] in cmds and [0x21, b""] in cmds and [0x3A, b"\x05"] in cmds
    assert [0x36, b"\xA8"] in cmds and cmds[-1] == [0x29, b""]
    spi.log[:] = []
    d.paint(d.fill, 0)
    cmds = _commands(spi.log)
    # Landscape: columns 1..160, rows 26..105 of the controller's RAM.
    assert cmds[0] == [0x2A, b"\x00\x01\x00\xA0"]
    assert cmds[1] == [0x2B, b"\x00\x1A\x00\x69"]
    assert cmds[2][0] == 0x2C and len(cmds[2][1]) == 25600  # RGB565 on the wire
    assert [len(data) for dc, data in spi.log[-40:]] == [2 * 320] * 40  # 2-row strips


def test_flip_keeps_size_and_moves_offsets():
    d, spi, _ = _panel("st7789")
    assert (d.width, d.height) == (240, 135)
    assert d.band == 15 and len(d.buffer) == 120 * 15  # 135 = 9 bands of 15
    d.set_rotation(3)
    d.paint(d.fill, 0)
    cmds = _commands(spi.log)
    assert cmds[0] == [0x36, b"\xA8"]
    assert cmds[1] == [0x2A, bytes((0, 40, 1, 23))]  # 40..279
    assert cmds[2] == [0x2B, bytes((0, 52, 0, 186))]  # 52..186
    try:
        d.set_rotation(0)
        assert False, "portrait on a landscape buffer must be refused"
    except ValueError:
        pass


def test_colour_is_sent_high_byte_first():
    d, spi, _ = _panel("st7735s")
    assert rgb(255, 0, 0) == 0x00F8 and rgb(0, 0, 255) == 0x1F00
    d.set_palette((rgb(255, 0, 0), rgb(0, 255, 0)))

    def draw(_):
        d.fill(0)
        d.pixel(1, 0, 1)
    d.paint(draw, None)
    data = _commands(spi.log)[-1][1]
    assert len(data) == 160 * 80 * 2 and data[:6] == b"\xF8\x00\x07\xE0\xF8\x00"


def test_every_index_becomes_its_palette_entry():
    """framebuf's palette blit maps each 4-bit index to its own entry, with no
    key (-1): index 0 and colour 0 are drawn too."""
    d, spi, _ = _panel("st7789")
    colours = [0x1234 * i & 0xFFFF for i in range(16)]  # 16 distinct values, one is 0
    d.set_palette(colours)

    def draw(_):  # the whole screen each band: framebuf clips to the band
        for y in range(d.height):
            for x in range(d.width):
                d.pixel(x, y, (x + y) % 16)
    d.paint(draw, None)
    data = _commands(spi.log)[-1][1]
    assert len(data) == 240 * 135 * 2
    for y in range(d.height):
        row = data[y * 480:(y + 1) * 480]
        assert [row[2 * x] << 8 | row[2 * x + 1] for x in range(16)] == \
            [(colours[(x + y) % 16] & 0xFF) << 8 | colours[(x + y) % 16] >> 8
             for x in range(16)], y


def test_full_frame_push_allocates_nothing():
    for panel in ("st7735s", "st7789"):
        d, spi, _ = _panel(panel)
        spi.log = None
        fill = d.fill  # a bound method is made here, not in the frame
        micropython.heap_lock()
        try:
            d.paint(fill, 3)
        finally:
            micropython.heap_unlock()
        assert spi.count == 5 + 5 + 1 + d.width * d.height * 2  # CASET, RASET, RAMWR, pixels


def test_drawing_is_in_screen_coordinates_whatever_the_band():
    """Each band sees only its rows of what is drawn at screen coordinates: a shape across a
    band border is cut in two, and each half lands on the panel at its own rows."""
    d, spi, _ = _panel("st7735s")
    d.set_palette((0, 0xFFFF))
    seen = []

    def draw(_):
        d.fill(0)
        d.fill_rect(0, 14, 1, 4, 1)  # rows 14..17: across the first border
        d.hline(5, 79, 3, 1)  # the last row
        seen.append((d.y0, d.pixel(0, 15), d.pixel(0, 16), d.pixel(0, 20)))
    spi.log = []
    d.paint(draw, None)
    assert [s[0] for s in seen] == [0, 16, 32, 48, 64] and d.y0 == 0
    assert seen[0][1:] == (1, None, None)  # rows 16 and 20 are not in the first band
    assert seen[1][1:] == (None, 1, 0)
    data = _commands(spi.log)[-1][1]
    on = [i // 2 for i in range(0, len(data), 2) if data[i]]
    assert on == [14 * 160, 15 * 160, 16 * 160, 17 * 160, 79 * 160 + 5, 79 * 160 + 6,
                  79 * 160 + 7]


def test_show_pushes_the_band_alone_at_its_rows():
    """show() (startup's plain error screen) writes the band's rows only: rows y0.. of the panel."""
    d, spi, _ = _panel("st7735s")
    d.y0 = 16
    spi.log = []
    d.show()
    cmds = _commands(spi.log)
    assert cmds[1] == [0x2B, bytes((0, 26 + 16, 0, 26 + 31))]
    assert cmds[2][0] == 0x2C and len(cmds[2][1]) == 160 * 16 * 2
