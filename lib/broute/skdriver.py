"""The SKSTACK IP module driver (docs/protocol.md sections 1-2): both dialects, binary and hex ERXUDP.

The interface is driver.py's, and its one waiter (`wait`, `_reply`): each exchange writes its
command and names in `_want` the answer that ends it; `wait` reads until `_ans` holds it, a FAIL
ends it, or the deadline passes. Everything else on the line goes to the ladder's `on_event`:
ERXUDP from the joined meter, EVENT 24-33 outside an exchange, and any echo once echo is off
(SKSREG SFE 0 is volatile, so an echo means the module restarted and forgot the credentials).
"""
from . import driver as dr
from . import skstack as sk
from .compat import Port, const, ticks_add

# SKSTACK event numbers (docs/protocol.md section 2, Events)
_EV_SENT = const(0x21)       # a UDP send finished: param 00 sent, 01 failed, 02 neighbour discovery first
_EV_SCANNED = const(0x22)    # the scan is over
_EV_PANA_NG = const(0x24)    # PANA failed: the join, or a re-authentication
_EV_PANA_OK = const(0x25)    # PANA succeeded: joined, or re-authenticated
_EV_PEER_END = const(0x26)   # the meter ended the session
_EV_ENDED = const(0x27)      # the session ended (SKTERM)
_EV_END_LOST = const(0x28)   # SKTERM got no answer: ended anyway
_EV_REAUTH = const(0x29)     # the session's lifetime is over: re-authenticating
_EV_LIMIT = const(0x32)      # the ARIB transmit-time limit is reached
_EV_LIMIT_OFF = const(0x33)  # and lifted

# what ends the exchange under way (`_want`)
_W_LADDER = const(-1)  # the ladder's wait(): on_event returned true (driver.wait)
_W_OK = const(1)      # OK (FAIL raises)
_W_ADDR = const(2)    # the SKLL64 address line (FAIL raises)
_W_JOIN = const(3)    # SKJOIN's OK (FAIL raises); EVENT 25/24 may come first
_W_SENT = const(4)    # SKSENDTO: OK and EVENT 21 00/01 in either order (FAIL raises)
_W_EV21 = const(5)    # SKSENDTO's OK came: EVENT 21 is still to come
_W_SCAN = const(6)    # EVENT 22
_W_PANA = const(7)    # EVENT 25 or 24 after SKJOIN's OK
_W_END = const(8)     # EVENT 26/27/28 after SKTERM
_W_NONE = const(-2)   # nothing: read until the deadline

_CMD_MS = const(5000)     # the module answers a command within milliseconds
_JOIN_MS = const(60000)   # PANA authentication takes a few seconds
_TERM_MS = const(10000)   # SKTERM -> EVENT 27, or 28 when the meter does not answer
_PORT_PANA = const(0x02CC)


# Command lines (docs/protocol.md section 2), built per dialect. Start-up commands allocate (they
# run once); the SKSENDTO header of every poll is built once per join and only its length
# digits are patched.


def sreg(reg, value, width):
    return b"SKSREG %s %0*X\r\n" % (reg, width, value) if width else b"SKSREG %s %X\r\n" % (reg, value)


def scan(dialect, duration):
    # mode 2 = active scan with the pairing-ID element; FFFFFFFF = channels 33-60
    return b"SKSCAN 2 FFFFFFFF %X%s\r\n" % (duration, sk.SIDE_ARG[dialect])


def setpwd(password):
    return b"SKSETPWD %X %s\r\n" % (len(password), password)


def setrbid(rbid):
    return b"SKSETRBID %s\r\n" % rbid


def mask(line):
    """A command line safe for the log: the password and the B-route ID become asterisks."""
    for name in (b"SKSETPWD ", b"SKSETRBID "):
        if line[:len(name)] == name:
            return str(name, "ascii") + "*" * 8
    return str(bytes(line).rstrip(), "ascii")


class SendTo:
    """`SKSENDTO 1 <ip> 0E1A 1 [0 ]LLLL ` for one destination; raw data follows, no CRLF."""

    def __init__(self, dialect, ip):
        self.buf = bytearray(b"SKSENDTO 1 %s 0E1A 1%s 0000 " % (ip, sk.SIDE_ARG[dialect]))
        self._at = len(self.buf) - 5

    def header(self, n):
        b, at = self.buf, self._at
        for i in range(4):
            d = (n >> (4 * i)) & 15
            b[at + 3 - i] = d + 48 if d < 10 else d + 55  # an upper-case hex digit
        return self.buf


