"""SKSTACK IP's start step (docs/protocol.md section 1): reset, identify (SKVER, SKINFO), the
credentials. Loaded with skask.py by SkDriver.steps(START) for the ladder's start step only."""
from . import driver as dr
from . import skstack as sk
from .skask import ask, until, sreg, kind, token, take as _take, W_OK, W_NONE, EVER, EINFO


def setpwd(password):
    return b"SKSETPWD %X %s\r\n" % (len(password), password)


def setrbid(rbid):
    return b"SKSETRBID %s\r\n" % rbid


def dialect_of_einfo(p):
    """From parser `p`'s EINFO line: X is the 16-bit address FFFE (single) or SIDE 0 (dual)."""
    return sk.SINGLE if p._tok(5) and p._te - p._ts == 4 else sk.DUAL


async def reset(d):
    d._p.reset()
    d._held = d._quiet = False
    d._w.write(b"\r\n")  # ends a half-typed line; the FAIL that may follow is ignored
    await until(d, 100, W_NONE)
    await ask(d, b"SKRESET\r\n")


async def start(d):
    """Echo off (volatile register, not flash), then SKVER and SKINFO (docs/protocol.md section 1)."""
    try:
        await ask(d, sreg(b"SFE", 0, 0))
        d._quiet = True
    except dr.DriverError as e:
        if e.code == dr.TIMEOUT:
            raise
    await ask(d, b"SKVER\r\n")
    await ask(d, b"SKINFO\r\n")


async def credentials(d, rbid, password):
    await ask(d, setpwd(password), W_OK, "SKSETPWD")
    await ask(d, setrbid(rbid), W_OK, "SKSETRBID")


def take(d, k, p):
    """EVER and EINFO, then skask.take; True when the line was taken here."""
    if k == sk.OTHER:
        k = kind(p)
    if k == EVER:
        d.version = str(token(p, 1), "ascii")
        return True
    if k == EINFO:
        p.dialect = dialect_of_einfo(p)
        d.dialect = sk.DIALECT_NAMES[p.dialect]
        return True
    return _take(d, k, p)
