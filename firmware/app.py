"""The application: one asyncio loop joining the B-route session, the screen, the
buttons and the watchdog.

Recovery is layered, cheapest first: the session recovers from protocol trouble
by itself; the app restarts a session that stops producing readings; a crash of
the whole app is shown on the screen and retried; only repeated crashes, or a
loop that stops making progress (the watchdog is then no longer fed), reset
the board.
"""
import asyncio
import gc
import sys
from time import ticks_ms, ticks_diff
from micropython import const

import bstate
import model as vm
import scancache
from buttons import Button
from compat import Clock
from session import Session, AUTH_FAILED, NOT_FOUND, NO_MODULE
from ui import Ui

WDT_MS = const(60000)       # hardware watchdog timeout: far above any single step
_FEED_MS = const(2000)
_UI_MS = const(250)
_WATCH_MS = const(5000)     # how often the link supervisor looks at the session
_STALL_MIN_MS = 300000      # connected but no reading for this long: restart the session
_STALL_POLLS = const(10)
_RESTARTS_MAX = const(3)    # session restarts without a reading before the watchdog may act
_CRASH_PAUSE_MS = 30000
_CRASHES_MAX = const(5)     # app crashes in a row before machine.reset()
_CRASH_FORGET_MS = 600000   # a run this long starts the crash count afresh
SCAN_CACHE = "scan.json"

# bstate -> model status (the screens have no separate "resetting")
_STATUS = (vm.STARTING, vm.STARTING, vm.SCANNING, vm.JOINING, vm.CONNECTED, vm.REAUTH,
           vm.RATE_LIMITED, vm.ERROR)

# Session reasons that need a person: (screen title, what to do)
_HELP = {
    AUTH_FAILED: ("Wrong B-route login", "The meter refused the ID or password. Check broute_id "
                  "and broute_password in config.json. Still retrying."),
    NOT_FOUND: ("No meter found", "Move the stick closer to the meter or a window. "
                "Still searching."),
    NO_MODULE: ("Wi-SUN HAT silent", "Push the HAT in firmly. Old HAT rev0.1: set uart_rx to "
                "36 in config.json. Still retrying."),
}


