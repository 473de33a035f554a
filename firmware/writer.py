"""Draw text from a fontfile.Font into a FrameBuffer, in any colour.

A colour is what the target stores for a pixel: a palette index in the 4-bit
ST77xx band. Each MONO_HLSB glyph is blitted through a two-entry
palette (glyph bit -> colour) whose background entry is the blit key, so text
is transparent; framebuf compares the key after the palette lookup, and the
palette is RGB565 so the key can be any 16-bit value other than the colour.
Drawing allocates nothing. Strings, bytes and bytearrays (with a length) are
all accepted, so figures can be formatted into reused bytearrays.
"""
import framebuf


class Writer:
    def __init__(self, fb, font, pal=None):
        """pal: another Writer's palette to share (text() sets both entries each time)."""
        self.fb = fb
        self.font = font
        self.height = font.height
        self.pal = pal or framebuf.FrameBuffer(bytearray(4), 2, 1, framebuf.RGB565)
        self._ink = None

    def text(self, x, y, s, fg, n=-1):
        """Draw s (str, bytes or bytearray; first n items) at x, y; returns the end x.
        Text outside the display's band (st77xx) is only measured: no glyph reads."""
        fb = self.fb
        if y >= fb.y0 + fb.band or y + self.height <= fb.y0:
            return x + self.width(s, n)
        key = fg ^ 0xFFFF  # any value other than fg: the palette's background
        pal = self.pal
        pal.pixel(0, 0, key)
        pal.pixel(1, 0, fg)
        font = self.font
        if n < 0:
            n = len(s)
        txt = isinstance(s, str)
        for i in range(n):
            c = s[i]
            if txt:
                c = ord(c)
            fb.blit(font.glyph(c), x, y, key, pal)
            x += font.width(c)
        return x

    def width(self, s, n=-1):
        if n < 0:
            n = len(s)
        font = self.font
        txt = isinstance(s, str)
        w = 0
        for i in range(n):
            c = s[i]
            w += font.width(ord(c) if txt else c)
        return w

    def ink(self):
        """(first, last) glyph rows holding ink for the digits: lets layouts
        place big figures tightly instead of by the font's full line height."""
        if self._ink is None:
            font = self.font
            top, bottom = self.height, 0
            for c in b"0123456789":
                g, w = font.glyph(c), font.width(c)
                for y in range(self.height):
                    for x in range(w):
                        if g.pixel(x, y):
                            top = min(top, y)
                            bottom = max(bottom, y)
                            break
            self._ink = (top, bottom)
        return self._ink
