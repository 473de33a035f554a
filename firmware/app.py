"""The application: one asyncio loop joining the B-route session, the screen, the
buttons and the watchdog.

Recovery is layered, cheapest first: the session recovers from protocol trouble
by itself; the app restarts a session that stops producing readings; a crash of
the whole app is shown on the screen and retried; only repeated crashes, or a
loop that stops making progress (the watchdog is then no longer fed), reset
the board, and a reset that did not help is not repeated. Start-up (config,
board, display, UI) never crashes: what fails there is shown on the screen, as
it would fail the same way after any number of resets.
"""
import asyncio
import gc
import sys
from time import sleep_ms, ticks_ms, ticks_diff
from micropython import const

from broute import bstate
from broute import scancache
from buttons import Button
from broute.compat import Clock, drop
from broute.session import NO_MODULE, Session

WDT_MS = const(60000)       # hardware watchdog timeout: far above any single step
_FEED_MS = const(2000)
_UI_MS = const(250)
_WATCH_MS = const(5000)     # how often the link supervisor looks at the session
_STALL_MIN_MS = 300000      # connected but no reading for this long: restart the session
_STALL_POLLS = const(10)
_RESTARTS_MAX = const(3)    # session restarts without a reading before the watchdog may act
_CRASH_PAUSE_MS = 30000
CRASH_FORGET_MS = const(600000)  # a run this long starts the crash count afresh (crash.py)
SCAN_CACHE = "scan.json"

