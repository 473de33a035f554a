"""ROHM's binary J11 protocol, sans-I/O: bytes from the module in, one frame at a time out.

Frame layout (docs/j11.md section 1): unique code (4), command code (2), message length (2) =
4 + data length, header checksum (2) = sum of bytes 0-7, data checksum (2) = sum of the data,
then the data; big-endian, sums mod 65536. The parser hunts for the unique code, so garbage
before a frame costs nothing but the garbage; a frame whose header or data checksum is wrong,
or whose length is beyond the cap, becomes a BAD event and the hunt resumes right after its
unique code (a frame hidden in a mangled one is still found). Nothing is allocated per frame
unless the caller asks for a view (`view`).
"""
from . import driver as _dr
from .compat import const

REQUEST = b"\xD0\xEA\x83\xFC"   # what we send
RESPONSE = b"\xD0\xF9\xEE\x5D"  # what the module sends: responses and notifications

# The longest real frame is a 6018 UDP notification: 27 bytes of address, ports, PAN, RSSI
# and length before at most 1232 bytes of UDP data (the module's send limit, 0x4D0; docs/j11.md
# section 1). A longer length is a broken header that passed its 16-bit sum by chance.
MAX_DATA = const(1259)
HEAD = const(12)

# Parser.next() kinds
NEED_DATA = const(0)
FRAME = const(1)      # `code`, `at`/`n` (the data in `buf`), `view(i, n)`
BAD = const(2)        # `code` as read (untrusted unless `why` is BAD_DATA), `why` one of:
BAD_HEADER = "header checksum"
BAD_DATA = "data checksum"
BAD_LENGTH = "length beyond the cap"


def checksum(b, s, e):
    """Sum of b[s:e] mod 65536, without slicing."""
    t = 0
    for i in range(s, e):
        t += b[i]
    return t & 0xFFFF


class Parser:
    """Feed bytes with `feed()` (or `space()` + `commit()`, compat.Port's readinto path), then
    call `next()` until NEED_DATA. `unique` selects the direction it hunts for (a simulator
    parses requests). The buffer never grows: a frame never needs more than HEAD + MAX_DATA.
    feed, commit and next are the input side both parsers share (driver.py).
    """

    commit = _dr.commit
    feed = _dr.feed
    next = _dr.next_item

    def __init__(self, unique=RESPONSE, size=HEAD + MAX_DATA + 5):
        self.buf = bytearray(size)
        self._mv = memoryview(self.buf)
        self._uc = unique
        self.garbage = 0  # runs of bytes that were no frame (diagnostics)
        self.bad = 0      # BAD events
        self.reset()

    def reset(self):
        """Forget buffered bytes (after a module reset)."""
        self._s = self._e = 0
        self._src = None
        self._si = 0
        self.code = -1
        self.at = self.n = 0
        self.why = None

    # --- input -------------------------------------------------------------------------
    def space(self):
        """A writable view of the free tail (for readinto); never empty."""
        if self._s == self._e:
            self._s = self._e = 0
            return self._mv
        if self._s:
            n = self._e - self._s
            self.buf[:n] = self._mv[self._s:self._e]
            self._s, self._e = 0, n
        if self._e == len(self.buf):  # cannot happen with whole frames; never grow
            self._s = self._e = 0
            self.garbage += 1
            return self._mv
        return self._mv[self._e:]

    # --- frames --------------------------------------------------------------------------
    def _next(self):
        b = self.buf
        s, e = self._s, self._e
        i = b.find(self._uc, s, e)
        if i < 0:  # keep a tail that may be the start of a unique code
            t = e - 3 if e - s > 3 else s
            if t > s:
                self.garbage += 1
            self._s = t
            return NEED_DATA
        if i > s:
            self.garbage += 1
        self._s = s = i
        if e - s < HEAD:
            return NEED_DATA
        self.code = b[s + 4] << 8 | b[s + 5]
        n = (b[s + 6] << 8 | b[s + 7]) - 4
        self._s = s + 4  # what a BAD frame leaves: the hunt goes on after its unique code
        if checksum(b, s, s + 8) != b[s + 8] << 8 | b[s + 9]:
            return self._bad(BAD_HEADER)
        if n < 0 or n > MAX_DATA:
            return self._bad(BAD_LENGTH)
        if e - s < HEAD + n:
            self._s = s
            return NEED_DATA
        if checksum(b, s + HEAD, s + HEAD + n) != b[s + 10] << 8 | b[s + 11]:
            return self._bad(BAD_DATA)
        self._s = s + HEAD + n
        self.at, self.n, self.why = s + HEAD, n, None
        return FRAME

    def _bad(self, why):
        self.bad += 1
        self.why = why
        self.n = 0
        return BAD

    # --- the frame just returned -----------------------------------------------------------
    def view(self, i, n):
        """Data bytes i..i+n of the FRAME just returned, as a view (valid until the next call)."""
        return self._mv[self.at + i:self.at + i + n]

    def u8(self, i):
        """Data byte `i`, or -1 beyond the data (short frames read as absent fields)."""
        return self.buf[self.at + i] if i < self.n else -1

    def u16(self, i):
        if i + 2 > self.n:
            return -1
        b, a = self.buf, self.at + i
        return b[a] << 8 | b[a + 1]

    def s8(self, i):
        v = self.u8(i)
        return v - 256 if v > 127 else v


def put_head(b, code, n, s):
    """Write a request header for `n` data bytes summing to `s` into b[0:12]."""
    b[0:4] = REQUEST
    ln = n + 4
    b[4], b[5], b[6], b[7] = code >> 8, code & 255, ln >> 8, ln & 255
    h = checksum(b, 0, 8)
    b[8], b[9], b[10], b[11] = h >> 8, h & 255, (s >> 8) & 255, s & 255


class UdpHead:
    """The header of a 0008 UDP send to one address, built once per join: destination IPv6,
    source and destination port 0E1A, data length (docs/j11.md section 3). Per send only the
    lengths and checksums are patched; the data is written after it, never copied in."""

    def __init__(self, ip16, port=0x0E1A):
        b = self.buf = bytearray(HEAD + 22)
        b[HEAD:HEAD + 16] = ip16
        b[28], b[29], b[30], b[31] = port >> 8, port & 255, port >> 8, port & 255
        self._sum = checksum(b, HEAD, HEAD + 20)

    def head(self, data):
        b, n = self.buf, len(data)
        b[32], b[33] = n >> 8, n & 255
        put_head(b, 0x0008, 22 + n, self._sum + (n >> 8) + (n & 255) + checksum(data, 0, n))
        return b
