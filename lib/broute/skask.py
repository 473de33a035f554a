"""What every SKSTACK IP join step shares (docs/protocol.md sections 1-2): one command and its
answer, the lines only a join brings told apart, SKLL64.

SkDriver (skdriver.py) keeps only what the connected session uses. The join steps are
skstart.py (reset, start, credentials), skscan.py (scan, resolve) and skjoin.py (join, end):
the driver's `steps(step)` loads the one the ladder's step needs, with this module, and
session.drop_join() drops them when the step ends. Each step's `take` reads the lines it
expects and hands the rest to `take` here, before SkDriver._take sees what is left.
"""
from . import skstack as sk
from .compat import const, ticks_add

# what ends the exchange under way (SkDriver._want), numbered as in skdriver.py
W_OK = const(1)      # OK (FAIL raises)
W_ADDR = const(2)    # the SKLL64 address line (FAIL raises)
W_JOIN = const(3)    # SKJOIN's OK (FAIL raises); EVENT 25/24 may come first
W_NONE = const(-2)   # nothing: read until the deadline

# The lines only a join brings, which skstack.Parser leaves as OTHER (kind())
EVER = const(5)
EINFO = const(6)
EPANDESC = const(8)
ADDR = const(11)      # the IPv6 address line SKLL64 answers with

_CMD_MS = const(5000)     # the module answers a command within milliseconds


# Command lines (docs/protocol.md section 2), built per dialect; they run once per join, so
# they allocate.
def sreg(reg, value, width):
    return b"SKSREG %s %0*X\r\n" % (reg, width, value) if width else b"SKSREG %s %X\r\n" % (reg, value)


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


def token(p, i):
    """Token i of parser `p`'s line as bytes, or None (allocates: the join only)."""
    return bytes(p._mv[p._ts:p._te]) if p._tok(i) else None


def ask(d, line, want=W_OK, name=None):
    """Write one command line; awaited, its answer (DriverError on FAIL or silence). The name
    in an error is `name` or the line masked: never the password or the ID in a message."""
    d._name = name or mask(line)
    d._w.write(line)
    return d._reply(want, _CMD_MS)


def until(d, ms, want):
    return d.wait(ticks_add(d._clock.ticks_ms(), ms), want)


async def resolve(d, addr):
    """SKLL64 answers with the address line alone, without OK."""
    return str(await ask(d, b"SKLL64 %s\r\n" % addr.encode(), W_ADDR, "SKLL64"), "ascii")


def take(d, k, p):
    """OK and the SKLL64 address (kind `k`, already told apart); True when taken here."""
    w = d._want
    if k == sk.OK:
        if w == W_OK or w == W_JOIN:
            d._ans = True
            return True
    elif k == ADDR:
        if w == W_ADDR:
            d._ans = token(p, 0)
        return True
    return False
