"""The B-route session: start the module, find and join the meter, poll it, recover.

One task drives everything (pull model): a command is written, then the stream is read
against a deadline, and every parsed event first goes through `_dispatch`, which keeps the
flags that may change at any moment (EVENT 29/32/33/24-28, INF pushes, replies by TID).
Recovery ladder (docs/protocol.md section 5): resend, then rejoin, then module reset, then
rescan, with a growing backoff; `state` and `reason` say what is going on at every step.
Every step notices a module that restarted by itself and forgot the credentials: its
command echo is back on (SKSREG SFE 0 is volatile), so any echo after start-up means reset.
"""
from echonet import EchonetError, Frame, Builder, Tids, METER, INF, INFC, GET_RES, GET_SNA, \
    SET_RES, SETC_SNA
import bstate
import skstack as sk
import skcmd
from compat import Clock, Port, TimeoutError, const, ticks_add, ticks_diff
from reading import Reading, Tracker

POLL_MIN_MS = 5000          # the meter answers nothing faster usefully (docs/protocol.md section 5)
_CMD_MS = const(5000)        # the module answers a command within milliseconds
_RESP_MS = const(10000)      # a Get_Res takes ~1 s, up to ~4 s (docs/protocol.md section 5)
_JOIN_MS = const(60000)      # PANA authentication takes a few seconds
_REAUTH_MS = const(120000)   # EVENT 29 -> EVENT 25/24
_RATE_MS = const(3600000)    # the ARIB limit is counted per hour
_RETRY_MS = const(3000)      # after FAIL ER10 or EVENT 21 param 01
_TERM_MS = const(10000)      # SKTERM -> EVENT 27, or 28 when the meter does not answer
_ER10 = const(10)            # FAIL ER10: the module cannot do that now (busy, joined, no ID)
_PORT_PANA = const(0x02CC)
_HISTORY_TRIES = const(2)    # requests for today's baseline (SetC E5, Get E2) per meter day
_TRIES = const(3)            # sends of one request before rejoining
_BACKOFF_MAX = const(300000)
_SCAN_D = (4, 5, 6, 7, 8)    # scan durations, grown on failure (~4.6 s .. 69 s)

_P_REAUTH = const(1)
_P_RATE = const(2)

# what _event waits for: any event, the answer to the request, a pending INFC_Res to send,
# or the end of SKSENDTO (FAIL, or OK and EVENT 21 00/01 in either order)
_ANY = const(0)
_GOT = const(1)
_INFC = const(2)
_SENT = const(3)

