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
the module's flash: 005F's setting is volatile. Here is what a connected session uses; the
join steps are loaded by `steps()` one ladder step at a time: j11start.py (reset, start,
credentials), j11scan.py (scan, resolve), j11join.py (join, end), each with j11ask.py.
"""
from . import driver as dr
from . import j11
from .compat import Port, const

# the request and notifications a connected session sees (docs/j11.md section 3; j11ask.py
# and the join steps have the join's); a response's code is its request's | 0x2000
_SEND = const(0x0008)
_N_UDP, _N_BOOT, _N_LINK, _N_PANA = const(0x6018), const(0x6019), const(0x601A), const(0x6028)
_R_BADSUM = const(0x2FFF)   # the module got our request with a bad checksum
_R_UNKNOWN = const(0xFFFF)  # the module does not know the command

_OK = const(0x01)
_W_LADDER = const(-1)  # the ladder's wait() (driver.wait); other wants are codes
_W_NONE = const(-2)    # nothing: read until the deadline
_MISMATCH = const(0x100)  # `_ans` when the wanted response came with a bad checksum

_CMD_MS = const(5000)      # the module answers a request within milliseconds
_PORT = const(0x0E1A)


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
        self._b = None         # the join's request builder (j11ask.Builder) while joining
        self.dialect = "j11"
        self._best = None
        self.bad = self.hard_resets = 0
        self._pair = None      # the last 8 characters of the B-route ID: the scan's pairing ID
        self._ip = None        # the joined meter's IPv6 address (16 bytes)
        self._udp = None       # its j11.UdpHead
        self._up = False       # joined: a 601A 03/04 or a failed 6028 now means LOST
        self._jt = None        # the join step's take while (re)joining (steps())

    # --- the interface (driver.py) --------------------------------------------------------
    def steps(self, step=None):
        """The join step `step`'s module (poll.py's START, FIND, JOIN: j11start.py, j11scan.py,
        j11join.py), loaded for that step with the request builder; steps() lets them go
        (session.drop_join drops the modules)."""
        if step is None:
            self._jt = self._b = None
            return None
        if step == 0:
            from . import j11start as m
        elif step == 1:
            from . import j11scan as m
        else:
            from . import j11join as m
        from .j11ask import Builder
        self._jt = m.take
        self._b = Builder()
        return m

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
    def _err(self, code):
        """The waiter's timeout (driver.py); j11ask.py words the join's refusals."""
        return dr.DriverError(code, "%s: no answer" % self._name)

    # --- what the module says -------------------------------------------------------------
    def _take(self, k, p):
        """One frame: the answer the exchange waits for goes to `_ans`, the rest to on_event,
        whose answer is returned. While joining, the step's take (steps()) sees each frame first."""
        j = self._jt
        if j is not None and j(self, k, p):
            return
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
        if c == w:  # 2008 (the step's take has the join's answers): whether the radio sent it
            self._ans = p.u8(0) == _OK and p.u8(1) == 0
            return
        if w >> 12 == 2 and (c == _R_BADSUM or c == _R_UNKNOWN):
            self._ans = c if w != _SEND | 0x2000 else False  # send(): not known to be sent
        elif c == _N_PANA:
            if self._up:  # after the module's own re-authentication
                if self._pana(p.u8(0)) == dr.JOINED:
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
