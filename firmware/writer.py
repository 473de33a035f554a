"""Draw font_to_py fonts (made with -x) into a FrameBuffer, in any colour.

Each glyph is turned into a MONO_HLSB FrameBuffer once, on first use, and
blitted through a two-entry palette whose background entry is the blit key
(so text is transparent). After the first frame drawing text allocates
nothing. Strings, bytes and bytearrays (with a length) are all accepted, so
figures can be formatted into reused bytearrays.
"""
import framebuf


class Writer:
    def __init__(self, fb, font):
        if not font.hmap():
            raise ValueError("font must be generated with font_to_py -x")
        self.fb = fb
        self.font = font
        self.height = font.height()
        self._glyphs = {}
        self._pal = framebuf.FrameBuffer(bytearray(4), 2, 1, framebuf.RGB565)
        self._ink = None

    def _glyph(self, code):
        g = self._glyphs.get(code)
        if g is None:
            mv, h, w = self.font.get_ch(chr(code))
            # FrameBuffer needs a writable buffer: one small copy per glyph, once.
            g = (framebuf.FrameBuffer(bytearray(mv), w, h, framebuf.MONO_HLSB), w)
            self._glyphs[code] = g
        return g

    def text(self, x, y, s, fg, n=-1):
        """Draw s (str, bytes or bytearray; first n items) at x, y; returns the end x."""
        key = fg ^ 0xFFFF  # any value other than fg: the palette's background
        pal = self._pal
        pal.pixel(0, 0, key)
        pal.pixel(1, 0, fg)
        fb = self.fb
        if n < 0:
            n = len(s)
        txt = isinstance(s, str)
        for i in range(n):
            c = s[i]
            g, w = self._glyph(ord(c) if txt else c)
            fb.blit(g, x, y, key, pal)
            x += w
        return x

    def width(self, s, n=-1):
        if n < 0:
            n = len(s)
        txt = isinstance(s, str)
        w = 0
        for i in range(n):
            c = s[i]
            w += self._glyph(ord(c) if txt else c)[1]
        return w

    def ink(self):
        """(first, last) glyph rows holding ink for the digits: lets layouts
        place big figures tightly instead of by the font's full line height."""
        if self._ink is None:
            top, bottom = self.height, 0
            for c in b"0123456789":
                g, w = self._glyph(c)
                for y in range(self.height):
                    for x in range(w):
                        if g.pixel(x, y):
                            top = min(top, y)
                            bottom = max(bottom, y)
                            break
            self._ink = (top, bottom)
        return self._ink

    def wrap(self, text, width):
        """Split text into lines that fit width pixels (for error advice, once)."""
        lines, line = [], ""
        for word in text.split():
            trial = word if not line else line + " " + word
            if line and self.width(trial) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        if line:
            lines.append(line)
        return lines
