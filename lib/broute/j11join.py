"""J11's join steps (docs/j11.md section 4): reset, start, credentials, scan, resolve, join, end.

J11Driver (j11driver.py) keeps only what the connected session uses (0008 sends, the waiter,
the notifications of a running session). This module is what (re)joining adds: loaded
through the driver's `steps()` when the ladder starts a (re)join and dropped once it is
connected (session.JOIN_MODULES), so its code is off the heap while the meter is polled.
Each step is a coroutine function taking the driver; `take` reads the frames only a join
brings (the answers to its requests, 4051 beacons, the boot and PANA results it waits for)
before J11Driver._take sees the rest. The B-route ID and password never leave credentials()
except to the module.
"""
from . import driver as dr
from . import j11
from .compat import const, ticks_add

# requests, notifications (docs/j11.md section 3), as in j11driver.py; a response's code is
# its request's | 0x2000
_STATUS, _UDP_OPEN, _SEND, _SCAN = const(0x0001), const(0x0005), const(0x0008), const(0x0051)
_BSTART, _AUTH, _PANA, _PANA_END = const(0x0053), const(0x0054), const(0x0056), const(0x0057)
_BEND, _INIT, _VERSION, _RESET = const(0x0058), const(0x005F), const(0x006B), const(0x00D9)
_N_SCAN, _N_BOOT, _N_PANA = const(0x4051), const(0x6019), const(0x6028)
_R_BADSUM = const(0x2FFF)   # the module got our request with a bad checksum
_R_UNKNOWN = const(0xFFFF)  # the module does not know the command

_OK = const(0x01)
_W_NONE = const(-2)       # nothing: read until the deadline (j11driver.py's `_want`)
_MISMATCH = const(0x100)  # `_ans` when the wanted response came with a bad checksum

_CMD_MS = const(5000)      # the module answers a request within milliseconds
_BOOT_MS = const(5000)     # 00D9 or the reset line -> 6019
_BSTART_MS = const(30000)  # 0053 looks for the meter on its channel
_PANA_MS = const(120000)   # PANA can take long on a weak link (docs/j11.md section 4)
_MODE_BROUTE = const(0x05)
_PORT = const(0x0E1A)
_MASK = b"\x00\x03\xFF\xF0"  # channels 4-17


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


def _err(d, code):
    """The request under way (d._name) refused: a checksum error (BUSY) or result `code`."""
    if code == dr.BUSY:
        return dr.DriverError(code, "%s: checksum error on the line" % d._name)
    return dr.DriverError(code, "%s: result %02X" % (d._name, code))


def _until(d, want, ms):
    return d.wait(ticks_add(d._clock.ticks_ms(), ms), want)


async def _ask(d, code, name, ms, *parts):
    """Write one request and return its result byte; DriverError on silence."""
    d._name = name
    d._w.write(d._b.frame(code, *parts))
    a = await d._reply(code | 0x2000, ms)
    if a == _R_BADSUM or a == _MISMATCH:
        raise _err(d, dr.BUSY)  # mangled on the line: worth another try
    if a == _R_UNKNOWN:
        raise _err(d, 0xFF)
    return a


async def _ok(d, code, name, ms, *parts):
    """_ask, and any result but 01 raised as that code."""
    r = await _ask(d, code, name, ms, *parts)
    if r != _OK:
        raise _err(d, r)


async def reset(d):
    """00D9, then the 6019 boot notification; the reset line when it does not come."""
    d._held = d._up = False
    # a 6019 already on its way (power-up) must not pass for the answer to our 00D9
    await _until(d, _W_NONE, 200)
    d._p.reset()
    d._name = "reset"
    d._w.write(d._b.frame(_RESET))
    try:
        return await d._reply(_N_BOOT, _BOOT_MS)
    except dr.DriverError:  # no 6019: the reset line, if there is one
        if d._hard is None:
            raise
    d.hard_resets += 1
    await d._hard()
    d._p.reset()
    if not await _until(d, _N_BOOT, _BOOT_MS):
        raise d._err(dr.TIMEOUT)


async def start(d):
    """Version (206B), status (2001), then the volatile initial setting: B-route mode,
    no HAN sleep, channel 4, 20 mW (docs/j11.md section 4)."""
    await _ok(d, _VERSION, "version", _CMD_MS)
    await _ok(d, _STATUS, "status", _CMD_MS)
    await _ok(d, _INIT, "initial setting", _CMD_MS, _MODE_BROUTE, 0, 4, 0)


async def credentials(d, rbid, password):
    d._pair = bytes(rbid[-8:])
    try:
        await _ok(d, _AUTH, "credentials", _CMD_MS, rbid, password)
    finally:
        d._b.wipe()


