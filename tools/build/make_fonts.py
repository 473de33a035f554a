"""Regenerate the committed firmware/fonts/*.bin files from DejaVu with font_to_py.

The .bin files are committed so CI needs neither the TTF nor font_to_py; run this
only when changing a font: `.venv/bin/python tools/build/make_fonts.py` (the output is
byte-identical from run to run). Needs Debian's fonts-dejavu-core (or DEJAVU_DIR
pointing at the TTFs).

font_to_py renders each font to a Python module in a temporary folder (-x:
horizontally mapped rows, what framebuf's MONO_HLSB wants); this keeps only the
characters the firmware draws in that size and writes them in the format
firmware/fontfile.py reads a glyph at a time:

  offset  size  field
  0       2     b"BF"
  2       1     format version, 1
  3       1     height in pixels (every glyph has this many rows)
  4       1     max width: the widest glyph in pixels (sizes the glyph buffer)
  5       1     first character code
  6       1     count n: codes first .. first+n-1 are indexed
  7       1     default code, drawn for characters the font lacks
  8       n     width of each code's glyph in pixels (its advance)
  8+n     2n    offset of each code's bitmap from the start of the file, little-endian
  then          the bitmaps: `height` rows of ceil(width / 8) bytes, leftmost pixel in
                the top bit; each stored once (codes the font lacks share the default's)
"""
import importlib.util
import os
import struct
import subprocess
import sys
import tempfile

DEJAVU = os.environ.get("DEJAVU_DIR", "/usr/share/fonts/truetype/dejavu")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "firmware", "fonts")
ASCII = "".join(chr(c) for c in range(32, 127))
DIGITS = "0123456789-."  # what ui_fmt writes for the big figure
VERSION = 1

# name, TTF, height in pixels, characters font_to_py renders (they set the scale:
# font_to_py fits the tallest ascender and deepest descender into the height),
# characters stored in the .bin.
FONTS = (
    # Labels, status line and error text on the 160x80 StickC.
    ("small", "DejaVuSansCondensed-Bold.ttf", 13, ASCII, ASCII),
    # Secondary figures (amps, kWh) and the Plus's labels.
    ("mid", "DejaVuSansCondensed-Bold.ttf", 17, ASCII, ASCII),
    # The wattage on the StickC ("W" and "kW" are drawn in the mid font).
    ("big", "DejaVuSans-Bold.ttf", 36, "0123456789-.,kW ", DIGITS),
    # The wattage on the 240x135 Plus / Plus2.
    ("huge", "DejaVuSans-Bold.ttf", 58, "0123456789-.,kW ", DIGITS),
)


def tool():
    here = os.path.join(os.path.dirname(sys.executable), "font_to_py")
    return here if os.path.exists(here) else "font_to_py"


def render(name, ttf, height, chars, folder):
    """Run font_to_py into folder; the generated module (its get_ch, height())."""
    name = "font_" + name  # it wants a bare identifier as the file name
    cmd = [tool(), "-x", "-c", chars, os.path.join(DEJAVU, ttf), str(height), name + ".py"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=folder)
    spec = importlib.util.spec_from_file_location(name, os.path.join(folder, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pack(font, keep):
    """The .bin bytes for the characters in keep (plus font_to_py's default "?")."""
    default = ord("?")
    codes = sorted(set(ord(c) for c in keep) | {default})
    first, n = codes[0], codes[-1] - codes[0] + 1
    height = font.height()
    glyphs = {}  # code -> (width, bitmap)
    for c in codes:
        mv, h, w = font.get_ch(chr(c))
        bitmap = bytes(mv)
        if h != height or w < 1 or len(bitmap) != (w + 7) // 8 * h:
            raise SystemExit("unexpected glyph for %r: %d x %d, %d bytes" % (chr(c), w, h, len(bitmap)))
        glyphs[c] = (w, bitmap)
    widths = bytearray()
    offsets = bytearray()
    data = bytearray()
    where = {}  # bitmap -> offset: each stored once
    start = 8 + 3 * n
    for c in range(first, first + n):
        w, bitmap = glyphs.get(c, glyphs[default])
        if bitmap not in where:
            where[bitmap] = start + len(data)
            data += bitmap
        widths.append(w)
        offsets += struct.pack("<H", where[bitmap])
    max_width = max(w for w, _ in glyphs.values())
    head = b"BF" + bytes((VERSION, height, max_width, first, n, default))
    out = head + widths + offsets + data
    if len(out) > 0xFFFF:
        raise SystemExit("font too large for 16-bit offsets")
    return out


def main(out=OUT):
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, ttf, height, rendered, keep in FONTS:
            data = pack(render(name, ttf, height, rendered, tmp), keep)
            path = os.path.join(out, name + ".bin")
            with open(path, "wb") as f:
                f.write(data)
            print("wrote %s (%d B)" % (path, len(data)))


if __name__ == "__main__":
    main()
