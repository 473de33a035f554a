"""The committed firmware/fonts/*.bin: the format tools/build/make_fonts.py documents,
and byte-identical regeneration where font_to_py and DejaVu are installed."""
import os
import struct

import pytest

import make_fonts

NAMES = [f[0] for f in make_fonts.FONTS]


def _committed(name):
    with open(os.path.join(make_fonts.OUT, name + ".bin"), "rb") as f:
        return f.read()


@pytest.mark.parametrize("name", NAMES)
def test_committed_font_follows_the_format(name):
    d = _committed(name)
    assert d[:3] == b"BF\x01"
    height, max_width, first, n, default = d[3:8]
    keep = dict((f[0], f[4]) for f in make_fonts.FONTS)[name]
    assert first == min(ord(c) for c in keep + "?")
    assert first + n - 1 == max(ord(c) for c in keep + "?")
    widths = d[8:8 + n]
    offsets = struct.unpack_from("<%dH" % n, d, 8 + n)
    assert max(widths) == max_width and min(widths) >= 1
    spans = set()
    for i in range(n):
        size = (widths[i] + 7) // 8 * height
        assert 8 + 3 * n <= offsets[i] and offsets[i] + size <= len(d)
        spans.add((offsets[i], size))
    # Every byte after the index belongs to a stored bitmap, each stored once.
    assert sum(size for _, size in spans) == len(d) - 8 - 3 * n
    slot = {chr(first + i): (widths[i], offsets[i]) for i in range(n)}
    for c in slot:  # characters not kept are drawn as the default
        assert (slot[c] == slot["?"]) == (c not in keep or c == "?"), c


def test_regenerating_is_byte_identical(tmp_path):
    if not os.path.exists(os.path.join(make_fonts.DEJAVU, "DejaVuSans-Bold.ttf")):
        pytest.skip("DejaVu fonts not installed (fonts-dejavu-core)")
    make_fonts.main(str(tmp_path))
    for name in NAMES:
        assert (tmp_path / (name + ".bin")).read_bytes() == _committed(name), name
