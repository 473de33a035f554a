"""The ladder's start step: reset the module, identify it, give it the credentials.

Session._joining (session.py) imports it for this step only, with the driver's start step
(its steps(START): skstart.py or j11start.py); session.drop_join() drops both when the step
ends, so no join step's code is on the heap while another step runs or the meter is polled.
It ends with READY or raises BrouteError (docs/protocol.md section 5).
"""
from . import bstate
from . import driver as dr
from .poll import BrouteError, START, READY, RESET
from .session import NO_MODULE


async def step(s):
    s._show(bstate.RESETTING if s.resets else bstate.STARTING)
    s.resets += 1
    d = s._drv
    m = d.steps(START)
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
    return READY
