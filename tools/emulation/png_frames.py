"""Recompress (and optionally enlarge) the emulator's PNG screenshots on CPython.

The unix port writes stored, uncompressed PNGs; for docs/screens this makes
them small with zlib and scales them up (nearest neighbour) for the README:

  python tools/emulation/png_frames.py SRC_DIR DST_DIR [scale]
"""
import os
import sys

import png


def convert(src, dst, scale):
    w, h, rows, _ = png.Reader(filename=src).asRGB8()
    out = []
    for r in rows:
        r = bytes(r)
        wide = b"".join(r[i:i + 3] * scale for i in range(0, len(r), 3))
        out.extend([wide] * scale)
    with open(dst, "wb") as f:
        png.Writer(w * scale, h * scale, greyscale=False, compression=9).write(f, out)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    scale = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        if name.endswith(".png"):
            convert(os.path.join(src, name), os.path.join(dst, name), scale)


if __name__ == "__main__":
    main()