REJOIN = const(1)
RESCAN = const(2)
RESET = const(3)

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
                 poll_ms=10000, energy_every=10, contract_a=None):
        why = id_problem(rbid)
        if why:
            raise ValueError("B-route ID " + why)
        why = password_problem(password)
        if why:
            raise ValueError("B-route password " + why)
        rbid, password = rbid.upper().encode(), password.encode()
        self._w = writer
        self._rbid, self._pw = rbid, password
        self._cache, self._log = cache, log
        self._clock = clock or Clock()
        self._port = Port(reader, writer, self._clock)
        self.poll_ms = max(POLL_MIN_MS, poll_ms)
        self.energy_every = max(1, energy_every)
        self.contract_a = contract_a  # the breaker size: readings beyond it are implausible
        self.reading = Reading()
        self.listener = None
        self.state = bstate.STARTING
        self._phase = bstate.STARTING
        self.reason = ""
        self.scan_duration = 0
        self.lqi = None
        self.dialect = None
        self.version = None
        self.sends = self.timeouts = self.rejoins = self.scans = self.resets = self.eof = 0
        self.dropped = 0  # readings refused as implausible (corrupted on the way)
        self._p = sk.Parser()
        self._frame = Frame()
        self._bld = Builder(64)
        self._infc_bld = Builder(64)
        self._infc = bytearray(64)
        self._infc_n = 0
        self._tids = Tids()
        self._tracker = Tracker(self.reading)
        self._tracker.contract_a = contract_a
        self._ready = self._joined = self._from_cache = False
        self._held = False  # the module may hold a PANA session (SKJOIN is refused then)
        self._quiet = False  # the module's echo is off (SKSREG SFE 0 taken)
        self._target = None
        self._ip = None
        self._tx = None
        self._fails = self._join_fails = self._start_fails = self._scan_i = 0
        self._paused = 0
        self._lost = None
        self._want = -1
        self._got = self._auth = self._pana = 0
        self._ev21 = -1
        self._ok = False
        self._pd = self._found = None
        self._scan_done = False
        self._ll = None

    # --- what the caller sees -------------------------------------------------------------
    def rssi_dbm(self):
        """RSSI estimated from the scan's LQI (docs/protocol.md section 2, Scan)."""
        return None if self.lqi is None else int(round(0.275 * self.lqi - 104.27))

    def _say(self, msg):
        if self._log:
            self._log(msg)

    def _notify(self, kind):
        if self.listener:
            try:
                self.listener(kind)
            except Exception as e:  # a broken display must not stop the meter link
                self._say("listener error: %r" % e)

    def _show(self):
        st = self._phase
        if self._paused & _P_RATE:
            st = bstate.RATE_LIMITED
        elif self._paused & _P_REAUTH:
            st = bstate.REAUTH
        if st != self.state:
            self.state = st
            self._say("state: %s%s" % (bstate.name(st), " (%s)" % self.reason if st == bstate.ERROR else ""))
            self._notify("state")

    def _set_phase(self, st):
        self._phase = st
        self._show()

    # --- the ladder -------------------------------------------------------------------------
    async def run(self):
        """Run forever; protocol trouble is recovered from, never raised."""
        while True:
            try:
                if not self._ready:
                    await self._start()
                if self._target is None:
                    await self._find()
                await self._join()
                await self._serve()
            except sk.SkError as e:  # a command failed unexpectedly: start the module over
                await self._recover(BrouteError(RESET, "Wi-SUN module: %s" % e))
            except BrouteError as e:
                await self._recover(e)

    async def _recover(self, e):
        self._joined = False
        self._want = -1
        self._paused = 0
        self._lost = None
        self._fails += 1
        self.reason = e.reason
        self._say("trouble: %s" % e.reason)
        if e.level >= RESET:
            self._ready = False
        elif e.level == RESCAN:
            self._target = None
        else:
            self.rejoins += 1
        if e.alarm:
            self._set_phase(bstate.ERROR)
        await self._idle(min(_BACKOFF_MAX, 1000 << min(self._fails, 9)))

    async def _start(self):
        self._set_phase(bstate.RESETTING if self.resets else bstate.STARTING)
        self.resets += 1
        self._p.reset()
        self._joined = self._held = self._quiet = False
        try:
            await self._write(b"\r\n")  # ends a half-typed line; the FAIL that may follow is ignored
            await self._idle(100)
            await self._cmd(b"SKRESET\r\n")
            self._set_phase(bstate.STARTING)
            try:
                await self._cmd(skcmd.sreg(b"SFE", 0, 0))  # echo off: volatile register, not flash
                self._quiet = True  # from now on an echo means the module restarted
            except sk.SkError as e:
                if e.code == sk.TIMEOUT:
                    raise
            await self._cmd(b"SKVER\r\n")
            await self._cmd(b"SKINFO\r\n")
            self._say("module %s, %s-stack dialect" % (self.version, self.dialect))
            await self._cmd(skcmd.setpwd(self._pw), "SKSETPWD")
            await self._cmd(skcmd.setrbid(self._rbid), "SKSETRBID")
        except sk.SkError as e:
            self._start_fails += 1
            if e.code == sk.TIMEOUT and self._start_fails >= 2:
                raise BrouteError(RESET, NO_MODULE, True)
            raise
        self._start_fails = 0
        self._ready = True

    async def _find(self):
        c = self._cache.load() if self._cache else None
        if c:
            self._target, self._from_cache = c, True
            self.lqi = c.get("lqi")
            self._say("joining from the cached scan: channel %02X" % c["channel"])
            return
        self._from_cache = False
        while self._scan_i < len(_SCAN_D):
            d = self.scan_duration = _SCAN_D[self._scan_i]
            if self.state == bstate.SCANNING:
                self._notify("state")  # the duration changed though the state did not
            self._set_phase(bstate.SCANNING)
            self.scans += 1
            self._pd = self._found = None
            self._scan_done = False
            await self._cmd(skcmd.scan(self._p.dialect, d))
            # 28 channels x 9.6 ms x (2^D + 1) (docs/protocol.md section 2, Scan)
            deadline = self._after(28 * 96 * ((1 << d) + 1) // 10 + _CMD_MS)
            while not self._scan_done and await self._event(deadline):
                pass
            self._pd = None
            t = self._found
            if t:
                self.lqi = t.get("lqi")
                t["ip"] = await self._ll64(t["addr"])
                self._say("meter found: channel %02X, LQI %s" % (t["channel"], self.lqi))
                self._target = t
                self._scan_i = 0
                if self._cache:
                    self._cache.save(t)
                return
            self._scan_i += 1
        self._scan_i = len(_SCAN_D) - 1  # keep scanning long once short scans failed
        # the module may have lost the ID (and with it the pairing ID the scan carries)
        # without a sign: start it over, which sends the credentials again
        raise BrouteError(RESET, NOT_FOUND, True)

    async def _join(self):
        t = self._target
        self._set_phase(bstate.JOINING)
        if self._held:
            await self._term()
        try:
            await self._cmd(skcmd.sreg(b"S2", t["channel"], 2))
            await self._cmd(skcmd.sreg(b"S3", t["pan_id"], 4))
            if not t.get("ip"):
                t["ip"] = await self._ll64(t["addr"])
            ip = t["ip"].encode()
            if ip != self._ip:
                self._ip = ip
                self._tx = skcmd.SendTo(self._p.dialect, ip)
            self._auth = self._pana = 0
            await self._cmd(skcmd.join(ip), "SKJOIN")
        except sk.SkError as e:
            if e.code == sk.TIMEOUT or e.code == _ER10:
                raise  # silence, or ER10 (busy, or restarted without the ID): reset the module
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
        deadline = self._after(_JOIN_MS)
        while not self._auth and await self._event(deadline):
            pass
        if self._auth == 0x25:
            self._joined = self._held = True
            self._join_fails = 0
            return
        # EVENT 24 after the meter's PANA answers: refused (ID or password); no EVENT 24/25,
        # or EVENT 24 with no PANA from the meter (the module gave up resending): no answer
        refused = self._auth == 0x24 and self._pana
        self._join_fails += 1
        if self._from_cache:
            self._cache.clear()
            raise BrouteError(RESCAN, "join from the cached scan failed")
        if self._join_fails >= 3:
            self._join_fails = 0
            raise BrouteError(RESCAN, AUTH_FAILED if refused else JOIN_NO_ANSWER, True)
        raise BrouteError(RESET if self._join_fails == 2 else REJOIN,
                          "the meter refused the join" if refused else "the join got no answer")

    async def _term(self):
        """End the PANA session the module holds: SKJOIN gets FAIL ER10 while one is up."""
        try:
            await self._cmd(b"SKTERM\r\n")
        except sk.SkError as e:
            if e.code != _ER10:
                raise
            self._held = False  # ER10: no session to end
            return
        deadline = self._after(_TERM_MS)
        while self._held and await self._event(deadline):  # until EVENT 27 or 28
            pass
        self._held = False

    async def _serve(self):
        self._set_phase(bstate.CONNECTED)
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
                    energy = self._energy_epcs()
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
            while await self._event(deadline, _INFC):
                await self._sendable()

    def _energy_epcs(self):
        """E7 E8 E0, E3 and EA where the meter has them: EA dates the energy, so a midnight
        is seen (and today's baseline taken) even when the meter's pushes are missed."""
        tr = self._tracker
        b = bytearray(b"\xE7\xE8\xE0")
        if tr.supports(0xE3):
            b.append(0xE3)
        if tr.supports(0xEA):
            b.append(0xEA)
        return bytes(b)

    # --- one ECHONET request: send, wait for the matching TID, resend --------------------
    async def _request(self, epcs):
        """Get `epcs` (None: SetC E5=0, today's history); returns the answering ESV."""
        for _ in range(_TRIES):
            if self._paused or self._infc_n:
                await self._sendable()
            tid = self._tids.next()
            if epcs is None:
                frame = self._bld.setc(tid, METER, 0xE5, b"\x00")
            else:
                frame = self._bld.get(tid, METER, epcs)
            self._want, self._got = tid, 0
            try:
                await self._sendto(frame)
            except sk.SkError as e:
                if e.code != 10:
                    raise
                await self._idle(_RETRY_MS)  # FAIL ER10: back off and retry
                continue
            if self._ev21 == 1 and not self._got:
                await self._idle(_RETRY_MS)  # EVENT 21 01: the radio send failed
                continue
            if not self._got and not self._paused:
                await self._event(self._after(_RESP_MS), _GOT)
            if self._got:
                return self._got
            if not self._paused:
                self.timeouts += 1
        self._want = -1
        raise BrouteError(REJOIN, "meter not answering")

    async def _sendable(self):
        """Wait out EVENT 29 (until 25) and EVENT 32 (until 33); then send a pending INFC_Res."""
        if self._paused:
            deadline = self._after(_REAUTH_MS if self._paused & _P_REAUTH else _RATE_MS)
            while self._paused:
                if not await self._event(deadline):
                    if self._paused & _P_REAUTH:
                        raise BrouteError(REJOIN, "re-authentication timed out")
                    self._paused = 0
                    self._show()
        if self._infc_n:
            n, self._infc_n = self._infc_n, 0
            await self._sendto(memoryview(self._infc)[:n])

    async def _sendto(self, data):
        self._ev21 = -1
        self._w.write(self._tx.header(len(data)))
        self._w.write(data)  # raw bytes right after the length, no CRLF (docs/protocol.md section 2)
        try:
            await self._port.drain(_CMD_MS)
        except TimeoutError:
            raise sk.SkError(sk.TIMEOUT, "SKSENDTO")
        self.sends += 1
        self._ok = False
        k = await self._event(self._after(_CMD_MS), _SENT)
        if k == sk.FAIL:
            raise sk.SkError(self._p.code, "SKSENDTO")
        if not self._ok:
            raise sk.SkError(sk.TIMEOUT, "SKSENDTO")

    # --- module commands ------------------------------------------------------------------
    async def _cmd(self, line, name=None):
        """Write one command line; return on OK, raise SkError on FAIL or silence."""
        await self._write(line)
        deadline = self._after(_CMD_MS)
        while True:
            k = await self._event(deadline)
            if k == sk.OK:
                return
            if k == sk.FAIL or not k:
                raise sk.SkError(self._p.code if k else sk.TIMEOUT, name or skcmd.mask(line))

    async def _ll64(self, addr):
        """SKLL64 answers with the address line alone, without OK."""
        self._ll = None
        await self._write(skcmd.ll64(addr.encode()))
        deadline = self._after(_CMD_MS)
        while self._ll is None:
            k = await self._event(deadline)
            if not k or k == sk.FAIL:  # FAIL: an address it cannot take
                raise sk.SkError(self._p.code if k else sk.TIMEOUT, "SKLL64")
        return str(self._ll, "ascii")

    async def _write(self, data):
        self._w.write(data)
        await self._drain()

    async def _drain(self):
        try:
            await self._port.drain(_CMD_MS)
        except TimeoutError:
            raise sk.SkError(sk.TIMEOUT, "write")

    # --- reading the stream ---------------------------------------------------------------
    def _after(self, ms):
        return ticks_add(self._clock.ticks_ms(), ms)

    async def _idle(self, ms):
        """Keep reading (events, INF pushes) for `ms`; answers an INFC on the way."""
        deadline = self._after(max(0, ms))
        while await self._event(deadline, _INFC):
            await self._sendable()

    async def _event(self, deadline, until=_ANY):
        """Dispatch events until one (`_ANY`) or until `until` holds; its kind, or 0 at the deadline.

        One coroutine for a whole wait: reading is inlined here, the hot path of every poll.
        """
        p = self._p
        while True:
            k = p.next()
            if k:
                self._dispatch(k)
                if self._lost:
                    reason, self._lost = self._lost, None
                    self._joined = False
                    raise BrouteError(REJOIN if self._ready else RESET, reason)
                if until == _ANY or self._met(until, k):
                    return k
                continue
            left = ticks_diff(deadline, self._clock.ticks_ms())
            if left <= 0:
                return 0
            port = self._port
            await port.read(p, left)
            n = port.n
            if n is None:  # nothing yet: the deadline is checked above
                continue
            if not n:  # end of stream: nothing will come; wait out the deadline instead of spinning
                self.eof += 1
                await self._clock.sleep_ms(left)
                return 0

    def _met(self, until, k):
        if until == _GOT:
            return self._got or self._paused
        if until == _INFC:
            return self._infc_n and self._joined and not self._paused
        if k == sk.OK:
            self._ok = True
        return k == sk.FAIL or (self._ok and (self._ev21 == 0 or self._ev21 == 1))

    def _dispatch(self, k):
        p = self._p
        if k == sk.EVENT:
            self._on_event(p.code, p.param)
        elif k == sk.ERXUDP:
            self._on_udp(p)
        elif k == sk.EVER:
            self.version = str(p.token(1), "ascii")
        elif k == sk.EINFO:
            p.dialect = sk.dialect_of_einfo(p)
            self.dialect = sk.DIALECT_NAMES[p.dialect]
        elif k == sk.ADDR:
            self._ll = p.token(0)
        elif k == sk.ECHO and self._ready and self._quiet:  # echo back on: the module restarted
            self._ready = False
            self._lost = "the Wi-SUN module restarted"
        elif k == sk.EPANDESC:
            self._pick()
            self._pd = {}
        elif k == sk.FIELD and self._pd is not None:
            if p.fkey == sk.F_CHANNEL:
                self._pd["channel"] = p.value
            elif p.fkey == sk.F_PAN:
                self._pd["pan_id"] = p.value
            elif p.fkey == sk.F_ADDR:
                self._pd["addr"] = p.text().strip().upper()
            elif p.fkey == sk.F_LQI:
                self._pd["lqi"] = p.value

    def _pick(self):
        """Keep the best complete EPANDESC of this scan."""
        d = self._pd
        if d and len(d) == 4 and d["channel"] >= 0 and d["pan_id"] >= 0 and len(d["addr"]) == 16:
            if self._found is None or d["lqi"] > self._found["lqi"]:
                self._found = d

    def _on_event(self, code, param):
        if code == 0x21:
            self._ev21 = param
        elif code == 0x22:
            self._pick()
            self._scan_done = True
        elif code == 0x25:
            self._auth = code
            if self._paused & _P_REAUTH:
                self._paused &= ~_P_REAUTH
                self._show()
        elif code == 0x24:
            self._auth = code
            if self._joined:
                self._held = False
                self._lost = "re-authentication failed"
        elif code == 0x26 or code == 0x27 or code == 0x28:
            self._held = False
            if self._joined:
                self._lost = "session ended (EVENT %X)" % code
        elif code == 0x29:
            if self._joined:
                self._paused |= _P_REAUTH
                self._show()
        elif code == 0x32:
            self._paused |= _P_RATE
            self._show()
        elif code == 0x33 and self._paused & _P_RATE:
            self._paused &= ~_P_RATE
            self._show()

    def _on_udp(self, p):
        # only the meter, only ECHONET Lite; PANA (02CC) during SKJOIN says the meter answers
        if self._ip is None or not p.tok_eq(1, self._ip):
            return
        port = p.tok_hex(3)
        if port == _PORT_PANA:
            self._pana += 1
            return
        if port != sk.PORT_ECHONET or p.tok_hex(4) != sk.PORT_ECHONET:
            return
        try:
            f = self._frame.parse(p.payload)
            esv = f.esv
            if esv == INF or esv == INFC:
                if f.seoj == METER and f.find(0xE7) < 0:  # pushes feed the day's baseline only
                    self._tracker.apply(f)
                if esv == INFC:
                    mv = self._infc_bld.infc_res(f)
                    self._infc[:len(mv)] = mv
                    self._infc_n = len(mv)
            elif f.seoj == METER and f.tid == self._want and \
                    (esv == GET_RES or esv == GET_SNA or esv == SET_RES or esv == SETC_SNA):
                self._want = -1
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
        except (EchonetError, IndexError) as e:
            self._say("bad frame from the meter: %s" % e)
