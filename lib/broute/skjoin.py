"""SKSTACK IP's join steps (docs/protocol.md sections 1-2): reset, start, credentials, scan, resolve, join, end.

SkDriver (skdriver.py) keeps only what the connected session uses (SKSENDTO, the waiter, the
events of a running session). This module is what (re)joining adds: loaded through the
driver's `steps()` when the ladder starts a (re)join and dropped once it is connected
(session.JOIN_MODULES), so its code is off the heap while the meter is polled. Each step is a
coroutine function taking the driver; `take` reads the lines only a join brings (EVER,
EINFO, EPANDESC and its fields, the SKLL64 address: `kind` and `field` read what the parser
leaves unread, EVENT 22, the join's and SKTERM's events) before SkDriver._take sees the rest.
"""
from . import driver as dr
from . import skstack as sk
from .compat import const, ticks_add

# SKSTACK event numbers (docs/protocol.md section 2, Events), as in skdriver.py
_EV_SCANNED = const(0x22)    # the scan is over
_EV_PANA_NG = const(0x24)    # PANA failed: the join, or a re-authentication
_EV_PANA_OK = const(0x25)    # PANA succeeded: joined, or re-authenticated
_EV_PEER_END = const(0x26)
_EV_END_LOST = const(0x28)

# what ends the exchange under way (SkDriver._want), numbered as in skdriver.py
_W_OK = const(1)      # OK (FAIL raises)
_W_ADDR = const(2)    # the SKLL64 address line (FAIL raises)
_W_JOIN = const(3)    # SKJOIN's OK (FAIL raises); EVENT 25/24 may come first
_W_SCAN = const(6)    # EVENT 22
_W_PANA = const(7)    # EVENT 25 or 24 after SKJOIN's OK
_W_END = const(8)     # EVENT 26/27/28 after SKTERM
_W_NONE = const(-2)   # nothing: read until the deadline

# The lines only a join brings, which skstack.Parser leaves as OTHER (kind())
EVER = const(5)
EINFO = const(6)
EPANDESC = const(8)
ADDR = const(11)      # the IPv6 address line SKLL64 answers with

_CMD_MS = const(5000)     # the module answers a command within milliseconds
_JOIN_MS = const(60000)   # PANA authentication takes a few seconds
_TERM_MS = const(10000)   # SKTERM -> EVENT 27, or 28 when the meter does not answer


# Command lines (docs/protocol.md section 2), built per dialect; they run once per join, so
# they allocate.
def sreg(reg, value, width):
    return b"SKSREG %s %0*X\r\n" % (reg, width, value) if width else b"SKSREG %s %X\r\n" % (reg, value)


def scan_line(dialect, duration):
    # mode 2 = active scan with the pairing-ID element; FFFFFFFF = channels 33-60
    return b"SKSCAN 2 FFFFFFFF %X%s\r\n" % (duration, sk.SIDE_ARG[dialect])


def setpwd(password):
    return b"SKSETPWD %X %s\r\n" % (len(password), password)


def setrbid(rbid):
    return b"SKSETRBID %s\r\n" % rbid


def sendto(dialect, ip):
    """`SKSENDTO 1 <ip> 0E1A 1 [0 ]LLLL ` for the joined meter: skdriver.header sets the length."""
    return bytearray(b"SKSENDTO 1 %s 0E1A 1%s 0000 " % (ip, sk.SIDE_ARG[dialect]))


def mask(line):
    """A command line safe for the log: the password and the B-route ID become asterisks."""
    for name in (b"SKSETPWD ", b"SKSETRBID "):
        if line[:len(name)] == name:
            return str(name, "ascii") + "*" * 8
    return str(bytes(line).rstrip(), "ascii")


def kind(p):
    """What parser `p`'s OTHER line is: EVER, EINFO, EPANDESC, ADDR, or still OTHER."""
    s, t = p._ls, p._le
    if p._word(s, t, b"EVER"):
        return EVER
    if p._word(s, t, b"EINFO"):
        return EINFO
    if p._word(s, t, b"EPANDESC"):
        return EPANDESC
    if t - s == 39 and p.buf[s + 4] == 58:  # "FE80:0000:...": the SKLL64 answer
        return ADDR
    return sk.OTHER


def _token(p, i):
    """Token i of parser `p`'s line as bytes, or None (allocates: the join only)."""
    return bytes(p._mv[p._ts:p._te]) if p._tok(i) else None


def field(p):
    """(name, value) of parser `p`'s FIELD line "  Name:Value" (EPANDESC's): the name as bytes
    (allocated: the scan only), the value as a hex number (-1 when it is none); p.text() is
    then the value's text."""
    b, s, t = p.buf, p._ls, p._le
    while b[s] == 32:
        s += 1
    c = b.find(b":", s, t)
    p._ls = c + 1
    return bytes(b[s:c]), p._hex(c + 1, t)


def dialect_of_einfo(p):
    """From parser `p`'s EINFO line: X is the 16-bit address FFFE (single) or SIDE 0 (dual)."""
    return sk.SINGLE if p._tok(5) and p._te - p._ts == 4 else sk.DUAL


def _ask(d, line, want=_W_OK, name=None):
    """Write one command line; awaited, its answer (DriverError on FAIL or silence). The name
    in an error is `name` or the line masked: never the password or the ID in a message."""
    d._name = name or mask(line)
    d._w.write(line)
    return d._reply(want, _CMD_MS)


