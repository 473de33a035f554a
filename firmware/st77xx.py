"""ST7735S / ST7789 panels drawn in horizontal bands of 4-bit palette indices.

There is no whole-screen frame buffer (6.4 KB on the 160x80 StickC, 16.2 KB
on the 240x135 Plus): paint(draw, arg) opens one window over the whole panel,
then for each band of rows sets y0 and calls draw(arg), which paints the whole
screen in screen coordinates; the drawing methods below shift y by y0 and
framebuf clips what falls outside the band (1.25 KB at 160x16). Each band is
converted to RGB565 through the 16-entry palette by framebuf's palette blit,
a few rows at a time into one preallocated strip, and written to SPI, so the
panel gets the frame in one pass: it never shows a half-drawn frame. framebuf
stores RGB565 little-endian and the panels want the high byte first: rgb()
returns byte-swapped colours, the only place the byte order is handled.
Per-panel facts (init sequence, MADCTL and offsets per rotation) are data in
PANELS, not code branches.
"""
import framebuf
import time
from micropython import const

_CASET = const(0x2A)
_RASET = const(0x2B)
_RAMWR = const(0x2C)
_MADCTL = const(0x36)
_DISPOFF = const(0x28)
_DISPON = const(0x29)
_SLPIN = const(0x10)
_SLPOUT = const(0x11)
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


def rgb(r, g, b):
    """RGB888 -> RGB565 with the bytes swapped, so framebuf stores it big-endian."""
    c = ((r & 0xF8) << 8) | ((g & 0xFC) << 3) | (b >> 3)
    return ((c & 0xFF) << 8) | (c >> 8)


