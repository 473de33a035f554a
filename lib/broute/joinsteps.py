"""The ladder's join steps: start the module, find the meter (cached scan or scan), join it.

Session.run (session.py) runs them until the session is connected; then this module and the
driver's join steps (its `steps()`: skjoin.py or j11join.py) are dropped from RAM
(session.JOIN_MODULES, drop_join), and imported again on the next recovery: while the meter
is polled, none of this code is on the heap. Each step ends with the event that moves the
ladder on (poll.py's READY, FOUND, JOINED) or raises BrouteError (docs/protocol.md section 5).
"""
from . import bstate
from . import driver as dr
from .poll import BrouteError, START, FIND, READY, FOUND, JOINED, REJOIN, RESCAN, RESET
from .session import ADDR_REFUSED, AUTH_FAILED, JOIN_NO_ANSWER, NOT_FOUND, NO_MODULE, text_problem

_SCAN_D = (4, 5, 6, 7, 8)    # scan durations, grown on failure (~4.6 s .. 69 s)



def _int_in(v, lo, hi):
    return type(v) is int and lo <= v <= hi  # type(): a JSON true is no channel


def _link_local(s):
    """The form SKLL64 answers and SKJOIN takes: FE80:0000:0000:0000:xxxx:xxxx:xxxx:xxxx
    (docs/protocol.md section 2)."""
    if not isinstance(s, str) or len(s) != 39:
        return False
    groups = s.split(":")
    if len(groups) != 8 or groups[0].upper() != "FE80" or groups[1:4] != ["0000"] * 3:
        return False
    for g in groups[4:]:
        if text_problem(g, 4, "", "F"):
            return False
    return True


def valid(d):
    """Whether `d` is a scan result the session can join from: the channel (0x21-0x3C) and
    PAN ID go into SKSREG S2/S3, the address into SKLL64, the ip into SKJOIN."""
    return (isinstance(d, dict) and _int_in(d.get("channel"), 0x21, 0x3C)
            and _int_in(d.get("pan_id"), 0, 0xFFFF)
            and not text_problem(d.get("addr"), 16, "", "F")
            and ("ip" not in d or _link_local(d["ip"]))
            and ("rssi" not in d or _int_in(d["rssi"], -128, 0)))


async def step(s, st):
    """Run step `st` (START, FIND or JOIN) of session `s`; the event it ends with."""
    m = s._drv.steps()
    if st == START:
        await _start(s, m)
        return READY
    if st == FIND:
        await _find(s, m)
        return FOUND
    return await _join(s, m)


async def _start(s, m):
    s._show(bstate.RESETTING if s.resets else bstate.STARTING)
    s.resets += 1
    d = s._drv
    try:
        await m.reset(d)
        s._show(bstate.STARTING)
        await m.start(d)
        s.version, s.dialect = d.version, d.dialect
        s._say("module %s %s" % (s.dialect, s.version))
        await m.credentials(d, s._rbid, s._pw)
    except dr.DriverError as e:
        s._start_fails += 1
        if e.code == dr.TIMEOUT and s._start_fails >= 2:
            raise BrouteError(RESET, NO_MODULE, True)
        raise
    s._start_fails = 0


async def _find(s, m):
    if s._target is not None:  # kept across a module reset
        return
    c = s._cache.load() if s._cache else None
    if c:
        s._target, s._from_cache = c, True
        s._drv.rssi = c.get("rssi")
        s._say("joining from the cached scan: channel %02X" % c["channel"])
        return
    s._from_cache = False
    while s._scan_i < len(_SCAN_D):
        d = s.scan_duration = _SCAN_D[s._scan_i]
        if s.state == bstate.SCANNING:
            s._notify("state")  # the duration changed though the state did not
        s._show(bstate.SCANNING)
        s.scans += 1
        t = await m.scan(s._drv, d)
        if t:
            t["ip"] = await m.resolve(s._drv, t["addr"])
            s._say("meter found: channel %02X, %s dBm" % (t["channel"], t.get("rssi")))
            s._scan_i = 0
            if s._cache:
                s._cache.save(t)
            s._target = t
            return
        s._scan_i += 1
    s._scan_i = len(_SCAN_D) - 1  # keep scanning long once short scans failed
    # the module may have lost the ID (and with it the pairing ID the scan carries)
    # without a sign: start it over, which sends the credentials again
    raise BrouteError(RESET, NOT_FOUND, True)


async def _join(s, m):
    s._show(bstate.JOINING)
    d = s._drv
    await m.end(d)  # SKJOIN is refused while the module holds a session
    try:
        a = await m.join(d, s._target)
    except dr.DriverError as e:
        if e.code == dr.TIMEOUT or e.code == dr.BUSY:
            raise  # silence, or busy (or restarted without the ID): reset the module
        # the module refuses the target itself (a channel, PAN or address it cannot take):
        # a cached one is dropped; scanned ones count, or scan, join, refuse loops unseen
        if s._from_cache:
            s._cache.clear()
        else:
            s._join_fails += 1
        if s._join_fails >= 3:
            s._join_fails = 0
            raise BrouteError(RESCAN, ADDR_REFUSED, True)
        raise BrouteError(RESCAN, "the module refused the meter address: %s" % e)
    if a == dr.JOINED:
        s._join_fails = 0
        return JOINED
    refused = a == dr.REFUSED
    s._join_fails += 1
    if s._from_cache:
        s._cache.clear()
        raise BrouteError(RESCAN, "join from the cached scan failed")
    if s._join_fails >= 3:
        s._join_fails = 0
        raise BrouteError(RESCAN, AUTH_FAILED if refused else JOIN_NO_ANSWER, True)
    raise BrouteError(RESET if s._join_fails == 2 else REJOIN,
                      "the meter refused the join" if refused else "the join got no answer")
