"""J11's scan (docs/j11.md section 4): 0051 with the pairing ID, its 4051 beacons, and the
meter's address from its MAC. Loaded with j11ask.py by J11Driver.steps(FIND) only when the
ladder scans (the scan cache may hold the meter)."""
from . import j11
from .compat import const
from .j11ask import ok, take as _take, CMD_MS

_SCAN, _N_SCAN = const(0x0051), const(0x4051)
_MASK = b"\x00\x03\xFF\xF0"  # channels 4-17


async def scan(d, dur):
    """Active scan of channels 4-17 with the pairing ID; the best answer by RSSI or None.

    J11's duration d takes 9.64 ms x 2^d per channel, SKSTACK's 9.6 ms x (2^d + 1): the
    same d gives the same time per channel, over 14 channels instead of 28 (docs/j11.md
    section 4). 2051 ends the scan, after one 4051 per channel."""
    d._best = None
    dur = min(max(dur, 1), 14)
    await ok(d, _SCAN, "scan", 14 * 964 * (1 << dur) // 100 + CMD_MS, dur, _MASK, 1,
             d._pair or b"00000000")
    t, d._best = d._best, None
    return t


async def resolve(d, addr):
    """fe80:: and the MAC with bit 1 of its first byte flipped (docs/j11.md section 2)."""
    m = int(addr, 16) ^ 0x0200000000000000
    return "FE80:0000:0000:0000:%04X:%04X:%04X:%04X" % (
        m >> 48, (m >> 32) & 0xFFFF, (m >> 16) & 0xFFFF, m & 0xFFFF)


def take(d, k, p):
    """4051 beacons, then j11ask.take; True when the frame was taken here."""
    if k == j11.FRAME and p.code == _N_SCAN:
        _beacon(d, p)
        return True
    return _take(d, k, p)


def _beacon(d, p):
    """4051: [00][channel][count] and count x (MAC 8, PAN 2, RSSI 1); [01][channel] is
    a channel without an answer. Only during a scan (`_want` 2051)."""
    if d._want != _SCAN | 0x2000 or p.u8(0) != 0:
        return
    ch = p.u8(1)
    if not 4 <= ch <= 17:
        return
    for e in range(p.u8(2)):
        i = 3 + 11 * e
        if i + 11 > p.n:
            return
        rssi = p.s8(i + 10)
        if d._best is None or rssi > d._best["rssi"]:
            d._best = {"channel": 2 * ch + 25, "pan_id": p.u16(i + 8),
                       "addr": "%04X%04X%04X%04X" % (p.u16(i), p.u16(i + 2), p.u16(i + 4), p.u16(i + 6)),
                       "rssi": rssi}