class ST77xx:
    """A band of the frame + the panel. `rotation` 1 or 3 is landscape (3 = flipped 1).
    Colours are indices into `palette` (set_palette()); all black until set.
    width and height are the screen's; the band is `band` rows from row y0."""

    def __init__(self, spi, dc, cs, rst, panel="st7735s", rotation=1,
                 sleep_ms=time.sleep_ms):
        pw, ph, self._init, self._rot = PANELS[panel]
        w, h = (ph, pw) if rotation & 1 else (pw, ph)
        self.width, self.height = w, h
        # The smallest strip height from _STRIP_ROWS up that divides the
        # height (80 -> 2, 135 -> 3): a band is whole strips, no slices.
        n = _STRIP_ROWS
        while h % n:
            n += 1
        b = _BAND_ROWS // n * n
        while h % b:
            b -= n
        self._rows, self.band, self.y0 = n, b, 0
        # GS4 rows are whole bytes (framebuf rounds the stride up to even).
        self.buffer = bytearray((w + 1) // 2 * b)
        self.fb = framebuf.FrameBuffer(self.buffer, w, b, framebuf.GS4_HMSB)
        self._sbuf = bytearray(w * n * 2)
        self._strip = framebuf.FrameBuffer(self._sbuf, w, n, framebuf.RGB565)
        self.palette = framebuf.FrameBuffer(bytearray(32), 16, 1, framebuf.RGB565)
        self._spi, self._dc, self._cs, self._rst = spi, dc, cs, rst
        self._sleep = sleep_ms
        self._cmd = bytearray(1)
        self._arg = bytearray(1)
        self._win = bytearray(4)
        self.rotation = rotation

    # FrameBuffer's drawing in screen coordinates: y shifted to the band (framebuf
    # clips the rest). A wrapper, not a subclass: super() would allocate, and
    # framebuf's methods called through the class refuse a subclass instance.
    def fill(self, c):
        self.fb.fill(c)

    def fill_rect(self, x, y, w, h, c):
        self.fb.fill_rect(x, y - self.y0, w, h, c)

    def hline(self, x, y, w, c):
        self.fb.hline(x, y - self.y0, w, c)

    def vline(self, x, y, h, c):
        self.fb.vline(x, y - self.y0, h, c)

    def ellipse(self, x, y, xr, yr, c, f=False, m=15):
        self.fb.ellipse(x, y - self.y0, xr, yr, c, f, m)

    def pixel(self, x, y, c=-1):
        if c < 0:
            return self.fb.pixel(x, y - self.y0)
        self.fb.pixel(x, y - self.y0, c)

    def text(self, s, x, y, c=1):
        self.fb.text(s, x, y - self.y0, c)

    def blit(self, src, x, y, key=-1, pal=None):
        self.fb.blit(src, x, y - self.y0, key, pal)

    def paint(self, draw, arg):
        """One frame: draw(arg) paints the whole screen once per band (y0 set), each
        band pushed as it is drawn, all in one window. Allocates nothing."""
        h, b = self.height, self.band
        self._open(0, h)
        y = 0
        while y < h:  # a while loop: range() with a variable step allocates
            self.y0 = y
            draw(arg)
            self._push()
            y += b
        self.y0 = 0
        self._cs(1)

    def set_palette(self, colours):
        """colours: up to 16 rgb() values, for indices 0, 1, ... in order."""
        for i in range(len(colours)):
            self.palette.pixel(i, 0, colours[i])

    def reset(self):
        """Hardware reset then the panel's init sequence (~400 ms, at boot only)."""
        self._cs(1)
        if self._rst is not None:
            for level, ms in ((1, 5), (0, 20), (1, 150)):
                self._rst(level)
                self._sleep(ms)
        seq, i = self._init, 0
        while i < len(seq):
            n = seq[i + 1]
            self.command(seq[i], seq[i + 2:i + 2 + n])
            if seq[i + 2 + n]:
                self._sleep(seq[i + 2 + n])
            i += n + 3
        self.set_rotation(self.rotation)
        self.command(_DISPON)
        self._sleep(20)

    def command(self, cmd, data=None):
        self._cs(0)
        self._dc(0)
        self._cmd[0] = cmd
        self._spi.write(self._cmd)
        if data:
            self._dc(1)
            self._spi.write(data)
        self._cs(1)

    def set_rotation(self, rotation):
        """Swap between the two landscape (or portrait) orientations: same size."""
        if (rotation ^ self.rotation) & 1:
            raise ValueError("rotation must keep the frame buffer's orientation")
        self.rotation = rotation
        self._arg[0] = self._rot[rotation][0]
        self.command(_MADCTL, self._arg)

    def power(self, on):
        """Panel sleep: with the backlight off this saves the panel's current too."""
        self.command(_SLPOUT if on else _SLPIN)
        self.command(_DISPON if on else _DISPOFF)

    def _window(self, cmd, start, end):
        w = self._win
        w[0] = start >> 8  # one by one: a 4-tuple assignment would allocate
        w[1] = start & 0xFF
        w[2] = end >> 8
        w[3] = end & 0xFF
        self.command(cmd, w)

    def show(self):
        """Push the band alone, at rows y0.. (paint() pushes whole frames)."""
        self._open(self.y0, self.band)
        self._push()
        self._cs(1)

    def _open(self, y, rows):
        """The window over rows y.. of the panel, then RAMWR: data follows, CS held low."""
        _, cx, ry = self._rot[self.rotation]
        self._window(_CASET, cx, cx + self.width - 1)
        self._window(_RASET, ry + y, ry + y + rows - 1)
        self.command(_RAMWR)
        self._cs(0)
        self._dc(1)

    def _push(self):
        """The band as RGB565, a strip at a time (whole strips: their height divides
        the band's)."""
        n, strip, spi = self._rows, self._strip, self._spi  # four would allocate
        pal, sbuf, b = self.palette, self._sbuf, self.band
        fb = self.fb
        y = 0
        while y < b:
            # Strip row r = band row y + r; each pixel becomes palette[index].
            strip.blit(fb, 0, -y, -1, pal)
            spi.write(sbuf)
            y += n
