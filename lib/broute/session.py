"""The B-route session: start the module, find and join the meter, poll it, recover.

This is the ladder, written once for every module family: what to do, in what order, and
what the caller sees (`state`, `reason`, `reading`). How a module does it is its driver's
(driver.py; skdriver.py for SKSTACK IP). One task drives everything (pull model): a driver
coroutine writes and reads against a deadline, and reports what happens on the link through
`_on`, which keeps the flags that may change at any moment (pauses, INF pushes, replies by TID).
Recovery (docs/protocol.md section 5): resend, then rejoin, then module reset, then rescan,
with a growing backoff; `_MOVES` is the one table of where each step and failure leads.
"""
from .echonet import EchonetError, Frame, Builder, Tids, METER, INF, INFC, GET_RES, GET_SNA, \
    SET_RES, SETC_SNA
from . import bstate
from . import driver as dr
from .compat import Clock, const, ticks_add
from .reading import Reading, Tracker

POLL_MIN_MS = 5000          # the meter answers nothing faster usefully (docs/protocol.md section 5)
_CMD_MS = const(5000)        # the module answers a command within milliseconds
_RESP_MS = const(10000)      # a Get_Res takes ~1 s, up to ~4 s (docs/protocol.md section 5)
_REAUTH_MS = const(120000)   # EVENT 29 -> EVENT 25/24
_RATE_MS = const(3600000)    # the ARIB limit is counted per hour
_RETRY_MS = const(3000)      # after a busy module (FAIL ER10) or a failed radio send
_HISTORY_TRIES = const(2)    # requests for today's baseline (SetC E5, Get E2) per meter day
_TRIES = const(3)            # sends of one request before rejoining
_BACKOFF_MAX = const(300000)
_SCAN_D = (4, 5, 6, 7, 8)    # scan durations, grown on failure (~4.6 s .. 69 s)

_P_REAUTH = const(1)
_P_RATE = const(2)

# The ladder's states and the events that move between them (docs/protocol.md section 5).
_START = const(0)   # reset the module, identify it, give it the credentials
_FIND = const(1)    # the meter from the scan cache, or scan
_JOIN = const(2)    # end what the module still holds, join
_SERVE = const(3)   # poll the meter
# events: the recovery levels of BrouteError, then what each step ends with
REJOIN = const(1)
RESCAN = const(2)
RESET = const(3)
_READY = const(4)
_FOUND = const(5)
_JOINED = const(6)
# the next state by state (rows) and event (columns); "-": cannot happen there
_MOVES = (b"--01--"    # _START:  RESET -> _START, _READY -> _FIND
          b"--0-2-"    # _FIND:   RESET -> _START, _FOUND -> _JOIN
          b"210--3"    # _JOIN:   REJOIN -> _JOIN, RESCAN -> _FIND, RESET -> _START, _JOINED -> _SERVE
          b"2-0---")   # _SERVE:  REJOIN -> _JOIN, RESET -> _START
#          REJOIN RESCAN RESET _READY _FOUND _JOINED

# The first Get after a join: coefficient, unit, digits and Get property map with the power,
# energy, today's 00:00 counter and its date, so the first reply is a whole reading. A meter
# without some of them answers Get_SNA with those empty and the others in place.
_GET_FIRST = b"\xD3\xE1\xD7\x9F\xE7\xE8\xE0\xE3\xE2\xEA"
_GET_POWER = b"\xE7\xE8"
_GET_HISTORY = b"\xE2\xEA"        # today's 00:00 counter and the last fixed-time value

AUTH_FAILED = "B-route authentication failed: check ID and password"  # the meter refused (EVENT 24)
JOIN_NO_ANSWER = "The meter did not answer the join"  # no EVENT 24/25 at all: out of reach
NOT_FOUND = "No meter found"
NO_MODULE = "Wi-SUN module not answering"
# the module refuses every meter the scans find; "Title: advice" for the screen (firmware/advice.py)
ADDR_REFUSED = "Meter address refused: the Wi-SUN module takes no meter found, power it off and on"


class BrouteError(Exception):
    """Session trouble: `level` is how far up the recovery ladder to go; `alarm` asks for a human."""

    def __init__(self, level, reason, alarm=False):
        super().__init__(reason)
        self.level = level
        self.reason = reason
        self.alarm = alarm


def id_problem(v):
    """Why `v` cannot be a B-route ID (32 hex digits, either case: callers upper-case it), or
    None; never shows `v`. A mistyped ID only looks like "no meter" (docs/protocol.md section 2)."""
    return text_problem(v, 32, "32 hex digits", "F")