class Device:
    """The real stick: board wiring, hardware watchdog, reset, WiFi clock."""

    def __init__(self):
        self._wdt = None
        self._timer = None

    def board(self, kind, rx, tx=0, buzzer=True):
        import board
        return board.create("plus" if kind == "m5stickc-plus" else "stickc", rx, tx, buzzer)

    def watchdog(self, ms):
        import machine
        self._wdt = machine.WDT(timeout=ms)
        return self._wdt

    def park(self):
        """After Ctrl-C: a timer feeds the watchdog so the REPL stays usable (see
        docs/flashing.md); a soft reset stops the timer and the watchdog fires."""
        if self._wdt and not self._timer:
            import machine
            self._timer = machine.Timer(0)
            self._timer.init(period=WDT_MS // 4, callback=lambda t: self._wdt.feed())

    def reset(self):
        import machine
        machine.reset()

    ntp = True  # net.py asks NTP (and sets the RTC); the emulated board's clock is the PC's


class App:
    def __init__(self, platform, path=None, log=print, clock=None):
        self.platform = platform
        self.path = path
        self.log = log
        self.clock = clock or Clock()
        self.board = None
        self.model = None
        self.ui = None
        self.cfg = None
        self.wdt = None
        self.session = None
        self.beats = 0            # UI loop turns: the watchdog's proof of progress
        self.stuck = False        # set: stop feeding, let the watchdog reset
        self.restarts = 0         # session restarts since the last reading
        self.ui_errors = 0
        self._info = ()
        self.net = None           # net.Net when config.json has wifi
        self.pub = None           # mqtt.Publisher when it has mqtt too
        self.tariff = None        # a loaded tariff (broute.tariff) when it has one
        self.web = None           # websrc.Source when it has http

    # --- start-up ---------------------------------------------------------------------
    def _setup(self):
        """Config, board, model, UI, once per power-up (startup.py; a retried crash keeps
        what was made). Never raises. False: no UI to run."""
        if self.ui is not None:
            return True
        import startup
        try:
            return startup.setup(self)
        finally:
            sys.modules.pop("startup", None)  # start-up code is not kept on the heap

    async def run(self):
        if not self._setup():
            while True:  # a reset would fail the same way: stay, the log says why
                await asyncio.sleep(3600)
        self.ui.update(self.clock.ticks_ms())
        if self.wdt is None:
            self.wdt = self.platform.watchdog(WDT_MS)  # armed only now that start-up is done
        ui = self.ui
        asyncio.create_task(self._draw())
        asyncio.create_task(Button(self.board.pin_a, ui.next_page, ui.step_brightness).run())
        asyncio.create_task(Button(self.board.pin_b, ui.flip).run())
        cfg = self.cfg
        if cfg:
            asyncio.create_task(self._link())
            if cfg.wifi:
                self._net(cfg)
        await self._feed()

    def _net(self, cfg):
        """WiFi (and MQTT) tasks; a second run after a crash keeps their objects. net.py is
        imported only when config.json has wifi (docs/hardware.md section 4)."""
        if self.net is None:
            import net
            net.setup(self, cfg)
        asyncio.create_task(self.net.run())
        if self.pub:
            asyncio.create_task(self.pub.run())
        http = cfg.http
        if http is not None:  # websrc and the server are imported only then (docs/http.md)
            import websrc
            if self.web is None:
                self.web = websrc.Source(self, cfg.utc_offset_minutes)
                if self.session:
                    self.web.attach(self.session)
            asyncio.create_task(websrc.run(self, self.web, http.get("port", 80)))

    # --- tasks --------------------------------------------------------------------------
    async def _draw(self):
        """The UI on the session's clock: a reading's age is now less its Reading.ticks."""
        while True:
            try:
                self.ui.update(self.clock.ticks_ms())
            except Exception as e:  # a drawing bug must not stop the meter link
                self.ui_errors += 1
                if self.ui_errors < 4:
                    self.log("ui error:")
                    sys.print_exception(e)
            self.beats += 1
            await asyncio.sleep_ms(_UI_MS)

    async def _feed(self):
        """Feed only while the UI loop turns and the link is not stuck."""
        seen = -1
        n = 0
        while True:
            await asyncio.sleep_ms(_FEED_MS)
            if self.beats != seen and not self.stuck:
                self.wdt.feed()
            seen = self.beats
            n += 1
            if n % 5 == 0:
                gc.collect()  # in a quiet moment, not in the middle of a reading
            if n == CRASH_FORGET_MS // _FEED_MS and self.ui.resets:
                self.ui.resets = 0  # a long run: a crash reset may help again
                self.ui.save()

    async def _link(self):
        """Run the session; restart it when connected but silent for too long."""
        cfg = self.cfg
        from broute import detect  # the module's wiring and family, once; dropped after use
        try:
            reader, writer, driver = await detect.on_board(
                self.board, cfg.module, self.clock, self.log,
                lambda: self.model.set_error(*_help(NO_MODULE)))  # while none answers
        finally:
            drop("broute.detect")
        del detect  # this frame lives for ever: its local would keep the module
        cache = scancache.ScanCache(SCAN_CACHE) if cfg.scan_cache else scancache.MemoryCache()
        poll_ms = cfg.poll_seconds * 1000
        stall_ms = max(_STALL_MIN_MS, _STALL_POLLS * poll_ms)
        while True:
            s = Session(reader, writer, cfg.broute_id, cfg.broute_password, cache,
                        self.clock, self.log, poll_ms=poll_ms, contract_a=cfg.contract_amperes,
                        driver=driver, reading_day=cfg.reading_day)
            s.listener = self._on_session
            self.session = s
            if self.web:
                self.web.attach(s)
            task = asyncio.create_task(s.run())
            since = self.clock.ticks_ms()
            while not task.done():
                await asyncio.sleep_ms(_WATCH_MS)
                now = self.clock.ticks_ms()
                last = self.model.ticks  # the last reading's, of any session so far
                ref = since if last is None else later(last, since)
                if s.state == bstate.CONNECTED and ticks_diff(now, ref) > stall_ms:
                    self.log("no reading for %d s while connected: restarting the session"
                             % (stall_ms // 1000))
                    task.cancel()
                    break
            else:
                try:
                    await task
                except Exception as e:  # a session bug: log it and start a new session
                    self.log("session crashed:")
                    sys.print_exception(e)
            self.restarts += 1
            if self.restarts >= _RESTARTS_MAX and not self.stuck:
                self.log("%d session restarts without a reading: leaving it to the watchdog"
                         % self.restarts)
                self.stuck = True
            await asyncio.sleep_ms(1000)

    def _on_session(self, kind):
        """Session listener (called synchronously): copy into the view model."""
        s, m = self.session, self.model
        if kind == "reading":
            r = s.reading
            m.set_energy(r.today_kwh, r.energy_kwh, r.energy_rev_kwh, r.month_kwh)
            t = r.time
            if t is not None:
                m.set_clock(t, r.ticks, False)  # the meter's clock, unless NTP's is fresh
            if self.tariff:
                from broute import tariff
                m.today_yen, m.month_yen = tariff.costs(self.tariff, r)
            self.restarts = 0
            if self.web:
                self.web.readings += 1
            m.set_reading(r.power_w, r.current_r_da, r.current_t_da, r.ticks)
            if self.pub:
                self.pub.fresh = True  # published by its task: never from inside the session
            return
        st = s.state
        m.status = st
        m.rssi_dbm = s.rssi_dbm()
        m.scan_duration = s.scan_duration
        if st == bstate.ERROR:
            title, advice = _help(s.reason)
            m.set_error(title, advice)
            return
        if st == bstate.CONNECTED and m.error_title:
            m.set_error(None, "")  # an error screen stays up until the link works again
        if s.version and m.info is self._info:
            m.info = self._info + (("Module", "%s %s" % (s.dialect, s.version)),)
        m.changed()


def later(a, b):
    """The later of two tick values."""
    return a if ticks_diff(a, b) > 0 else b


def _help(reason):
    """(screen title, what to do) for a session reason (advice.py, loaded only for this)."""
    import advice
    try:
        return advice.HELP.get(reason) or advice.other(reason)
    finally:
        sys.modules.pop("advice", None)  # error texts are not kept on the heap


def _short(e):
    """An exception in one line of at most 60 characters (the screen's, the log's)."""
    text = "%s: %s" % (type(e).__name__, e)
    return text[:60]


def main(platform=None, path=None, log=print, clock=None):
    """Run forever; a crash is crash.py's to count, show and act on; retry after a pause."""
    app = App(platform or Device(), path, log, clock)
    crashes = 0
    while True:
        started = ticks_ms()
        try:
            asyncio.run(app.run())
        except KeyboardInterrupt:
            app.platform.park()
            raise
        except Exception as e:
            try:
                import crash  # loaded per crash, dropped after
                crashes = crash.handle(app, e, crashes, started)
            except Exception:  # no heap even for that (MemoryError): retry, never reset
                log("app crashed")
            drop("crash")
            if crashes is None:
                return  # the board was reset
            asyncio.new_event_loop()
            ms = _CRASH_PAUSE_MS
            while ms > 0:  # the loop has ended: feed the watchdog, if armed, while waiting
                if app.wdt:
                    app.wdt.feed()
                sleep_ms(min(_FEED_MS, ms))
                ms -= _FEED_MS
        asyncio.new_event_loop()
