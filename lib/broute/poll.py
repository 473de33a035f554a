"""The ladder's serve step: one Get per poll and its answer by TID, resends, the pauses.

Session (session.py) inherits this part: what it sends once joined, how it waits for the
answer (`_request`), waits out a re-authentication or the radio's rate limit and answers an
INFC (`_sendable`), and what it makes of each report of the driver (`_on`). BrouteError and
its levels, the events of the ladder's failures, are here because both halves raise them;
where each leads is session.py's `_MOVES` (docs/protocol.md section 5).
"""
from .echonet import EchonetError, METER, INF, INFC, GET_RES, GET_SNA, SET_RES, SETC_SNA
from . import bstate
from . import driver as dr
from .compat import const, drop, ticks_add

# The ladder's steps (`_step`, the rows of session.py's _MOVES), the levels of BrouteError
# (its first columns: how far up the recovery ladder to go) and what the join steps end with.
START = const(0)   # reset the module, identify it, give it the credentials
FIND = const(1)    # the meter from the scan cache, or scan
JOIN = const(2)    # end what the module still holds, join
SERVE = const(3)   # poll the meter
REJOIN = const(1)
RESCAN = const(2)
RESET = const(3)
READY = const(4)   # what START, FIND and JOIN end with (stepstart.py, stepfind.py, stepjoin.py)
FOUND = const(5)
JOINED = const(6)

_RESP_MS = const(10000)      # a Get_Res takes ~1 s, up to ~4 s (docs/protocol.md section 5)
_REAUTH_MS = const(120000)   # EVENT 29 -> EVENT 25/24
_RATE_MS = const(3600000)    # the ARIB limit is counted per hour
_RETRY_MS = const(3000)      # after a busy module (FAIL ER10) or a failed radio send
_HISTORY_TRIES = const(6)    # history requests (SetC E5, Get E2 E4) per meter day: today's, the month's
_TRIES = const(3)            # sends of one request before rejoining
_P_REAUTH = const(1)         # `_paused` bits
_P_RATE = const(2)

# The first Get after a join: coefficient, unit, digits and Get property map with the power,
# energy, the meter's date and time, the last half hour's counter and today's 00:00 counter (E2
# after EA, so it is dated), so the first reply is a whole reading. A meter without some of
# them answers Get_SNA with those empty and the others in place (docs/protocol.md sections 3-4).
_GET_FIRST = b"\xD3\xE1\xD7\x9F\xE7\xE8\xE0\xE3\x98\x97\xEA\xE2"
_GET_POWER = b"\xE7\xE8"


class BrouteError(Exception):
    """Session trouble: `level` is how far up the recovery ladder to go; `alarm` asks for a human."""

    def __init__(self, level, reason, alarm=False):
        super().__init__(reason)
        self.level = level
        self.reason = reason
        self.alarm = alarm