async def scan(d, dur):
    """Active scan of channels 4-17 with the pairing ID; the best answer by RSSI or None.

    J11's duration d takes 9.64 ms x 2^d per channel, SKSTACK's 9.6 ms x (2^d + 1): the
    same d gives the same time per channel, over 14 channels instead of 28 (docs/j11.md
    section 4). 2051 ends the scan, after one 4051 per channel."""
    d._best = None
    dur = min(max(dur, 1), 14)
    await _ok(d, _SCAN, "scan", 14 * 964 * (1 << dur) // 100 + _CMD_MS, dur, _MASK, 1,
              d._pair or b"00000000")
    t, d._best = d._best, None
    return t


async def resolve(d, addr):
    """fe80:: and the MAC with bit 1 of its first byte flipped (docs/j11.md section 2)."""
    m = int(addr, 16) ^ 0x0200000000000000
    return "FE80:0000:0000:0000:%04X:%04X:%04X:%04X" % (
        m >> 48, (m >> 32) & 0xFFFF, (m >> 16) & 0xFFFF, m & 0xFFFF)


async def join(d, t):
    """005F on the target's channel, 0053 (B-route start: 0E = cannot join, raised for the
    ladder to rescan), 0005 UDP port 0E1A, 0056 and its 6028 result."""
    c = t["channel"] - 25
    addr = t["addr"]
    if c & 1 or not 8 <= c <= 34 or len(addr) != 16:
        raise dr.DriverError(0x0E, "no J11 channel or address for %02X" % t["channel"])
    ip = bytearray(16)
    ip[0], ip[1] = 0xFE, 0x80
    m = int(addr, 16) ^ 0x0200000000000000
    for i in range(8):
        ip[15 - i] = (m >> (8 * i)) & 255
    if ip != d._ip:
        d._ip, d._udp = ip, j11.UdpHead(ip)
    await _ok(d, _INIT, "initial setting", _CMD_MS, _MODE_BROUTE, 0, c >> 1, 0)
    await _ok(d, _BSTART, "B-route start", _BSTART_MS)
    d._held = True
    r = await _ask(d, _UDP_OPEN, "UDP port", _CMD_MS, _PORT >> 8, _PORT & 255)
    if r != _OK and r != 0x0A:  # 0A: open already
        raise _err(d, r)
    d._early = None
    if await _ask(d, _PANA, "PANA start", _CMD_MS) != _OK:
        return dr.NO_ANSWER
    a = d._early
    if a is None:
        a = await _until(d, _N_PANA, _PANA_MS)
    d._up = a == dr.JOINED
    return a or dr.NO_ANSWER


async def end(d):
    """0057 (end PANA) and 0058 (end B-route) when the module may hold a session; their
    results do not matter: without a session there is nothing to end."""
    d._up = False
    if not d._held:
        return
    await _ask(d, _PANA_END, "PANA end", _CMD_MS)
    await _ask(d, _BEND, "B-route end", _CMD_MS)
    d._held = False


def take(d, k, p):
    """A frame only a join brings; True when it was taken here (J11Driver._take has the rest)."""
    if k != j11.FRAME:
        return False
    c, w = p.code, d._want
    if c == w and c != _SEND | 0x2000:
        if c == _N_BOOT:
            d._ans = True
        elif c == _N_PANA:
            d._ans = d._pana(p.u8(0))
        else:
            r = d._ans = p.u8(0)
            if r == _OK and c == _BSTART | 0x2000 and p.n >= 13:
                d.rssi = p.s8(12)
            elif r == _OK and c == _VERSION | 0x2000 and p.n >= 9:
                d.version = "%d.%d.%d" % (p.u8(3), p.u8(4), p.u16(5) << 16 | p.u16(7))
        return True
    if c == _N_SCAN:
        _beacon(d, p)
        return True
    if c == _N_PANA and w == _PANA | 0x2000:
        d._early = d._pana(p.u8(0))
        return True
    return False


def _beacon(d, p):
    """4051: [00][channel][count] and count x (MAC 8, PAN 2, RSSI 1); [01][channel] is
    a channel without an answer. Only during a scan (`_want` 2051)."""
    if d._want != _SCAN | 0x2000 or p.u8(0) != 0:
        return
    ch = p.u8(1)
    if not 4 <= ch <= 17:
        return
    for e in range(p.u8(2)):
        i = 3 + 11 * e
        if i + 11 > p.n:
            return
        rssi = p.s8(i + 10)
        if d._best is None or rssi > d._best["rssi"]:
            d._best = {"channel": 2 * ch + 25, "pan_id": p.u16(i + 8),
                       "addr": "%04X%04X%04X%04X" % (p.u16(i), p.u16(i + 2), p.u16(i + 4), p.u16(i + 6)),
                       "rssi": rssi}
