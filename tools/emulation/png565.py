"""Write a big-endian RGB565 buffer (what the panels receive) as a PNG file.

Runs under the MicroPython unix port, which has binascii.crc32 but no deflate
compressor: the image data goes in stored (uncompressed) deflate blocks, with
the zlib Adler-32 computed here. A 160x80 screen is a ~39 KB file.
"""
import binascii
import struct


def _chunk(f, kind, data):
    f.write(struct.pack(">I", len(data)))
    f.write(kind)
    f.write(data)
    f.write(struct.pack(">I", binascii.crc32(data, binascii.crc32(kind)) & 0xFFFFFFFF))


def _adler32(data):
    a, b = 1, 0
    for i in range(0, len(data), 4096):  # keep a, b small between reductions
        for c in data[i:i + 4096]:
            a += c
            b += a
        a %= 65521
        b %= 65521
    return (b << 16) | a


def rgb888(buf, width, height, scale=1):
    """Rows of filter byte 0 + RGB888 pixels, each pixel repeated scale times."""
    out = bytearray((1 + width * scale * 3) * height * scale)
    o = 0
    for y in range(height):
        start = o
        out[o] = 0
        o += 1
        for x in range(width):
            i = (y * width + x) * 2
            v = (buf[i] << 8) | buf[i + 1]
            r = (v >> 8) & 0xF8
            g = (v >> 3) & 0xFC
            b = (v << 3) & 0xF8
            r |= r >> 5
            g |= g >> 6
            b |= b >> 5
            for _ in range(scale):
                out[o] = r
                out[o + 1] = g
                out[o + 2] = b
                o += 3
        row = out[start:o]
        for _ in range(scale - 1):
            out[o:o + len(row)] = row
            o += len(row)
    return out


def write(path, buf, width, height, scale=1):
    raw = rgb888(buf, width, height, scale)
    z = bytearray(b"\x78\x01")
    for i in range(0, len(raw), 65535):
        block = raw[i:i + 65535]
        last = 1 if i + 65535 >= len(raw) else 0
        z += struct.pack("<BHH", last, len(block), len(block) ^ 0xFFFF)
        z += block
    z += struct.pack(">I", _adler32(raw))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        _chunk(f, b"IHDR", struct.pack(">IIBBBBB", width * scale, height * scale, 8, 2, 0, 0, 0))
        _chunk(f, b"IDAT", z)
        _chunk(f, b"IEND", b"")
