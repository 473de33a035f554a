"""The stick's web server (docs/http.md): broute.httpd on the WiFi address, serving the app's
figures as broute.web's source. Imported only when config.json has http (docs/hardware.md
section 4: modules cost heap); started once WiFi is up, again when its address changes."""
import asyncio
import gc
from time import ticks_diff, ticks_add
from broute.httpd import Server
from broute.halfhours import HalfHours

PAGES = ("page.html.gz", "page.html")  # on the flash's root: deploy's (gzip) or mip's (plain)
_CHECK_MS = 5000        # how often the WiFi address is looked at


class Source:
    """broute.web's source protocol over the App: its session, model and clock."""

    def __init__(self, app, offset_min):
        self.app = app
        self.offset_min = offset_min
        self.halves = HalfHours()   # one for all sessions: yesterday's survives a restart
        self.past = [0, 0, 0, 0]    # the ended sessions' recoveries (rejoin, rescan, reset), timeouts
        self.srv = None             # the Server, kept for a crash-retried app's next run
        self.session = None
        self.reading = None
        self.readings = 0           # fresh readings since start (App._on_session counts them)
        self._t = app.clock.ticks_ms()
        self._up = 0
        m = app.model
        self.contract_a = m.contract_a
        self.warn_percent = m.warn_percent

    def attach(self, s):
        """A new session: the last one's recoveries are counted, the half hours fed by this one."""
        old = self.session
        if old is not None:
            p = self.past
            for i in range(3):
                p[i] += old.recoveries[i]
            p[3] += old.timeouts
        self.session = s
        self.reading = s.reading
        s.reading.halves = self.halves

    def now_ms(self):
        return self.app.clock.ticks_ms()

    def uptime_s(self):
        """Re-based on every call (the server's task calls it every few seconds), so the ticks'
        wrap (2**30 ms) never comes between."""
        s = ticks_diff(self.now_ms(), self._t) // 1000
        self._up += s
        self._t = ticks_add(self._t, s * 1000)
        return self._up

    def costs(self):
        m = self.app.model
        return m.today_yen, m.month_yen

    def heap(self):
        return gc.mem_free()

    def minute(self, age):
        return self.app.model.minute(age, self.now_ms())

    def half_hour(self, day, slot):
        return self.halves.kwh(day, slot)


async def run(app, src, port):
    """Serve on the WiFi address while WiFi is up; a new address, a new server."""
    srv = src.srv
    if srv is None:
        import os
        page = PAGES[1]
        try:
            os.stat(PAGES[0])
            page = PAGES[0]
        except OSError:
            pass
        srv = src.srv = Server(src, page, drop=True)  # broute.web leaves the heap between requests
    ip = None  # so the first look closes what a crashed app's last run left listening
    while True:
        m = app.model
        want = m.ip if m.wifi else None
        if want != ip:
            await srv.close()
            ip = want
            if ip:
                try:
                    await srv.start(ip, port)
                    app.log("http: serving http://%s:%d/" % (ip, port))
                except OSError as e:
                    app.log("http: cannot listen on %s:%d: %s" % (ip, port, e))
                    ip = None  # tried again at the next look
        src.uptime_s()
        await asyncio.sleep_ms(_CHECK_MS)
