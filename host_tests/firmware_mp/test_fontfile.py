"""fontfile: the .bin format read a glyph at a time, and the committed fonts."""
import os
import micropython
import fakes  # noqa: F401
from fontfile import Font, folder

_TMP = "/tmp/fontfile_test_%s.bin" % "".join("%02x" % b for b in os.urandom(4))  # runs overlap


def _tiny(head=b"BF\x01"):
    """A 3-row font: "A" 9 px wide (two bytes a row), "C" 2 px, "B" lacking
    (it points at the default "C"); first code 65, three codes, so the bitmaps
    start at 8 + 3 * 3 = 17."""
    a = b"\x80\x80" + b"\xff\x80" + b"\x00\x00"
    c = b"\xc0\x40\xc0"
    index = bytes((9, 2, 2)) + bytes((17, 0, 23, 0, 23, 0))
    with open(_TMP, "wb") as f:
        f.write(head + bytes((3, 9, 65, 3, 67)) + index + a + c)
    return Font(_TMP)


def _rows(g, w, h):
    return ["".join("#" if g.pixel(x, y) else "." for x in range(w)) for y in range(h)]


def test_tiny_font_glyphs_widths_and_default():
    f = _tiny()
    try:
        assert (f.height, f.max_width) == (3, 9)
        assert [f.width(c) for c in (65, 66, 67, 32, 300)] == [9, 2, 2, 2, 2]
        assert _rows(f.glyph(65), 16, 3) == ["#.......#.......", "#########.......",
                                            "................"]
        c = _rows(f.glyph(67), 8, 3)
        assert c == ["##......", ".#......", "##......"]
        assert _rows(f.glyph(66), 8, 3) == c  # lacking: the default's bitmap
        assert _rows(f.glyph(0x7E), 8, 3) == c  # past the last code too
        assert _rows(f.glyph(65), 9, 1) == ["#.......#"]  # re-read after another glyph
    finally:
        os.remove(_TMP)


def test_not_a_font_file_is_refused():
    try:
        _tiny(b"BF\x02")
        assert False, "a version 2 file must be refused"
    except ValueError as e:
        assert "not a version 1 font file" in str(e)
    finally:
        os.remove(_TMP)


def test_committed_fonts():
    d = folder()
    assert d.endswith("firmware/fonts")
    sizes = {}
    for name in ("small", "mid", "big", "huge"):
        f = Font(d + "/" + name + ".bin")
        sizes[name] = (f.height, f.width(ord("8")))
        for c in b"0123456789-.":
            assert 0 < f.width(c) <= f.max_width
            g = f.glyph(c)
            assert any(g.pixel(x, y) for x in range(f.width(c)) for y in range(f.height)), (name, c)
        if name in ("small", "mid"):  # labels and error text: all of printable ASCII
            for c in range(32, 127):
                assert 0 < f.width(c) <= f.max_width
        else:  # digits only: anything else is the default "?"
            assert f.width(ord("W")) == f.width(ord("?")) != f.width(ord("8"))
    assert [sizes[n][0] for n in ("small", "mid", "big", "huge")] == [13, 17, 37, 58]
    assert sizes["small"][1] < sizes["mid"][1] < sizes["big"][1] < sizes["huge"][1]


def test_reading_glyphs_allocates_nothing():
    f = Font(folder() + "/mid.bin")
    f.glyph(65)
    micropython.heap_lock()
    try:
        for c in b"Hello, 123.4 kWh":
            f.glyph(c)
            f.width(c)
    finally:
        micropython.heap_unlock()