class SkDriver:
    _reply = dr.reply  # drain, then wait for an answer (driver.py)
    wait = dr.wait

    def __init__(self, reader, writer, clock, on_event):
        self._w = writer
        self._clock = clock
        self._port = Port(reader, writer, clock)
        self.on_event = on_event
        self._p = sk.Parser()
        self.version = self.rssi = self._name = self._ans = self._early = None
        self.eof = 0
        self._held = False   # the module may hold a PANA session (SKJOIN is refused then)
        self._want = _W_NONE  # _early: the answer event that came before the command's OK
        self.dialect = None
        self._quiet = False  # echo is off: an echo now means the module restarted
        self._ip = self._tx = self._pd = self._best = None
        self._pana = 0       # PANA packets from the meter during SKJOIN

    # --- the interface (driver.py) --------------------------------------------------------
    async def reset(self):
        self._p.reset()
        self._held = self._quiet = False
        self._w.write(b"\r\n")  # ends a half-typed line; the FAIL that may follow is ignored
        await self.wait(ticks_add(self._clock.ticks_ms(), 100), _W_NONE)
        await self._ask(b"SKRESET\r\n")

    async def start(self):
        """Echo off (volatile register, not flash), then SKVER and SKINFO (docs/protocol.md section 1)."""
        try:
            await self._ask(sreg(b"SFE", 0, 0))
            self._quiet = True
        except dr.DriverError as e:
            if e.code == dr.TIMEOUT:
                raise
        await self._ask(b"SKVER\r\n")
        await self._ask(b"SKINFO\r\n")

    async def credentials(self, rbid, password):
        await self._ask(setpwd(password), _W_OK, "SKSETPWD")
        await self._ask(setrbid(rbid), _W_OK, "SKSETRBID")

    async def scan(self, d):
        """The best complete EPANDESC by LQI of one active scan of duration `d`, or None."""
        self._pd = self._best = None
        await self._ask(scan(self._p.dialect, d))
        # 28 channels x 9.6 ms x (2^D + 1) (docs/protocol.md section 2, Scan)
        await self.wait(ticks_add(self._clock.ticks_ms(), 28 * 96 * ((1 << d) + 1) // 10 + _CMD_MS), _W_SCAN)
        t = self._best
        self._pd = self._best = None
        if t:  # RSSI estimated from the LQI (docs/protocol.md section 2, Scan)
            t["rssi"] = self.rssi = int(round(0.275 * t.pop("lqi") - 104.27))
        return t

    async def resolve(self, addr):
        """SKLL64 answers with the address line alone, without OK."""
        return str(await self._ask(b"SKLL64 %s\r\n" % addr.encode(), _W_ADDR, "SKLL64"), "ascii")

    async def join(self, t):
        """Channel and PAN ID, then SKJOIN: EVENT 24 after the meter's PANA answered is a
        refusal; EVENT 24 with no PANA from the meter (the module gave up resending), or
        neither event, is no answer."""
        await self._ask(sreg(b"S2", t["channel"], 2))
        await self._ask(sreg(b"S3", t["pan_id"], 4))
        if not t.get("ip"):
            t["ip"] = await self.resolve(t["addr"])
        ip = t["ip"].encode()
        if ip != self._ip:
            self._ip = ip
            self._tx = SendTo(self._p.dialect, ip)
        self._pana, self._early = 0, None
        await self._ask(b"SKJOIN %s\r\n" % ip, _W_JOIN, "SKJOIN")
        a = self._early
        if a is None:
            a = await self.wait(ticks_add(self._clock.ticks_ms(), _JOIN_MS), _W_PANA)
        self._held = a == dr.JOINED
        return a or dr.NO_ANSWER

    async def end(self):
        """SKTERM the session the module may hold: SKJOIN gets FAIL ER10 while one is up."""
        if not self._held:
            return
        try:
            await self._ask(b"SKTERM\r\n")
        except dr.DriverError as e:
            if e.code != dr.BUSY:
                raise
            self._held = False  # ER10: no session to end
            return
        await self.wait(ticks_add(self._clock.ticks_ms(), _TERM_MS), _W_END)
        self._held = False

    def send(self, data):
        """SKSENDTO to the joined meter, the raw bytes right after the length, no CRLF
        (docs/protocol.md section 2); False when EVENT 21 says the radio failed. Not a
        coroutine itself: the waiter's is awaited, one coroutine less per poll."""
        self._early, self._name = None, "SKSENDTO"
        w = self._w
        w.write(self._tx.header(len(data)))
        w.write(data)
        return self._reply(_W_SENT, _CMD_MS)

    # --- exchanges ----------------------------------------------------------------------
    def _ask(self, line, want=_W_OK, name=None):
        """Write one command line; awaited, its answer (DriverError on FAIL or silence)."""
        self._name = name or line
        self._w.write(line)
        return self._reply(want, _CMD_MS)

    def _err(self, code):
        w = self._name
        if not isinstance(w, str):
            w = mask(w)  # never the password or the ID in a message
        return dr.DriverError(code, "%s: no answer" % w if code == dr.TIMEOUT else "%s: FAIL ER%02d" % (w, code))

    # --- what the module says -------------------------------------------------------------
    def _take(self, k, p):
        """One line from the module: answers go to `_ans`, the rest to on_event, whose
        answer is returned."""
        w = self._want
        d = self._pd
        if d and (k == sk.EPANDESC or k == sk.EVENT and p.code == _EV_SCANNED):
            # the EPANDESC before is complete: keep the best of this scan
            if len(d) == 4 and d["channel"] >= 0 and d["pan_id"] >= 0 and len(d["addr"]) == 16:
                if self._best is None or d["lqi"] > self._best["lqi"]:
                    self._best = d
        if k != sk.EVENT:  # the lines first, then the events
            if k == sk.ERXUDP:
                # only the meter, only ECHONET Lite; PANA (02CC) during SKJOIN says the meter answers
                if self._ip is None or not p.tok_eq(1, self._ip):
                    return
                port = p.tok_hex(3)
                if port == _PORT_PANA:
                    self._pana += 1
                elif port == sk.PORT_ECHONET and p.tok_hex(4) == sk.PORT_ECHONET:
                    return self.on_event(dr.FRAME, p.payload)
            elif k == sk.OK:
                if w == _W_OK or w == _W_JOIN:
                    self._ans = True
                elif w == _W_SENT:
                    if self._early is None:
                        self._want = _W_EV21
                    else:
                        self._ans = self._early
            elif k == sk.FAIL:
                if _W_OK <= w <= _W_EV21:
                    raise self._err(p.code)
            elif k == sk.ADDR:
                if w == _W_ADDR:
                    self._ans = p.token(0)
            elif k == sk.EVER:
                self.version = str(p.token(1), "ascii")
            elif k == sk.EINFO:
                p.dialect = sk.dialect_of_einfo(p)
                self.dialect = sk.DIALECT_NAMES[p.dialect]
            elif k == sk.ECHO:
                if self._quiet:
                    return self.on_event(dr.RESTARTED, None)
            elif k == sk.EPANDESC:
                self._pd = {}
            elif k == sk.FIELD and d is not None:
                f = p.fkey
                if f == sk.F_CHANNEL:
                    d["channel"] = p.value
                elif f == sk.F_PAN:
                    d["pan_id"] = p.value
                elif f == sk.F_ADDR:
                    d["addr"] = p.text().strip().upper()
                elif f == sk.F_LQI:
                    d["lqi"] = p.value
            return
        c = p.code
        if c == _EV_SENT:
            if p.param == 0 or p.param == 1:  # sent, or not
                if w == _W_EV21:
                    self._ans = p.param == 0
                elif w == _W_SENT:
                    self._early = p.param == 0
        elif c == _EV_SCANNED:
            if w == _W_SCAN:
                self._ans = True
        elif c == _EV_PANA_OK or c == _EV_PANA_NG:
            if w == _W_PANA or w == _W_JOIN:
                a = dr.JOINED if c == _EV_PANA_OK else dr.REFUSED if self._pana else dr.NO_ANSWER
                if w == _W_PANA:
                    self._ans = a
                else:
                    self._early = a
            elif c == _EV_PANA_OK:
                return self.on_event(dr.REAUTHED, None)
            else:
                self._held = False
                return self.on_event(dr.LOST, "re-authentication failed")
        elif c == _EV_PEER_END or c == _EV_ENDED or c == _EV_END_LOST:
            self._held = False
            if w == _W_END:
                self._ans = True
            else:
                return self.on_event(dr.LOST, "session ended (EVENT %X)" % c)
        elif c == _EV_REAUTH:
            return self.on_event(dr.REAUTH, None)
        elif c == _EV_LIMIT:
            return self.on_event(dr.RATE, None)
        elif c == _EV_LIMIT_OFF:
            return self.on_event(dr.RATE_OFF, None)
