"""SKSTACK IP's scan (docs/protocol.md section 2, Scan): SKSCAN, its EPANDESC results, and
SKLL64 for the meter found. Loaded with skask.py by SkDriver.steps(FIND) only when the ladder
scans (the scan cache may hold the meter)."""
from . import skstack as sk
from .compat import const
from .skask import ask, until, kind, resolve, take as _take, EPANDESC

_EV_SCANNED = const(0x22)    # the scan is over (docs/protocol.md section 2, Events)
_W_SCAN = const(6)           # EVENT 22 ends the exchange (SkDriver._want, skdriver.py)
_CMD_MS = const(5000)


def scan_line(dialect, duration):
    # mode 2 = active scan with the pairing-ID element; FFFFFFFF = channels 33-60
    return b"SKSCAN 2 FFFFFFFF %X%s\r\n" % (duration, sk.SIDE_ARG[dialect])


def field(p):
    """(name, value) of parser `p`'s FIELD line "  Name:Value" (EPANDESC's): the name as bytes
    (allocated: the scan only), the value as a hex number (-1 when it is none); text(p) is
    then the value's text."""
    b, s, t = p.buf, p._ls, p._le
    while b[s] == 32:
        s += 1
    c = b.find(b":", s, t)
    p._ls = c + 1
    return bytes(b[s:c]), p._hex(c + 1, t)


def text(p):
    """Parser `p`'s current line (or field value) as str (allocates: the scan only)."""
    try:
        return str(bytes(p._mv[p._ls:p._le]), "ascii")
    except UnicodeError:
        return "<binary>"


async def scan(d, dur):
    """The best complete EPANDESC by LQI of one active scan of duration `dur`, or None."""
    d._pd = d._best = None
    await ask(d, scan_line(d._p.dialect, dur))
    # 28 channels x 9.6 ms x (2^D + 1) (docs/protocol.md section 2, Scan)
    await until(d, 28 * 96 * ((1 << dur) + 1) // 10 + _CMD_MS, _W_SCAN)
    t = d._best
    d._pd = d._best = None
    if t:  # RSSI estimated from the LQI (docs/protocol.md section 2, Scan)
        t["rssi"] = d.rssi = int(round(0.275 * t.pop("lqi") - 104.27))
    return t


def take(d, k, p):
    """EPANDESC, its fields and EVENT 22, then skask.take; True when the line was taken here."""
    pd = d._pd
    if k == sk.OTHER:
        k = kind(p)
    ended = k == sk.EVENT and p.code == _EV_SCANNED
    if pd and (k == EPANDESC or ended):
        # the EPANDESC before is complete: keep the best of this scan
        if len(pd) == 4 and pd["channel"] >= 0 and pd["pan_id"] >= 0 and len(pd["addr"]) == 16:
            if d._best is None or pd["lqi"] > d._best["lqi"]:
                d._best = pd
    if k == EPANDESC:
        d._pd = {}
        return True
    if k == sk.FIELD:
        if pd is not None:
            f, v = field(p)
            if f == b"Channel":
                pd["channel"] = v
            elif f == b"Pan ID":
                pd["pan_id"] = v
            elif f == b"Addr":
                pd["addr"] = text(p).strip().upper()
            elif f == b"LQI":
                pd["lqi"] = v
        return True
    if ended:
        if d._want == _W_SCAN:
            d._ans = True
        return True
    return _take(d, k, p)