class Device:
    """The real stick: board wiring, hardware watchdog, reset, WiFi clock."""

    def __init__(self):
        self._wdt = None
        self._timer = None

    def board(self, kind, rx):
        import board
        return board.create("plus" if kind == "m5stickc-plus" else "stickc", rx)

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

    async def clock_sync(self, wifi, model, log):
        """Join WiFi and set the RTC by NTP, daily; never blocks more than NTP's 1 s timeout."""
        import network
        import ntptime
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        try:
            wlan.config(pm=wlan.PM_NONE)  # power saving makes G37/G39 see ghost presses
        except (AttributeError, ValueError):
            pass
        while True:
            if not wlan.isconnected():
                wlan.connect(wifi["ssid"], wifi.get("password", ""))
                for _ in range(40):
                    if wlan.isconnected():
                        break
                    await asyncio.sleep_ms(500)
            up = wlan.isconnected()
            if up != model.wifi:
                model.wifi = up
                model.changed()
            if up:
                try:
                    ntptime.settime()
                    log("clock set by NTP")
                except Exception as e:  # OSError, or a bad packet: try again later
                    log("NTP failed: %r" % e)
            else:
                log("WiFi %s not reachable" % wifi["ssid"])
            await asyncio.sleep(86400 if up else 300)


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
        self._last_reading = None
        self._info = ()

    # --- start-up ---------------------------------------------------------------------
    def _setup(self):
        """Config, board, model, UI: once per power-up (a retried crash keeps them)."""
        if self.board is not None:
            return
        self.cfg, kind, problem = read_config(self.path, self.log)
        cfg = self.cfg
        self.board = self.platform.board(kind, cfg.uart_rx if cfg else 26)
        if cfg:
            self.board.display.set_rotation(cfg.rotation)
        self.model = vm.Model(cfg.contract_amperes, int(cfg.warn_ratio * 100 + 0.5)) if cfg else vm.Model()
        self.ui = Ui(self.board, self.model)
        if cfg and self.board.load_state() is None:
            self.ui.set_brightness((cfg.brightness * 8 + 50) // 100)
        if problem:
            self.model.set_error(*problem)
        else:
            self._info = (("Contract", "%d A" % cfg.contract_amperes),
                          ("Poll", "%d s" % cfg.poll_seconds))
            self.model.info = self._info

    async def run(self):
        self._setup()
        self.ui.update()
        if self.wdt is None:
            self.wdt = self.platform.watchdog(WDT_MS)  # armed only now that start-up is done
        ui = self.ui
        asyncio.create_task(self._draw())
        asyncio.create_task(Button(self.board.pin_a, ui.next_page, ui.step_brightness).run())
        asyncio.create_task(Button(self.board.pin_b, ui.flip).run())
        if self.cfg:
            asyncio.create_task(self._link())
            if self.cfg.wifi and hasattr(self.platform, "clock_sync"):
                self.model.wifi = False
                asyncio.create_task(self.platform.clock_sync(self.cfg.wifi, self.model, self.log))
        await self._feed()

    # --- tasks --------------------------------------------------------------------------
    async def _draw(self):
        while True:
            try:
                self.ui.update()
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

    async def _link(self):
        """Run the session; restart it when connected but silent for too long."""
        cfg = self.cfg
        reader, writer = await self.board.uart_streams()
        cache = scancache.ScanCache(SCAN_CACHE) if cfg.scan_cache else scancache.MemoryCache()
        poll_ms = cfg.poll_seconds * 1000
        stall_ms = max(_STALL_MIN_MS, _STALL_POLLS * poll_ms)
        while True:
            s = Session(reader, writer, cfg.broute_id, cfg.broute_password, cache,
                        self.clock, self.log, poll_ms=poll_ms)
            s.listener = self._on_session
            self.session = s
            task = asyncio.create_task(s.run())
            since = self.clock.ticks_ms()
            while not task.done():
                await asyncio.sleep_ms(_WATCH_MS)
                now = self.clock.ticks_ms()
                last = self._last_reading
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
            m.set_energy(r.today_kwh, r.energy_kwh, r.energy_rev_kwh)
            self._last_reading = self.clock.ticks_ms()
            self.restarts = 0
            m.set_reading(r.power_w, r.current_r_da, r.current_t_da, ticks_ms())
            return
        st = s.state
        m.status = _STATUS[st] if 0 <= st < len(_STATUS) else vm.ERROR
        m.lqi = s.lqi
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

    # --- crash handling -----------------------------------------------------------------
    def show_crash(self, e, n):
        if self.model is None:
            return
        self.model.set_error("Firmware error", "%s. Restarting in %d s (%d of %d)."
                             % (_short(e), _CRASH_PAUSE_MS // 1000, n, _CRASHES_MAX))
        try:
            self.ui.update()
        except Exception:
            pass

    async def pause(self, ms):
        """Wait between crash retries, feeding the watchdog if it is armed."""
        start = ticks_ms()
        while ticks_diff(ticks_ms(), start) < ms:
            if self.wdt:
                self.wdt.feed()
            await asyncio.sleep_ms(min(_FEED_MS, ms))


def read_config(path, log):
    """(Config or None, board kind, None or the error screen's (title, text)); path None
    is config.PATH.

    The config module is needed only here: it is dropped from sys.modules so its code
    (~6 KB of the ESP32's heap, tools/mem32.py) is collected; a Config keeps none of it.
    """
    import config
    path = path or config.PATH
    try:
        cfg = config.load(path)
    except config.ConfigError as e:
        for line in e.lines():
            log("config: " + line)
        cfg, kind = None, config.peek_board(path)
        problem = ("No config file" if e.missing else "Fix config.json", str(e))
    else:
        log("config: " + config.summary(cfg))
        kind, problem = cfg.board, None
    del sys.modules["config"]
    return cfg, kind, problem


def later(a, b):
    """The later of two tick values."""
    return a if ticks_diff(a, b) > 0 else b


def _help(reason):
    if reason in _HELP:
        return _HELP[reason]
    title, _, advice = reason.partition(": ")
    return title or "B-route error", advice or "Still retrying."


def _short(e):
    text = "%s: %s" % (type(e).__name__, e)
    return text[:60]


def main(platform=None, path=None, log=print, clock=None):
    """Run forever; retry a crashed app, reset only after repeated crashes."""
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
            if ticks_diff(ticks_ms(), started) > _CRASH_FORGET_MS:
                crashes = 0  # only crashes in quick succession count towards a reset
            crashes += 1
            log("app crashed (%d of %d):" % (crashes, _CRASHES_MAX))
            sys.print_exception(e)
            if crashes >= _CRASHES_MAX:
                log("too many crashes: resetting the board")
                app.platform.reset()
                return
            app.show_crash(e, crashes)
            asyncio.new_event_loop()
            asyncio.run(app.pause(_CRASH_PAUSE_MS))
        asyncio.new_event_loop()