class Poller:
    """The serve step and the driver's reports; its state is Session's (session.py)."""

    def _show(self, phase=None):
        """Tell the caller the state: `phase` (the ladder's) unless a pause overrides it."""
        if phase is not None:
            self._phase = phase
        st = self._phase
        if self._paused & _P_RATE:
            st = bstate.RATE_LIMITED
        elif self._paused & _P_REAUTH:
            st = bstate.REAUTH
        if st != self.state:
            self.state = st
            self._say("state: %s%s" % (bstate.name(st), " (%s)" % self.reason if st == bstate.ERROR else ""))
            self._notify("state")

    async def _serve(self):
        self._show(bstate.CONNECTED)
        self._say("connected")
        tr = self._tracker
        energy = hist = None
        n = tries = day = 0
        while True:
            t0 = self._clock.ticks_ms()
            if tr.known:
                if energy is None:  # the first answer came, with the meter's facts
                    from .meterfacts import gets  # loaded by the Tracker for them (reading.py)
                    energy, hist = gets(tr)
                    drop("broute.meterfacts")  # read once per session
                if day != tr.days:  # a new meter day: energy next, its baselines asked again
                    day, tries, n = tr.days, 0, 0
                if tries < _HISTORY_TRIES and tr.supports(0xE2):
                    # once a day (and a month), before a poll's Get: E5 to the day whose 00:00
                    # counters are wanted, then EA E2 E4 (docs/protocol.md section 4)
                    k = tr.wanted(len(hist) > 2)
                    if k >= 0:
                        tries += 1
                        if tr.e5 != k:
                            if await self._request(k) == SET_RES:
                                tr.e5 = k
                        else:
                            await self._request(hist)
            await self._request(_GET_FIRST if not tr.known else _GET_POWER if n % self.energy_every
                                else energy)
            n += 1
            if self._fails:
                self._fails = 0
                self.reason = ""
            deadline = ticks_add(t0, self.poll_ms)  # _idle inlined: one coroutine less per poll
            while await self._drv.wait(deadline):
                if self._infc is not None and not self._paused:
                    await self._sendable()

    # --- one ECHONET request: send, wait for the matching TID, resend --------------------
    async def _request(self, epcs):
        """Get `epcs`, or SetC E5 when `epcs` is a day back (int); returns the answering ESV."""
        for _ in range(_TRIES):
            if self._paused or self._infc is not None:
                await self._sendable()
            tid = self._tid = self._tids.next()
            self._got = 0
            self.sends += 1
            try:  # as few locals as can be: this coroutine is allocated for every request
                if not await self._drv.send(self._msg(tid, epcs)) and not self._got:
                    await self._idle(_RETRY_MS)  # the radio send failed
                    continue
            except dr.DriverError as e:
                if e.code != dr.BUSY:
                    raise
                await self._idle(_RETRY_MS)  # busy: back off and retry
                continue
            deadline = ticks_add(self._clock.ticks_ms(), _RESP_MS)
            while not self._got and not self._paused and await self._drv.wait(deadline):
                pass
            if self._got:
                return self._got
            if not self._paused:
                self.timeouts += 1
        self._tid = -1
        raise BrouteError(REJOIN, "meter not answering")

    def _msg(self, tid, epcs):
        """The request's frame (out of _request: its coroutine's frame is allocated per request)."""
        if type(epcs) is int:
            return self._bld.setc(tid, METER, 0xE5, bytes((epcs,)))
        return self._bld.get(tid, METER, epcs)

    async def _sendable(self):
        """Wait out a re-authentication and a rate limit; then send a pending INFC_Res."""
        if self._paused:
            deadline = ticks_add(self._clock.ticks_ms(), _REAUTH_MS if self._paused & _P_REAUTH else _RATE_MS)
            while self._paused:
                if not await self._drv.wait(deadline):
                    if self._paused & _P_REAUTH:
                        raise BrouteError(REJOIN, "re-authentication timed out")
                    self._paused = 0
                    self._show()
        if self._infc is not None:
            mv, self._infc = self._infc, None
            self.sends += 1
            await self._drv.send(mv)

    async def _idle(self, ms):
        """Keep reading (events, INF pushes) for `ms`; answers an INFC on the way."""
        deadline = ticks_add(self._clock.ticks_ms(), max(0, ms))
        while await self._drv.wait(deadline):
            if self._infc is not None and self._step == SERVE and not self._paused:
                await self._sendable()

    # --- what the driver reports ------------------------------------------------------------
    def _on(self, kind, arg):
        """A driver event (driver.py); true when it may end what the ladder waits for: the
        answer to the request, an INFC to acknowledge, a pause beginning or ending."""
        if kind == dr.FRAME:
            try:
                f = self._frame.parse(arg)
                esv = f.esv
                if esv == INF or esv == INFC:
                    if f.seoj == METER and f.find(0xE7) < 0:  # pushes feed the days and the clock only
                        self._tracker.ticks = self._clock.ticks_ms()
                        self._tracker.apply(f)
                    if esv == INFC:
                        self._infc = self._infc_bld.infc_res(f)
                        return True
                elif f.seoj == METER and f.tid == self._tid and \
                        (esv == GET_RES or esv == GET_SNA or esv == SET_RES or esv == SETC_SNA):
                    self._tid = -1
                    self._got = esv
                    tr = self._tracker
                    tr.ticks = self._clock.ticks_ms()
                    if tr.apply(f):
                        r = self.reading
                        r.seq += 1
                        r.ticks = tr.ticks
                        self._notify("reading")
                    elif tr.why:  # corrupted on the way: never shown, alarmed on or published
                        self.dropped += 1
                        self._say("implausible reading dropped: %s" % tr.why)
                    return True
            except (EchonetError, IndexError) as e:
                self._say("bad frame from the meter: %s" % e)
            return False
        st = self._step
        if kind == dr.RESTARTED:  # the credentials are gone: start over
            if st != START:
                raise BrouteError(RESET, "the Wi-SUN module restarted")
            return False
        if kind == dr.LOST:
            if st == SERVE:
                raise BrouteError(REJOIN, arg)
            return False
        p = self._paused
        if kind == dr.REAUTH and st == SERVE:
            p |= _P_REAUTH
        elif kind == dr.REAUTHED:
            p &= ~_P_REAUTH
        elif kind == dr.RATE:
            p |= _P_RATE
        elif kind == dr.RATE_OFF:
            p &= ~_P_RATE
        if p == self._paused:
            return False
        self._paused = p
        self._show()
        return True
