"""SKSTACK IP's join step (docs/protocol.md section 2): SKTERM what the module still holds,
channel and PAN ID, SKJOIN and its PANA result. Loaded with skask.py by SkDriver.steps(JOIN)
for the ladder's join step only."""
from . import driver as dr
from . import skstack as sk
from .compat import const
from .skask import ask, until, sreg, kind, resolve, take as _take, W_JOIN

# SKSTACK event numbers (docs/protocol.md section 2, Events), as in skdriver.py
_EV_PANA_NG = const(0x24)    # PANA failed: the join, or a re-authentication
_EV_PANA_OK = const(0x25)    # PANA succeeded: joined, or re-authenticated
_EV_PEER_END = const(0x26)
_EV_END_LOST = const(0x28)

# what ends the exchange under way (SkDriver._want), numbered as in skdriver.py
_W_PANA = const(7)    # EVENT 25 or 24 after SKJOIN's OK
_W_END = const(8)     # EVENT 26/27/28 after SKTERM

_JOIN_MS = const(60000)   # PANA authentication takes a few seconds
_TERM_MS = const(10000)   # SKTERM -> EVENT 27, or 28 when the meter does not answer


def sendto(dialect, ip):
    """`SKSENDTO 1 <ip> 0E1A 1 [0 ]LLLL ` for the joined meter: skdriver.header sets the length."""
    return bytearray(b"SKSENDTO 1 %s 0E1A 1%s 0000 " % (ip, sk.SIDE_ARG[dialect]))


async def join(d, t):
    """Channel and PAN ID, then SKJOIN: EVENT 24 after the meter's PANA answered is a
    refusal; EVENT 24 with no PANA from the meter (the module gave up resending), or
    neither event, is no answer."""
    await ask(d, sreg(b"S2", t["channel"], 2))
    await ask(d, sreg(b"S3", t["pan_id"], 4))
    if not t.get("ip"):
        t["ip"] = await resolve(d, t["addr"])
    ip = t["ip"].encode()
    if ip != d._ip:
        d._ip = ip
        d._tx = sendto(d._p.dialect, ip)
    d._pana, d._early = 0, None
    await ask(d, b"SKJOIN %s\r\n" % ip, W_JOIN, "SKJOIN")
    a = d._early
    if a is None:
        a = await until(d, _JOIN_MS, _W_PANA)
    d._held = a == dr.JOINED
    return a or dr.NO_ANSWER


async def end(d):
    """SKTERM the session the module may hold: SKJOIN gets FAIL ER10 while one is up."""
    if not d._held:
        return
    try:
        await ask(d, b"SKTERM\r\n")
    except dr.DriverError as e:
        if e.code != dr.BUSY:
            raise
        d._held = False  # ER10: no session to end
        return
    await until(d, _TERM_MS, _W_END)
    d._held = False


def take(d, k, p):
    """The join's and SKTERM's events, then skask.take; True when the line was taken here."""
    if k == sk.EVENT:
        c, w = p.code, d._want
        if c == _EV_PANA_OK or c == _EV_PANA_NG:
            if w == _W_PANA or w == W_JOIN:
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
    if k == sk.OTHER:
        k = kind(p)
    return _take(d, k, p)
