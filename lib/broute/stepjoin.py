"""The ladder's join step: end what the module still holds, join the meter found.

Session._joining (session.py) imports it for this step only, with the driver's join step
(its steps(JOIN): skjoin.py or j11join.py); session.drop_join() drops both when the step
ends. It ends with JOINED or raises BrouteError: how far up the ladder a failed join goes
is decided here (docs/protocol.md section 5).
"""
from . import bstate
from . import driver as dr
from .poll import BrouteError, JOIN, JOINED, REJOIN, RESCAN, RESET
from .session import ADDR_REFUSED, AUTH_FAILED, JOIN_NO_ANSWER


async def step(s):
    s._show(bstate.JOINING)
    d = s._drv
    m = d.steps(JOIN)
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
