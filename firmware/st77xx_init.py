"""ST77xx start-up, once per power-up (st77xx.ST77xx imports it for its constructor and
reset(), then drops it): the panels' facts, the band's size, the init sequences."""
import framebuf
from micropython import const

_DISPON = const(0x29)
# Rows converted and written per SPI write. On the unix port a push takes about
# the same time with 2 to 40 rows (the palette blit is the cost); 2 rows is a
# 640 B strip on the StickC and 40 SPI writes a frame.
_STRIP_ROWS = const(2)
# Rows per band at most: the band is the largest whole number of strips up to
# this that divides the height (80 -> 16, 135 -> 15), so bands tile the frame.
_BAND_ROWS = const(16)

# Init sequences as (command, argument count, arguments..., delay ms) records.
# ST7735S, as M5Stack's M5StickC ST7735_Init.h, argument counts checked
# against the ST7735S datasheet (INVCTR B4h takes one argument).
_INIT_7735S = bytes((
    0x01, 0, 150,                      # SWRESET
    0x11, 0, 120,                      # SLPOUT
    0xB1, 3, 0x05, 0x3C, 0x3C, 0,      # FRMCTR1
    0xB2, 3, 0x05, 0x3C, 0x3C, 0,      # FRMCTR2
    0xB3, 6, 0x05, 0x3C, 0x3C, 0x05, 0x3C, 0x3C, 0,  # FRMCTR3
    0xB4, 1, 0x03, 0,                  # INVCTR
    0xC0, 3, 0xA4, 0x04, 0x84, 0,      # PWCTR1
    0xC1, 1, 0xC5, 0,                  # PWCTR2
    0xC2, 2, 0x0D, 0x00, 0,            # PWCTR3
    0xC3, 2, 0x8D, 0x6A, 0,            # PWCTR4
    0xC4, 2, 0x8D, 0xEE, 0,            # PWCTR5
    0xC5, 1, 0x21, 0,                  # VMCTR1
    0xFC, 1, 0x80, 0,                  # PWCTR6
    0xF0, 1, 0x11, 0,                  # extension command enable (M5Stack)
    0xD6, 1, 0xCB, 0,                  # power save off (M5Stack)
    0x3A, 1, 0x05, 0,                  # COLMOD 16 bit
    0xE0, 16, 0x0D, 0x0C, 0x0C, 0x0E, 0x0E, 0x00, 0x00, 0x00,
    0x00, 0x09, 0x23, 0x31, 0x00, 0x0C, 0x03, 0x1A, 0,  # GMCTRP1
    0xE1, 16, 0x0A, 0x05, 0x06, 0x07, 0x08, 0x01, 0x00, 0x00,
    0x00, 0x05, 0x20, 0x2E, 0x00, 0x0A, 0x01, 0x1A, 0,  # GMCTRN1
    0x21, 0, 0,                        # INVON: this panel needs inversion
    0x13, 0, 10,                       # NORON
))

# ST7789V2 as M5Stack's M5StickC-Plus driver; reset is done by the RST pin.
_INIT_7789 = bytes((
    0x11, 0, 120,                      # SLPOUT
    0x13, 0, 0,                        # NORON
    0xB6, 2, 0x0A, 0x82, 0,            # display function control
    0x3A, 1, 0x55, 0,                  # COLMOD 16 bit
    0xB2, 5, 0x0C, 0x0C, 0x00, 0x33, 0x33, 0,  # PORCTRL
    0xB7, 1, 0x35, 0,                  # GCTRL
    0xBB, 1, 0x28, 0,                  # VCOMS
    0xC0, 1, 0x0C, 0,                  # LCMCTRL
    0xC2, 2, 0x01, 0xFF, 0,            # VDVVRHEN
    0xC3, 1, 0x10, 0,                  # VRHS
    0xC4, 1, 0x20, 0,                  # VDVS
    0xC6, 1, 0x0F, 0,                  # FRCTRL2
    0xD0, 2, 0xA4, 0xA1, 0,            # PWCTRL1
    0xE0, 14, 0xD0, 0x00, 0x02, 0x07, 0x0A, 0x28, 0x32, 0x44,
    0x42, 0x06, 0x0E, 0x12, 0x14, 0x17, 0,  # PVGAMCTRL
    0xE1, 14, 0xD0, 0x00, 0x02, 0x07, 0x0A, 0x28, 0x31, 0x54,
    0x47, 0x0E, 0x1C, 0x17, 0x1B, 0x1E, 0,  # NVGAMCTRL
    0x21, 0, 0,                        # INVON
))

# name: (portrait width, portrait height, init, rotations)
# rotation r: (MADCTL, column offset, row offset); odd r is landscape.
PANELS = {
    "st7735s": (80, 160, _INIT_7735S,
                ((0xCC, 26, 1), (0xA8, 1, 26), (0x08, 26, 1), (0x68, 1, 26))),
    "st7789": (135, 240, _INIT_7789,
               ((0x08, 52, 40), (0x68, 40, 53), (0xC8, 53, 40), (0xA8, 40, 52))),
}


def setup(d, spi, dc, cs, rst, panel, rotation, sleep_ms):
    """Fill in a new st77xx.ST77xx `d`: its size, band, buffers and lines."""
    pw, ph, _, d._rot = PANELS[panel]
    d._panel = panel
    w, h = (ph, pw) if rotation & 1 else (pw, ph)
    d.width, d.height = w, h
    # The smallest strip height from _STRIP_ROWS up that divides the
    # height (80 -> 2, 135 -> 3): a band is whole strips, no slices.
    n = _STRIP_ROWS
    while h % n:
        n += 1
    b = _BAND_ROWS // n * n
    while h % b:
        b -= n
    d._rows, d.band, d.y0 = n, b, 0
    # GS4 rows are whole bytes (framebuf rounds the stride up to even).
    d.buffer = bytearray((w + 1) // 2 * b)
    d.fb = framebuf.FrameBuffer(d.buffer, w, b, framebuf.GS4_HMSB)
    d._sbuf = bytearray(w * n * 2)
    d._strip = framebuf.FrameBuffer(d._sbuf, w, n, framebuf.RGB565)
    d.palette = framebuf.FrameBuffer(bytearray(32), 16, 1, framebuf.RGB565)
    d._spi, d._dc, d._cs, d._rst = spi, dc, cs, rst
    d._sleep = sleep_ms
    d._cmd = bytearray(1)
    d._arg = bytearray(1)
    d._win = bytearray(4)
    d.rotation = rotation


def reset(d):
    """Hardware reset then the panel's init sequence (~400 ms)."""
    d._cs(1)
    if d._rst is not None:
        for level, ms in ((1, 5), (0, 20), (1, 150)):
            d._rst(level)
            d._sleep(ms)
    seq, i = PANELS[d._panel][2], 0
    while i < len(seq):
        n = seq[i + 1]
        d.command(seq[i], seq[i + 2:i + 2 + n])
        if seq[i + 2 + n]:
            d._sleep(seq[i + 2 + n])
        i += n + 3
    d.set_rotation(d.rotation)
    d.command(_DISPON)
    d._sleep(20)