def _until(d, ms, want):
    return d.wait(ticks_add(d._clock.ticks_ms(), ms), want)


async def reset(d):
    d._p.reset()
    d._held = d._quiet = False
    d._w.write(b"\r\n")  # ends a half-typed line; the FAIL that may follow is ignored
    await _until(d, 100, _W_NONE)
    await _ask(d, b"SKRESET\r\n")


async def start(d):
    """Echo off (volatile register, not flash), then SKVER and SKINFO (docs/protocol.md section 1)."""
    try:
        await _ask(d, sreg(b"SFE", 0, 0))
        d._quiet = True
    except dr.DriverError as e:
        if e.code == dr.TIMEOUT:
            raise
    await _ask(d, b"SKVER\r\n")
    await _ask(d, b"SKINFO\r\n")


async def credentials(d, rbid, password):
    await _ask(d, setpwd(password), _W_OK, "SKSETPWD")
    await _ask(d, setrbid(rbid), _W_OK, "SKSETRBID")


async def scan(d, dur):
    """The best complete EPANDESC by LQI of one active scan of duration `dur`, or None."""
    d._pd = d._best = None
    await _ask(d, scan_line(d._p.dialect, dur))
    # 28 channels x 9.6 ms x (2^D + 1) (docs/protocol.md section 2, Scan)
    await _until(d, 28 * 96 * ((1 << dur) + 1) // 10 + _CMD_MS, _W_SCAN)
    t = d._best
    d._pd = d._best = None
    if t:  # RSSI estimated from the LQI (docs/protocol.md section 2, Scan)
        t["rssi"] = d.rssi = int(round(0.275 * t.pop("lqi") - 104.27))
    return t


async def resolve(d, addr):
    """SKLL64 answers with the address line alone, without OK."""
    return str(await _ask(d, b"SKLL64 %s\r\n" % addr.encode(), _W_ADDR, "SKLL64"), "ascii")


async def join(d, t):
    """Channel and PAN ID, then SKJOIN: EVENT 24 after the meter's PANA answered is a
    refusal; EVENT 24 with no PANA from the meter (the module gave up resending), or
    neither event, is no answer."""
    await _ask(d, sreg(b"S2", t["channel"], 2))
    await _ask(d, sreg(b"S3", t["pan_id"], 4))
    if not t.get("ip"):
        t["ip"] = await resolve(d, t["addr"])
    ip = t["ip"].encode()
    if ip != d._ip:
        d._ip = ip
        d._tx = sendto(d._p.dialect, ip)
    d._pana, d._early = 0, None
    await _ask(d, b"SKJOIN %s\r\n" % ip, _W_JOIN, "SKJOIN")
    a = d._early
    if a is None:
        a = await _until(d, _JOIN_MS, _W_PANA)
    d._held = a == dr.JOINED
    return a or dr.NO_ANSWER


async def end(d):
    """SKTERM the session the module may hold: SKJOIN gets FAIL ER10 while one is up."""
    if not d._held:
        return
    try:
        await _ask(d, b"SKTERM\r\n")
    except dr.DriverError as e:
        if e.code != dr.BUSY:
            raise
        d._held = False  # ER10: no session to end
        return
    await _until(d, _TERM_MS, _W_END)
    d._held = False


def take(d, k, p):
    """A line only a join brings; True when it was taken here (SkDriver._take has the rest)."""
    w = d._want
    pd = d._pd
    if k == sk.OTHER:
        k = kind(p)
    if pd and (k == EPANDESC or k == sk.EVENT and p.code == _EV_SCANNED):
        # the EPANDESC before is complete: keep the best of this scan
        if len(pd) == 4 and pd["channel"] >= 0 and pd["pan_id"] >= 0 and len(pd["addr"]) == 16:
            if d._best is None or pd["lqi"] > d._best["lqi"]:
                d._best = pd
    if k == sk.OK:
        if w == _W_OK or w == _W_JOIN:
            d._ans = True
            return True
    elif k == ADDR:
        if w == _W_ADDR:
            d._ans = _token(p, 0)
        return True
    elif k == EVER:
        d.version = str(_token(p, 1), "ascii")
        return True
    elif k == EINFO:
        p.dialect = dialect_of_einfo(p)
        d.dialect = sk.DIALECT_NAMES[p.dialect]
        return True
    elif k == EPANDESC:
        d._pd = {}
        return True
    elif k == sk.FIELD:
        if pd is not None:
            f, v = field(p)
            if f == b"Channel":
                pd["channel"] = v
            elif f == b"Pan ID":
                pd["pan_id"] = v
            elif f == b"Addr":
                pd["addr"] = p.text().strip().upper()
            elif f == b"LQI":
                pd["lqi"] = v
        return True
    elif k == sk.EVENT:
        c = p.code
        if c == _EV_SCANNED:
            if w == _W_SCAN:
                d._ans = True
            return True
        if c == _EV_PANA_OK or c == _EV_PANA_NG:
            if w == _W_PANA or w == _W_JOIN:
                a = dr.JOINED if c == _EV_PANA_OK else dr.REFUSED if d._pana else dr.NO_ANSWER
                if w == _W_PANA:
                    d._ans = a
                else:
                    d._early = a
                return True
        elif _EV_PEER_END <= c <= _EV_END_LOST and w == _W_END:
            d._held = False
            d._ans = True
            return True
    return False
