"""The ladder's find step: the meter from the scan cache (scancache.py), or scan for it.

Session._joining (session.py) imports it for this step only; the driver's scan (its
steps(FIND): skscan.py or j11scan.py) is loaded only when the cache has no meter.
session.drop_join() drops them when the step ends. It ends with FOUND or raises BrouteError
(docs/protocol.md section 5).
"""
from . import bstate
from .compat import drop
from .poll import BrouteError, FIND, FOUND, RESET
from .session import NOT_FOUND

_SCAN_D = (4, 5, 6, 7, 8)    # scan durations, grown on failure (~4.6 s .. 69 s)


async def step(s):
    if s._target is not None:  # kept across a module reset
        return FOUND
    c = s._cache.load() if s._cache else None
    drop("broute.scanvalid")  # the cache's check of its file (scancache.py): read, not needed again
    if c:
        s._target, s._from_cache = c, True
        s._drv.rssi = c.get("rssi")
        s._say("joining from the cached scan: channel %02X" % c["channel"])
        return FOUND
    s._from_cache = False
    m = s._drv.steps(FIND)
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
            return FOUND
        s._scan_i += 1
    s._scan_i = len(_SCAN_D) - 1  # keep scanning long once short scans failed
    # the module may have lost the ID (and with it the pairing ID the scan carries)
    # without a sign: start it over, which sends the credentials again
    raise BrouteError(RESET, NOT_FOUND, True)
