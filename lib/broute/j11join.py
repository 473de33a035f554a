"""J11's join step (docs/j11.md section 4): end what the module still holds, 005F on the
meter's channel, 0053, 0005, 0056 and its 6028 result. Loaded with j11ask.py by
J11Driver.steps(JOIN) for the ladder's join step only."""
from . import driver as dr
from . import j11
from .compat import const
from .j11ask import ask, ok, err, until, take as _take, OK, CMD_MS, MODE_BROUTE

_UDP_OPEN, _BSTART, _PANA = const(0x0005), const(0x0053), const(0x0056)
_PANA_END, _BEND, _INIT = const(0x0057), const(0x0058), const(0x005F)
_N_PANA = const(0x6028)
_BSTART_MS = const(30000)  # 0053 looks for the meter on its channel
_PANA_MS = const(120000)   # PANA can take long on a weak link (docs/j11.md section 4)
_PORT = const(0x0E1A)


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
    await ok(d, _INIT, "initial setting", CMD_MS, MODE_BROUTE, 0, c >> 1, 0)
    await ok(d, _BSTART, "B-route start", _BSTART_MS)
    d._held = True
    r = await ask(d, _UDP_OPEN, "UDP port", CMD_MS, _PORT >> 8, _PORT & 255)
    if r != OK and r != 0x0A:  # 0A: open already
        raise err(d, r)
    d._early = None
    if await ask(d, _PANA, "PANA start", CMD_MS) != OK:
        return dr.NO_ANSWER
    a = d._early
    if a is None:
        a = await until(d, _N_PANA, _PANA_MS)
    d._up = a == dr.JOINED
    return a or dr.NO_ANSWER


async def end(d):
    """0057 (end PANA) and 0058 (end B-route) when the module may hold a session; their
    results do not matter: without a session there is nothing to end."""
    d._up = False
    if not d._held:
        return
    await ask(d, _PANA_END, "PANA end", CMD_MS)
    await ask(d, _BEND, "B-route end", CMD_MS)
    d._held = False


def take(d, k, p):
    """A 6028 that comes before 0056's answer, then j11ask.take; True when taken here."""
    if _take(d, k, p):
        return True
    if k == j11.FRAME and p.code == _N_PANA and d._want == _PANA | 0x2000:
        d._early = d._pana(p.u8(0))
        return True
    return False