def password_problem(v):
    """Why `v` cannot be a B-route password (12 letters and digits, docs/protocol.md section 2), or None."""
    return text_problem(v, 12, "12 characters long", "Z")


def text_problem(v, n, what, top):
    """Why `v` is not `n` characters of the digits 0-9 and letters A-`top` (either case), or None."""
    if not isinstance(v, str):
        return "must be text in quotes, " + what
    if len(v) != n:
        return "must be %s (got %d)" % (what, len(v))
    for c in v:
        if not ("0" <= c <= "9" or "A" <= c <= top or "a" <= c <= top.lower()):
            return "must be %s: only the digits 0-9 and letters A-%s" % (what, top)


class Session:
    def __init__(self, reader, writer, rbid, password, cache=None, clock=None, log=None,
                 poll_ms=10000, energy_every=10, contract_a=None, driver=None):
        """`driver`: the module family's driver class (driver.py), called as
        driver(reader, writer, clock, on_event); SKSTACK IP's when None."""
        why = id_problem(rbid)
        if why:
            raise ValueError("B-route ID " + why)
        why = password_problem(password)
        if why:
            raise ValueError("B-route password " + why)
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
        self._frame = Frame()
        self._bld = Builder(64)
        self._infc_bld = Builder(64)
        self._infc = None  # an INFC_Res to send (a view of _infc_bld's buffer)
        self._tids = Tids()
        self._tracker = Tracker(self.reading)
        self._tracker.contract_a = contract_a
        self._step = _START
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

    # --- the ladder -------------------------------------------------------------------------
    async def run(self):
        """Run forever; protocol trouble is recovered from, never raised."""
        while True:
            st = self._step
            e = None
            try:
                if st == _START:
                    await self._start()
                    ev = _READY
                elif st == _FIND:
                    await self._find()
                    ev = _FOUND
                elif st == _JOIN:
                    ev = await self._join()
                else:
                    await self._serve()
            except dr.DriverError as x:  # a command failed unexpectedly: start the module over
                e = BrouteError(RESET, "Wi-SUN module: %s" % x)
            except BrouteError as x:
                e = x
            if e:
                ev = e.level
            st = _MOVES[st * 6 + ev - 1] - 48
            if st < 0:  # a bug, not trouble on the link
                raise BrouteError(RESET, "no move from step %d on event %d" % (self._step, ev))
            self._step = st
            if e:
                await self._recover(e)

    async def _recover(self, e):
        self._tid = -1
        self._paused = 0
        self._fails += 1
        self.reason = e.reason
        self._say("trouble: %s" % e.reason)
        if e.level == RESCAN:
            self._target = None
        elif e.level == REJOIN:
            self.rejoins += 1
        if e.alarm:
            self._show(bstate.ERROR)
        await self._idle(min(_BACKOFF_MAX, 1000 << min(self._fails, 9)))

    async def _start(self):
        self._show(bstate.RESETTING if self.resets else bstate.STARTING)
        self.resets += 1
        d = self._drv
        try:
            await d.reset()
            self._show(bstate.STARTING)
            await d.start()
            self.version, self.dialect = d.version, d.dialect
            self._say("module %s, %s-stack dialect" % (self.version, self.dialect))
            await d.credentials(self._rbid, self._pw)
        except dr.DriverError as e:
            self._start_fails += 1
            if e.code == dr.TIMEOUT and self._start_fails >= 2:
                raise BrouteError(RESET, NO_MODULE, True)
            raise
        self._start_fails = 0

    async def _find(self):
        if self._target is not None:  # kept across a module reset
            return
        c = self._cache.load() if self._cache else None
        if c:
            self._target, self._from_cache = c, True
            self._drv.rssi = c.get("rssi")
            self._say("joining from the cached scan: channel %02X" % c["channel"])
            return
        self._from_cache = False
        while self._scan_i < len(_SCAN_D):
            d = self.scan_duration = _SCAN_D[self._scan_i]
            if self.state == bstate.SCANNING:
                self._notify("state")  # the duration changed though the state did not
            self._show(bstate.SCANNING)
            self.scans += 1
            t = await self._drv.scan(d)
            if t:
                t["ip"] = await self._drv.resolve(t["addr"])
                self._say("meter found: channel %02X, %s dBm" % (t["channel"], t.get("rssi")))
                self._scan_i = 0
                if self._cache:
                    self._cache.save(t)
                self._target = t
                return
            self._scan_i += 1
        self._scan_i = len(_SCAN_D) - 1  # keep scanning long once short scans failed
        # the module may have lost the ID (and with it the pairing ID the scan carries)
        # without a sign: start it over, which sends the credentials again
        raise BrouteError(RESET, NOT_FOUND, True)

    async def _join(self):
        self._show(bstate.JOINING)
        d = self._drv
        await d.end()  # SKJOIN is refused while the module holds a session
        try:
            a = await d.join(self._target)
        except dr.DriverError as e:
            if e.code == dr.TIMEOUT or e.code == dr.BUSY:
                raise  # silence, or busy (or restarted without the ID): reset the module
            # the module refuses the target itself (a channel, PAN or address it cannot take):
            # a cached one is dropped; scanned ones count, or scan, join, refuse loops unseen
            if self._from_cache:
                self._cache.clear()
            else:
                self._join_fails += 1
            if self._join_fails >= 3:
                self._join_fails = 0
                raise BrouteError(RESCAN, ADDR_REFUSED, True)
            raise BrouteError(RESCAN, "the module refused the meter address: %s" % e)
        if a == dr.JOINED:
            self._join_fails = 0
            return _JOINED
        refused = a == dr.REFUSED
        self._join_fails += 1
        if self._from_cache:
            self._cache.clear()
            raise BrouteError(RESCAN, "join from the cached scan failed")
        if self._join_fails >= 3:
            self._join_fails = 0
            raise BrouteError(RESCAN, AUTH_FAILED if refused else JOIN_NO_ANSWER, True)
        raise BrouteError(RESET if self._join_fails == 2 else REJOIN,
                          "the meter refused the join" if refused else "the join got no answer")

    async def _serve(self):
        self._show(bstate.CONNECTED)
        self._say("connected")
        tr = self._tracker
        energy = None
        n = tries = day = 0
        while True:
            t0 = self._clock.ticks_ms()
            if not tr.known:
                epcs = _GET_FIRST
            elif n % self.energy_every:
                epcs = _GET_POWER
            else:
                if energy is None:
                    # E7 E8 E0, E3 and EA where the meter has them: EA dates the energy, so a
                    # midnight is seen (and today's baseline taken) even when pushes are missed
                    energy = bytearray(b"\xE7\xE8\xE0")
                    if tr.supports(0xE3):
                        energy.append(0xE3)
                    if tr.supports(0xEA):
                        energy.append(0xEA)
                    energy = bytes(energy)
                epcs = energy
            await self._request(epcs)
            n += 1
            if self._fails:
                self._fails = 0
                self.reason = ""
            if day != tr.days:  # a new meter day: energy next, its baseline may be asked again
                day, tries, n = tr.days, 0, 0
            if tries < _HISTORY_TRIES and tr.supports(0xE2):
                if tr.need_day0:
                    tries += 1
                    await self._request(None)
                    tr.need_day0, tr.need_history = False, True
                elif tr.need_history:
                    tries += 1
                    await self._request(_GET_HISTORY)
            deadline = ticks_add(t0, self.poll_ms)  # _idle inlined: one coroutine less per poll
            while await self._drv.wait(deadline):
                if self._infc is not None and not self._paused:
                    await self._sendable()

    # --- one ECHONET request: send, wait for the matching TID, resend --------------------
    async def _request(self, epcs):
        """Get `epcs` (None: SetC E5=0, today's history); returns the answering ESV."""
        for _ in range(_TRIES):
            if self._paused or self._infc is not None:
                await self._sendable()
            tid = self._tid = self._tids.next()
            self._got = 0
            self.sends += 1
            try:  # as few locals as can be: this coroutine is allocated for every request
                if not await self._drv.send(self._bld.setc(tid, METER, 0xE5, b"\x00") if epcs is None
                                            else self._bld.get(tid, METER, epcs)) and not self._got:
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
            if self._infc is not None and self._step == _SERVE and not self._paused:
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
                    if f.seoj == METER and f.find(0xE7) < 0:  # pushes feed the day's baseline only
                        self._tracker.apply(f)
                    if esv == INFC:
                        self._infc = self._infc_bld.infc_res(f)
                        return True
                elif f.seoj == METER and f.tid == self._tid and \
                        (esv == GET_RES or esv == GET_SNA or esv == SET_RES or esv == SETC_SNA):
                    self._tid = -1
                    self._got = esv
                    tr = self._tracker
                    if tr.apply(f):
                        r = self.reading
                        r.seq += 1
                        r.ticks = self._clock.ticks_ms()
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
            if st != _START:
                raise BrouteError(RESET, "the Wi-SUN module restarted")
            return False
        if kind == dr.LOST:
            if st == _SERVE:
                raise BrouteError(REJOIN, arg)
            return False
        p = self._paused
        if kind == dr.REAUTH and st == _SERVE:
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
