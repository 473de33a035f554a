"""What every J11 join step shares (docs/j11.md sections 3-4): the request builder, one request
and its result, the answers a join step waits for.

J11Driver (j11driver.py) keeps only what the connected session uses. The join steps are
j11start.py (reset, start, credentials), j11scan.py (scan, resolve) and j11join.py (join,
end): the driver's `steps(step)` loads the one the ladder's step needs, with this module, and
session.drop_join() drops them when the step ends. Each step's `take` reads the frames it
expects and hands the rest to `take` here, before J11Driver._take sees what is left.
"""
from . import driver as dr
from . import j11
from .compat import const, ticks_add

# requests, notifications (docs/j11.md section 3), as in j11driver.py; a response's code is
# its request's | 0x2000
_SEND, _BSTART, _VERSION = const(0x0008), const(0x0053), const(0x006B)
_N_BOOT, _N_PANA = const(0x6019), const(0x6028)
_R_BADSUM = const(0x2FFF)   # the module got our request with a bad checksum
_R_UNKNOWN = const(0xFFFF)  # the module does not know the command

OK = const(0x01)
W_NONE = const(-2)        # nothing: read until the deadline (j11driver.py's `_want`)
_MISMATCH = const(0x100)  # `_ans` when the wanted response came with a bad checksum
CMD_MS = const(5000)      # the module answers a request within milliseconds
MODE_BROUTE = const(0x05)


class Builder:
    """Request frames written into one pre-allocated buffer (j11.py's framing; the join's
    requests: the driver holds one while joining, its steps())."""

    def __init__(self, size=64):
        self.buf = bytearray(size)
        self._mv = memoryview(self.buf)

    def frame(self, code, *parts):
        """The request `code` with the data `parts` (bytes-like, or ints for single bytes)."""
        b, at = self.buf, j11.HEAD
        for p in parts:
            if isinstance(p, int):
                b[at] = p
                at += 1
            else:
                b[at:at + len(p)] = p
                at += len(p)
        j11.put_head(b, code, at - j11.HEAD, j11.checksum(b, j11.HEAD, at))
        return self._mv[:at]

    def wipe(self):
        """Zero the buffer: the credentials frame must not linger in RAM."""
        b = self.buf
        for i in range(len(b)):
            b[i] = 0


def err(d, code):
    """The request under way (d._name) refused: a checksum error (BUSY) or result `code`."""
    if code == dr.BUSY:
        return dr.DriverError(code, "%s: checksum error on the line" % d._name)
    return dr.DriverError(code, "%s: result %02X" % (d._name, code))


def until(d, want, ms):
    return d.wait(ticks_add(d._clock.ticks_ms(), ms), want)


async def ask(d, code, name, ms, *parts):
    """Write one request and return its result byte; DriverError on silence."""
    d._name = name
    d._w.write(d._b.frame(code, *parts))
    a = await d._reply(code | 0x2000, ms)
    if a == _R_BADSUM or a == _MISMATCH:
        raise err(d, dr.BUSY)  # mangled on the line: worth another try
    if a == _R_UNKNOWN:
        raise err(d, 0xFF)
    return a


async def ok(d, code, name, ms, *parts):
    """ask, and any result but 01 raised as that code."""
    r = await ask(d, code, name, ms, *parts)
    if r != OK:
        raise err(d, r)


def take(d, k, p):
    """The answer the exchange waits for (not 2008's: J11Driver._take has it); True when taken."""
    if k != j11.FRAME:
        return False
    c = p.code
    if c != d._want or c == _SEND | 0x2000:
        return False
    if c == _N_BOOT:
        d._ans = True
    elif c == _N_PANA:
        d._ans = d._pana(p.u8(0))
    else:
        r = d._ans = p.u8(0)
        if r == OK and c == _BSTART | 0x2000 and p.n >= 13:
            d.rssi = p.s8(12)
        elif r == OK and c == _VERSION | 0x2000 and p.n >= 9:
            d.version = "%d.%d.%d" % (p.u8(3), p.u8(4), p.u16(5) << 16 | p.u16(7))
    return True
