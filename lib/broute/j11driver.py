"""The J11 module driver (ROHM BP35C1-J11 on the Wi-SUN HAT-C1; docs/j11.md): driver.py's interface.

One request in flight (driver.py's one waiter, `wait` and `_reply`): each exchange writes one
request and names in `_want` the response code (request | 0x2000) or notification that ends it;
`wait` reads until `_ans` holds it or the deadline passes, so a second request is never written
before the first's answer or its timeout. Everything else goes to the ladder's `on_event`: 6018
UDP from the joined meter on port 0E1A, 601A link lost (03 MAC, 04 PANA), an unprompted 6019
(the module restarted and forgot its settings) and an unprompted 6028 (the result of the
module's own re-authentication).

What J11 does not report (docs/j11.md section 5): the start of a re-authentication (only its
6028 result comes, so REAUTH is never raised) and the ARIB transmit-time limit (no notification
is known; a send refused for it is a 2008 whose result is not "sent", so send() returns False
and the ladder backs off). RATE and RATE_OFF are therefore never raised. Nothing here writes
the module's flash: 005F's setting is volatile. The B-route ID and password never leave
credentials() except to the module.
"""
from . import driver as dr
from . import j11
from .compat import Port, const, ticks_add

# requests, notifications (docs/j11.md section 3); a response's code is its request's | 0x2000
_STATUS, _UDP_OPEN, _SEND, _SCAN = const(0x0001), const(0x0005), const(0x0008), const(0x0051)
_BSTART, _AUTH, _PANA, _PANA_END = const(0x0053), const(0x0054), const(0x0056), const(0x0057)
_BEND, _INIT, _VERSION, _RESET = const(0x0058), const(0x005F), const(0x006B), const(0x00D9)
_N_SCAN, _N_UDP, _N_BOOT = const(0x4051), const(0x6018), const(0x6019)
_N_LINK, _N_PANA = const(0x601A), const(0x6028)
_R_BADSUM = const(0x2FFF)   # the module got our request with a bad checksum
_R_UNKNOWN = const(0xFFFF)  # the module does not know the command

_OK = const(0x01)
_W_LADDER = const(-1)  # the ladder's wait() (driver.wait); other wants are codes
_W_NONE = const(-2)    # nothing: read until the deadline
_MISMATCH = const(0x100)  # `_ans` when the wanted response came with a bad checksum

_CMD_MS = const(5000)      # the module answers a request within milliseconds
_BOOT_MS = const(5000)     # 00D9 or the reset line -> 6019
_BSTART_MS = const(30000)  # 0053 looks for the meter on its channel
_PANA_MS = const(120000)   # PANA can take long on a weak link (docs/j11.md section 4)
_MODE_BROUTE = const(0x05)
_PORT = const(0x0E1A)
_MASK = b"\x00\x03\xFF\xF0"  # channels 4-17


