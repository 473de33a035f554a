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
st77xx_init.PANELS, not code branches; that module sizes the band and sends the init
sequence, at start-up only, and is dropped after (its code is not kept on the heap).
"""
import sys
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
        _boot("setup", self, spi, dc, cs, rst, panel, rotation, sleep_ms)

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
        _boot("reset", self)

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


def _boot(fn, *args):
    """st77xx_init's fn(*args): the module is imported for it and dropped after, unless a
    caller (board_init) holds it for a whole start-up."""
    held = "st77xx_init" in sys.modules
    import st77xx_init
    try:
        getattr(st77xx_init, fn)(*args)
    finally:
        if not held:
            sys.modules.pop("st77xx_init", None)
