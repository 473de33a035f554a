"""Each join step's code is loaded for that step only and leaves RAM when it ends; none is
loaded once the session is connected, and a rejoin loads the join step's again
(session.JOIN_MODULES, drop_join): over SKSTACK and J11, with and without the scan cache;
the meter's facts' decoders (meterfacts.py) leave once the first answer is in."""
import json
import os
import sys

import broute
from broute import bstate
from broute import session
from broute.j11driver import J11Driver
from broute.scancache import MemoryCache
from session_fake import VClock, FakeModule, RBID, PWD, run
from j11_fake import J11Module, link


def _loaded():
    """The join modules still reachable: in sys.modules or as an attribute of the package."""
    return [n for n in session.JOIN_MODULES if n in sys.modules or n[7:] in broute.__dict__]


def _watch(s):
    """The join modules loaded as each step asks its driver for its own (steps(step))."""
    seen = []
    real = s._drv.steps

    def steps(step=None):
        m = real(step)
        if step is not None:
            seen.append(_loaded())
        return m
    s._drv.steps = steps
    return seen


SK = [["broute.stepstart", "broute.skask", "broute.skstart"],
      ["broute.stepfind", "broute.skask", "broute.skscan"],
      ["broute.stepjoin", "broute.skask", "broute.skjoin"]]
J11 = [["broute.stepstart", "broute.j11ask", "broute.j11start"],
       ["broute.stepfind", "broute.j11ask", "broute.j11scan"],
       ["broute.stepjoin", "broute.j11ask", "broute.j11join"]]


def test_skstack_join_modules_leave_once_connected_and_return_for_a_rejoin():
    clock = VClock()
    mod = FakeModule(clock)
    s = session.Session(mod, mod, RBID, PWD, clock=clock)
    seen = _watch(s)
    assert run(s, clock, lambda: s.reading.seq >= 1, 100000)
    assert seen == SK
    assert _loaded() == [] and s._drv._jt is None and s.state == bstate.CONNECTED
    # the meter's facts (D3, E1, D7, 9F: meterfacts.py) were read from the first answer, then dropped
    assert s._tracker.known and s._tracker.unit and s._tracker.get_map
    assert run(s, clock, lambda: s.reading.seq >= 2, clock.now + 100000)
    assert "broute.meterfacts" not in sys.modules and "meterfacts" not in broute.__dict__
    mod.drop = 3  # the meter goes silent: resends, then a rejoin
    n = s.reading.seq
    assert run(s, clock, lambda: s.reading.seq >= n + 2, clock.now + 300000)
    assert s.rejoins >= 1 and len(seen) >= 4 and seen[-1] == SK[2]
    assert _loaded() == [] and s._drv._jt is None


def test_j11_join_modules_leave_once_connected_and_return_for_a_rejoin():
    clock = VClock()
    mod = J11Module(clock)
    s = session.Session(mod, mod, RBID, PWD, clock=clock, driver=J11Driver)
    seen = _watch(s)
    assert run(s, clock, lambda: s.reading.seq >= 1, clock.now + 300000)
    assert seen == J11
    assert _loaded() == [] and s._drv._jt is None and s._drv._b is None  # nor the join's builder
    mod.at(3000, link(4))  # PANA session lost: rejoin
    mod.session = False
    assert run(s, clock, lambda: s.reading.seq >= 3, clock.now + 300000)
    assert s.rejoins == 1 and seen[3:] == [J11[2]] and _loaded() == []
    assert s.version  # read while joining, kept once the join steps left


def test_a_cached_meter_loads_no_scan():
    clock = VClock()
    mod = FakeModule(clock)
    cache = MemoryCache({"channel": 0x3B, "pan_id": 0x8888, "addr": "001D129012345678", "rssi": -55})
    s = session.Session(mod, mod, RBID, PWD, cache=cache, clock=clock)
    seen = _watch(s)
    assert run(s, clock, lambda: s.reading.seq >= 1, 100000)
    assert seen == [SK[0], SK[2]] and s.scans == 0 and _loaded() == []


def _gone(name):
    return name not in sys.modules and name[7:] not in broute.__dict__


def test_the_checks_leave_once_used():
    """The credential rules (credcheck.py) leave once the Session has checked them, the scan
    cache's check of its file (scanvalid.py) once the find step has read it."""
    from broute import scancache
    from test_scancache import GOOD, _path
    path = _path()
    with open(path, "w") as f:
        f.write(json.dumps(GOOD))
    from broute import credcheck  # noqa: F401  loaded, as config.py leaves it...
    clock = VClock()
    mod = FakeModule(clock)
    s = session.Session(mod, mod, RBID, PWD, cache=scancache.ScanCache(path), clock=clock)
    assert _gone("broute.credcheck")  # ...and the Session drops them
    seen = _watch(s)
    try:
        assert run(s, clock, lambda: s.reading.seq >= 1, 100000)
    finally:
        os.remove(path)
    assert seen == [SK[0], SK[2]] and s.scans == 0 and _gone("broute.scanvalid") and _loaded() == []


def test_drop_join_forgets_only_what_is_loaded():
    session.drop_join()
    session.drop_join()  # nothing loaded: nothing to forget, no error
    assert _loaded() == []
