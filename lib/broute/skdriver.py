"""The SKSTACK IP module driver (docs/protocol.md sections 1-2): both dialects, binary and hex ERXUDP.

The interface is driver.py's, and its one waiter (`wait`, `_reply`): each exchange writes its
command and names in `_want` the answer that ends it; `wait` reads until `_ans` holds it, a FAIL
ends it, or the deadline passes. Everything else on the line goes to the ladder's `on_event`:
ERXUDP from the joined meter, EVENT 24-33 outside an exchange, and any echo once echo is off
(SKSREG SFE 0 is volatile, so an echo means the module restarted and forgot the credentials).
Here is what a connected session uses; the join steps are loaded by `steps()` one ladder step
at a time: skstart.py (reset, start, credentials), skscan.py (scan, resolve), skjoin.py (join,
end), each with skask.py (a command and its answer).
"""
from . import driver as dr
from . import skstack as sk
from .compat import Port, const

# SKSTACK event numbers (docs/protocol.md section 2, Events)
_EV_SENT = const(0x21)       # a UDP send finished: param 00 sent, 01 failed, 02 neighbour discovery first
_EV_PANA_NG = const(0x24)    # PANA failed: the join, or a re-authentication
_EV_PANA_OK = const(0x25)    # PANA succeeded: joined, or re-authenticated
_EV_PEER_END = const(0x26)   # the meter ended the session
_EV_ENDED = const(0x27)      # the session ended (SKTERM)
_EV_END_LOST = const(0x28)   # SKTERM got no answer: ended anyway
_EV_REAUTH = const(0x29)     # the session's lifetime is over: re-authenticating
_EV_LIMIT = const(0x32)      # the ARIB transmit-time limit is reached
_EV_LIMIT_OFF = const(0x33)  # and lifted

# what ends the exchange under way (`_want`); skask.py, skscan.py, skjoin.py wait for the join's
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
_PORT_PANA = const(0x02CC)


def header(buf, n):
    """SKSENDTO's line (skjoin.sendto, built once per join) with its length digits set to `n`
    (upper-case hex); the raw data follows it, no CRLF."""
    at = len(buf) - 5  # "LLLL " ends the line
    for i in range(4):
        d = (n >> (4 * i)) & 15
        buf[at + 3 - i] = d + 48 if d < 10 else d + 55
    return buf


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
        self._jt = None      # the join step's take while (re)joining (steps())

    # --- the interface (driver.py) --------------------------------------------------------
    def steps(self, step=None):
        """The join step `step`'s module (poll.py's START, FIND, JOIN: skstart.py, skscan.py,
        skjoin.py), loaded for that step; steps() lets it go (session.drop_join drops it)."""
        if step is None:
            self._jt = None
            return None
        if step == 0:
            from . import skstart as m
        elif step == 1:
            from . import skscan as m
        else:
            from . import skjoin as m
        self._jt = m.take
        return m

    def send(self, data):
        """SKSENDTO to the joined meter, the raw bytes right after the length, no CRLF
        (docs/protocol.md section 2); False when EVENT 21 says the radio failed. Not a
        coroutine itself: the waiter's is awaited, one coroutine less per poll."""
        self._early, self._name = None, "SKSENDTO"
        w = self._w
        w.write(header(self._tx, len(data)))
        w.write(data)
        return self._reply(_W_SENT, _CMD_MS)

    # --- exchanges ----------------------------------------------------------------------
    def _err(self, code):
        w = self._name  # a name, or a command line masked (skask.mask)
        return dr.DriverError(code, "%s: no answer" % w if code == dr.TIMEOUT else "%s: FAIL ER%02d" % (w, code))

    # --- what the module says -------------------------------------------------------------
    def _take(self, k, p):
        """One line from the module: answers go to `_ans`, the rest to on_event, whose
        answer is returned. While joining, the step's take (steps()) sees each line first."""
        j = self._jt
        if j is not None and j(self, k, p):
            return
        w = self._want
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
                if w == _W_SENT:
                    if self._early is None:
                        self._want = _W_EV21
                    else:
                        self._ans = self._early
            elif k == sk.FAIL:
                if _W_OK <= w <= _W_EV21:
                    raise self._err(p.code)
            elif k == sk.ECHO:
                if self._quiet:
                    return self.on_event(dr.RESTARTED, None)
            return
        c = p.code
        if c == _EV_SENT:
            if p.param == 0 or p.param == 1:  # sent, or not
                if w == _W_EV21:
                    self._ans = p.param == 0
                elif w == _W_SENT:
                    self._early = p.param == 0
        elif c == _EV_PANA_OK:
            return self.on_event(dr.REAUTHED, None)
        elif c == _EV_PANA_NG:
            self._held = False
            return self.on_event(dr.LOST, "re-authentication failed")
        elif c == _EV_PEER_END or c == _EV_ENDED or c == _EV_END_LOST:
            self._held = False
            return self.on_event(dr.LOST, "session ended (EVENT %X)" % c)
        elif c == _EV_REAUTH:
            return self.on_event(dr.REAUTH, None)
        elif c == _EV_LIMIT:
            return self.on_event(dr.RATE, None)
        elif c == _EV_LIMIT_OFF:
            return self.on_event(dr.RATE_OFF, None)
