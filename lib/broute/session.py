"""The B-route session: start the module, find and join the meter, poll it, recover.

This is the ladder, written once for every module family: what to do, in what order, and
what the caller sees (`state`, `reason`, `reading`). How a module does it is its driver's
(driver.py; skdriver.py for SKSTACK IP). One task drives everything (pull model): a driver
coroutine writes and reads against a deadline, and reports what happens on the link through
`_on`, which keeps the flags that may change at any moment (pauses, INF pushes, replies by TID).
Recovery (docs/protocol.md section 5): resend, then rejoin, then module reset, then rescan,
with a growing backoff; `_MOVES` is the one table of where each step and failure leads. The
serve step (one request per poll and its answer) and `_on` are poll.py's Poller, inherited.

`recoveries` counts what the ladder decided on trouble, [rejoin, rescan, reset]: one per
BrouteError handled (a module command failing unexpectedly counts as a reset), so the first
start and the first scan are not recoveries (unlike `resets` and `scans`, which count every
module start and scan). Web /metrics shows them (issue 11).

Each join step is a module of its own, loaded for that step only: the ladder's (stepstart.py,
stepfind.py, stepjoin.py) and the driver's (its `steps(step)`: skstart/skscan/skjoin.py with
skask.py, or j11start/j11scan/j11join.py with j11ask.py; the scan only when the scan cache has
no meter). `JOIN_MODULES` names them all; `drop_join()` drops those loaded (sys.modules and the
package's attribute) when a step ends, so at most one step's code is on the heap while
joining, and none while the meter is polled.
"""
from .echonet import Frame, Builder, Tids
from . import bstate
from . import driver as dr
from .compat import Clock, const, drop
from .reading import Reading, Tracker
from .poll import Poller, BrouteError, START, FIND, SERVE, RESCAN, RESET, REJOIN

POLL_MIN_MS = 5000          # the meter answers nothing faster usefully (docs/protocol.md section 5)
_BACKOFF_MAX = const(300000)

# The ladder's steps (START, FIND, JOIN, SERVE) and the events that move between them
# (docs/protocol.md section 5): the recovery levels of BrouteError (REJOIN, RESCAN, RESET),
# then what each step ends with (READY, FOUND, JOINED; all in poll.py).
# The next step by step (rows) and event (columns); "-": cannot happen there.
_MOVES = (b"--01--"    # START:  RESET -> START, READY -> FIND
          b"--0-2-"    # FIND:   RESET -> START, FOUND -> JOIN
          b"210--3"    # JOIN:   REJOIN -> JOIN, RESCAN -> FIND, RESET -> START, JOINED -> SERVE
          b"2-0---")   # SERVE:  REJOIN -> JOIN, RESET -> START
#          REJOIN RESCAN RESET READY FOUND JOINED

# The modules only (re)joining uses, one ladder step's at a time: the ladder's and each
# driver's (its steps()). Dropped by drop_join() when a step ends, so their code is off the
# heap while the meter is polled.
JOIN_MODULES = ("broute.stepstart", "broute.stepfind", "broute.stepjoin",
                "broute.skask", "broute.skstart", "broute.skscan", "broute.skjoin",
                "broute.j11ask", "broute.j11start", "broute.j11scan", "broute.j11join")


def drop_join():
    """Drop JOIN_MODULES from RAM (those loaded); the next (re)join imports them again."""
    for name in JOIN_MODULES:
        drop(name)


AUTH_FAILED = "B-route authentication failed: check ID and password"  # the meter refused (EVENT 24)
JOIN_NO_ANSWER = "The meter did not answer the join"  # no EVENT 24/25 at all: out of reach
NOT_FOUND = "No meter found"
NO_MODULE = "Wi-SUN module not answering"
# the module refuses every meter the scans find; "Title: advice" for the screen (firmware/advice.py)
ADDR_REFUSED = "Meter address refused: the Wi-SUN module takes no meter found, power it off and on"


