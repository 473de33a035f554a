"""Bitmap fonts read from flash a glyph at a time (format: tools/build/make_fonts.py).

An imported font module costs its whole bitmap in the heap (the ESP32 copies a
.mpy's bytes into RAM); here a font costs its index (3 bytes a character) and
one glyph buffer, and the file stays open. A glyph is one seek and one readinto
of at most a few hundred bytes: ~100-300 us on the ESP32's littlefs, a few us
on a PC. Nothing is allocated after open().
"""
import os
import sys
import framebuf


def folder():
    """Where the .bin files are: /fonts on the board (tools/build/deploy.py puts them
    there), else the first fonts/ beside a module folder on sys.path (firmware/
    on a PC, also when compiled modules come first). Call once."""
    for d in ["/fonts"] + [p + "/fonts" if p else "fonts" for p in sys.path]:
        try:
            os.stat(d + "/small.bin")
            return d
        except OSError:
            pass
    raise OSError("no fonts folder (deploy copies firmware/fonts/ to /fonts)")


class Font:
    def __init__(self, path):
        f = open(path, "rb")
        head = f.read(8)
        if head[:3] != b"BF\x01":
            f.close()
            raise ValueError(path + ": not a version 1 font file")
        self.height, self.max_width, self._first, self._n, dflt = head[3:]
        self._default = dflt - self._first
        self._index = bytearray(3 * self._n)  # widths, then 16-bit offsets
        f.readinto(self._index)
        self._f = f
        rows = (self.max_width + 7) // 8
        self._buf = bytearray(rows * self.height)
        # One FrameBuffer per row length: a glyph is read tight into the buffer and
        # drawn through the view of its row length; the up to 7 padding columns are
        # 0 (background), which text blits leave transparent.
        self._views = [framebuf.FrameBuffer(self._buf, 8 * (i + 1), self.height,
                                            framebuf.MONO_HLSB) for i in range(rows)]
        self._code = -1  # the glyph in the buffer

    def _slot(self, code):
        i = code - self._first
        return i if 0 <= i < self._n else self._default

    def width(self, code):
        """Advance of the glyph for code, in pixels (from the index: no read)."""
        return self._index[self._slot(code)]

    def glyph(self, code):
        """MONO_HLSB FrameBuffer holding the glyph for code, `width(code)` pixels
        of it inked; valid until the next call."""
        i = self._slot(code)
        rows = (self._index[i] + 7) >> 3
        if code != self._code:
            j = self._n + 2 * i
            self._f.seek(self._index[j] | self._index[j + 1] << 8)
            self._f.readinto(self._buf, rows * self.height)
            self._code = code
        return self._views[rows - 1]