class J11Driver:
    _reply = dr.reply  # drain, then wait for an answer (driver.py)
    wait = dr.wait

    def __init__(self, reader, writer, clock, on_event, hard_reset=None):
        self._w = writer
        self._clock = clock
        self._port = Port(reader, writer, clock)
        self.on_event = on_event
        self._p = j11.Parser()
        self.version = self.rssi = self._name = self._ans = self._early = None
        self.eof = 0
        self._held = False     # B-route operation may be running (0058 ends it)
        self._want = _W_NONE
        self._hard = hard_reset
        self._b = j11.Builder(64)
        self.dialect = "j11"
        self._best = None
        self.bad = self.hard_resets = 0
        self._pair = None      # the last 8 characters of the B-route ID: the scan's pairing ID
        self._ip = None        # the joined meter's IPv6 address (16 bytes)
        self._udp = None       # its j11.UdpHead
        self._up = False       # joined: a 601A 03/04 or a failed 6028 now means LOST

    # --- the interface (driver.py) --------------------------------------------------------
    async def reset(self):
        """00D9, then the 6019 boot notification; the reset line when it does not come."""
        self._held = self._up = False
        # a 6019 already on its way (power-up) must not pass for the answer to our 00D9
        await self.wait(ticks_add(self._clock.ticks_ms(), 200), _W_NONE)
        self._p.reset()
        self._name = "reset"
        self._w.write(self._b.frame(_RESET))
        try:
            return await self._reply(_N_BOOT, _BOOT_MS)
        except dr.DriverError:  # no 6019: the reset line, if there is one
            if self._hard is None:
                raise
        self.hard_resets += 1
        await self._hard()
        self._p.reset()
        if not await self._until(_N_BOOT, _BOOT_MS):
            raise self._err(dr.TIMEOUT)

    async def start(self):
        """Version (206B), status (2001), then the volatile initial setting: B-route mode,
        no HAN sleep, channel 4, 20 mW (docs/j11.md section 4)."""
        await self._ok(_VERSION, "version", _CMD_MS)
        await self._ok(_STATUS, "status", _CMD_MS)
        await self._ok(_INIT, "initial setting", _CMD_MS, _MODE_BROUTE, 0, 4, 0)

    async def credentials(self, rbid, password):
        self._pair = bytes(rbid[-8:])
        try:
            await self._ok(_AUTH, "credentials", _CMD_MS, rbid, password)
        finally:
            self._b.wipe()

    async def scan(self, d):
        """Active scan of channels 4-17 with the pairing ID; the best answer by RSSI or None.

        J11's duration d takes 9.64 ms x 2^d per channel, SKSTACK's 9.6 ms x (2^d + 1): the
        same d gives the same time per channel, over 14 channels instead of 28 (docs/j11.md
        section 4). 2051 ends the scan, after one 4051 per channel."""
        self._best = None
        d = min(max(d, 1), 14)
        await self._ok(_SCAN, "scan", 14 * 964 * (1 << d) // 100 + _CMD_MS, d, _MASK, 1,
                       self._pair or b"00000000")
        t, self._best = self._best, None
        return t

    async def resolve(self, addr):
        """fe80:: and the MAC with bit 1 of its first byte flipped (docs/j11.md section 2)."""
        m = int(addr, 16) ^ 0x0200000000000000
        return "FE80:0000:0000:0000:%04X:%04X:%04X:%04X" % (
            m >> 48, (m >> 32) & 0xFFFF, (m >> 16) & 0xFFFF, m & 0xFFFF)

    async def join(self, t):
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
        if ip != self._ip:
            self._ip, self._udp = ip, j11.UdpHead(ip)
        await self._ok(_INIT, "initial setting", _CMD_MS, _MODE_BROUTE, 0, c >> 1, 0)
        await self._ok(_BSTART, "B-route start", _BSTART_MS)
        self._held = True
        r = await self._ask(_UDP_OPEN, "UDP port", _CMD_MS, _PORT >> 8, _PORT & 255)
        if r != _OK and r != 0x0A:  # 0A: open already
            raise self._err(r)
        self._early = None
        if await self._ask(_PANA, "PANA start", _CMD_MS) != _OK:
            return dr.NO_ANSWER
        a = self._early
        if a is None:
            a = await self._until(_N_PANA, _PANA_MS)
        self._up = a == dr.JOINED
        return a or dr.NO_ANSWER

    async def end(self):
        """0057 (end PANA) and 0058 (end B-route) when the module may hold a session; their
        results do not matter: without a session there is nothing to end."""
        self._up = False
        if not self._held:
            return
        await self._ask(_PANA_END, "PANA end", _CMD_MS)
        await self._ask(_BEND, "B-route end", _CMD_MS)
        self._held = False

    def send(self, data):
        """0008 to the joined meter: the header built at join, then the data as it is; False
        unless 2008 says result 01 and transmit result 00 (sent): a 2FFF or a mangled 2008 is
        not known to be sent. Not a coroutine itself: the waiter's is awaited, one coroutine
        less per poll."""
        if self._udp is None:
            raise dr.DriverError(dr.BUSY, "UDP send: not joined")
        self._name = "UDP send"
        w = self._w
        w.write(self._udp.head(data))
        w.write(data)
        return self._reply(_SEND | 0x2000, _CMD_MS)

    # --- exchanges ----------------------------------------------------------------------
    async def _ok(self, code, name, ms, *parts):
        """_ask, and any result but 01 raised as that code."""
        r = await self._ask(code, name, ms, *parts)
        if r != _OK:
            raise self._err(r)

    async def _ask(self, code, name, ms, *parts):
        """Write one request and return its result byte; DriverError on silence."""
        self._name = name
        self._w.write(self._b.frame(code, *parts))
        a = await self._reply(code | 0x2000, ms)
        if a == _R_BADSUM or a == _MISMATCH:
            raise self._err(dr.BUSY)  # mangled on the line: worth another try
        if a == _R_UNKNOWN:
            raise self._err(0xFF)
        return a

    async def _until(self, want, ms):
        return await self.wait(ticks_add(self._clock.ticks_ms(), ms), want)

    def _err(self, code):
        n = self._name
        if code == dr.TIMEOUT:
            return dr.DriverError(code, "%s: no answer" % n)
        if code == dr.BUSY:
            return dr.DriverError(code, "%s: checksum error on the line" % n)
        return dr.DriverError(code, "%s: result %02X" % (n, code))

    # --- what the module says -------------------------------------------------------------
    def _take(self, k, p):
        """One frame: the answer the exchange waits for goes to `_ans`, the rest to on_event,
        whose answer is returned."""
        c, w = p.code, self._want
        if k != j11.FRAME:  # a checksum error: dropped, but an exchange waiting for it ends
            self.bad += 1
            if p.why == j11.BAD_DATA and c == w and c >> 12 == 2:
                self._ans = _MISMATCH if c != _SEND | 0x2000 else False
            return
        if c == _N_UDP:
            # only the joined meter, only ECHONET Lite (port 0E1A both ways)
            ip, n = self._ip, p.u16(25)
            if ip is None or n < 0 or 27 + n > p.n or p.u16(16) != _PORT or p.u16(18) != _PORT:
                return
            b, a = p.buf, p.at
            for i in range(16):
                if b[a + i] != ip[i]:
                    return
            self.rssi = p.s8(24)
            return self.on_event(dr.FRAME, p.view(27, n))
        if c == w:
            if c == _N_BOOT:
                self._ans = True
            elif c == _N_PANA:
                self._ans = self._pana(p.u8(0))
            else:
                self._response(c, p)
            return
        if w >> 12 == 2 and (c == _R_BADSUM or c == _R_UNKNOWN):
            self._ans = c if w != _SEND | 0x2000 else False  # send(): not known to be sent
        elif c == _N_SCAN:
            self._beacon(p)
        elif c == _N_PANA:
            a = self._pana(p.u8(0))
            if w == _PANA | 0x2000:
                self._early = a
            elif self._up:  # after the module's own re-authentication
                if a == dr.JOINED:
                    return self.on_event(dr.REAUTHED, None)
                return self._lost("re-authentication failed (6028 %02X)" % p.u8(0))
        elif c == _N_LINK:
            s = p.u8(0)
            if p.n >= 10:
                self.rssi = p.s8(9)
            if (s == 3 or s == 4) and self._up:
                return self._lost("MAC link lost (601A 03)" if s == 3 else "PANA session lost (601A 04)")
        elif c == _N_BOOT:  # not after our reset: the module restarted by itself
            self._held = self._up = False
            return self.on_event(dr.RESTARTED, None)

    def _lost(self, why):
        self._up = False
        return self.on_event(dr.LOST, why)

    def _pana(self, r):
        return dr.JOINED if r == 1 else dr.REFUSED if r == 2 else dr.NO_ANSWER

    def _response(self, c, p):
        r = self._ans = p.u8(0)
        if c == _SEND | 0x2000:  # send() answers whether the radio sent it
            self._ans = r == _OK and p.u8(1) == 0
        elif r != _OK:
            return
        elif c == _BSTART | 0x2000:
            if p.n >= 13:
                self.rssi = p.s8(12)
        elif c == _VERSION | 0x2000:
            if p.n >= 9:
                self.version = "%d.%d.%d" % (p.u8(3), p.u8(4), p.u16(5) << 16 | p.u16(7))

    def _beacon(self, p):
        """4051: [00][channel][count] and count x (MAC 8, PAN 2, RSSI 1); [01][channel] is
        a channel without an answer. Only during a scan (`_want` 2051)."""
        if self._want != _SCAN | 0x2000 or p.u8(0) != 0:
            return
        ch = p.u8(1)
        if not 4 <= ch <= 17:
            return
        for e in range(p.u8(2)):
            i = 3 + 11 * e
            if i + 11 > p.n:
                return
            rssi = p.s8(i + 10)
            if self._best is None or rssi > self._best["rssi"]:
                self._best = {"channel": 2 * ch + 25, "pan_id": p.u16(i + 8),
                              "addr": "%04X%04X%04X%04X" % (p.u16(i), p.u16(i + 2), p.u16(i + 4), p.u16(i + 6)),
                              "rssi": rssi}