class Session(Poller):
    def __init__(self, reader, writer, rbid, password, cache=None, clock=None, log=None,
                 poll_ms=10000, energy_every=10, contract_a=None, driver=None, reading_day=1):
        """`driver`: the module family's driver class (driver.py), called as
        driver(reader, writer, clock, on_event); SKSTACK IP's when None. `reading_day`: the
        billing month's first day (1: the calendar month; 2-28: the meter-reading day)."""
        if type(reading_day) is not int or not 1 <= reading_day <= 28:
            raise ValueError("reading_day must be 1 to 28")
        from . import credcheck  # once: the rules leave RAM again
        why = credcheck.id_problem(rbid)
        if why:
            why = "ID " + why
        else:
            why = credcheck.password_problem(password)
            if why:
                why = "password " + why
        drop("broute.credcheck")
        if why:
            raise ValueError("B-route " + why)
        self._rbid, self._pw = rbid.upper().encode(), password.encode()
        self._cache, self._log = cache, log
        self._clock = clock or Clock()
        if driver is None:
            from .skdriver import SkDriver as driver  # imported here: a J11 stick never loads it
        self._drv = driver(reader, writer, self._clock, self._on)
        self.poll_ms = max(POLL_MIN_MS, poll_ms)
        self.energy_every = max(1, energy_every)
        self.contract_a = contract_a  # the breaker size: readings beyond it are implausible
        self.reading = Reading()
        self.listener = None
        self.state = self._phase = bstate.STARTING
        self.reason = ""
        self.scan_duration = 0
        self.dialect = self.version = None
        self.sends = self.timeouts = self.rejoins = self.scans = self.resets = 0
        self.dropped = 0  # readings refused as implausible (corrupted on the way)
        self.recoveries = [0, 0, 0]  # the ladder's recoveries: rejoin, rescan, reset
        self._frame = Frame()
        self._bld = Builder(64)
        self._infc_bld = Builder(64)
        self._infc = None  # an INFC_Res to send (a view of _infc_bld's buffer)
        self._tids = Tids()
        self._tracker = Tracker(self.reading, reading_day)
        self._tracker.contract_a = contract_a
        self._step = START
        self._from_cache = False
        self._target = None
        self._fails = self._join_fails = self._start_fails = self._scan_i = 0
        self._paused = 0
        self._tid = -1  # the request whose answer is awaited, and that answer's ESV
        self._got = 0

    # --- what the caller sees -------------------------------------------------------------
    def rssi_dbm(self):
        """The link's RSSI in dBm as the driver last saw it (the scan, or a frame), or None."""
        return self._drv.rssi

    def _say(self, msg):
        if self._log:
            self._log(msg)

    def _notify(self, kind):
        if self.listener:
            try:
                self.listener(kind)
            except Exception as e:  # a broken display must not stop the meter link
                self._say("listener error: %r" % e)

    # --- the ladder -------------------------------------------------------------------------
    async def run(self):
        """Run forever; protocol trouble is recovered from, never raised."""
        while True:
            st = self._step
            e = None
            try:
                if st == SERVE:
                    await self._serve()
                else:
                    ev = await self._joining(st)
            except dr.DriverError as x:  # a command failed unexpectedly: start the module over
                e = BrouteError(RESET, "Wi-SUN module: %s" % x)
            except BrouteError as x:
                e = x
            self._drv.steps()  # the step's code leaves RAM; its next turn imports it again
            drop_join()
            if e:
                ev = e.level
            st = _MOVES[st * 6 + ev - 1] - 48
            if st < 0:  # a bug, not trouble on the link
                raise BrouteError(RESET, "no move from step %d on event %d" % (self._step, ev))
            self._step = st
            if e:
                await self._recover(e)

    def _joining(self, st):
        """Step `st`'s coroutine (its module imported for it; no reference kept here)."""
        if st == START:
            from .stepstart import step
        elif st == FIND:
            from .stepfind import step
        else:
            from .stepjoin import step
        return step(self)

    async def _recover(self, e):
        self._tid = -1
        self._paused = 0
        self._fails += 1
        self.recoveries[e.level - 1] += 1  # REJOIN, RESCAN, RESET are 1, 2, 3 (poll.py)
        self.reason = e.reason
        self._say("trouble: %s" % e.reason)
        if e.level == RESCAN:
            self._target = None
        elif e.level == REJOIN:
            self.rejoins += 1
        if e.alarm:
            self._show(bstate.ERROR)
        await self._idle(min(_BACKOFF_MAX, 1000 << min(self._fails, 9)))
