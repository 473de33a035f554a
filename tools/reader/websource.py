"""broute serve's figures for the web server (broute.httpd, with --http): the "source" whose
protocol broute.web's docstring gives, built from the Session and its readings, as the stick's
firmware/websrc.py builds it from the app.

The clock is the session's (broute.compat.Clock, sped up by --time-scale in tests): readings'
ticks, their age, the uptime and the minutes of the last hour are all on it.
"""
import os
import time

import broute
from broute import tariff
from broute.halfhours import HalfHours
from broute.reading import Minutes  # the stick's history ring (firmware/model.py's Model is one)

PAGE = os.path.join(os.path.dirname(broute.__file__), "page.html")  # shared with the stick (pyproject.toml)
class Source:
    """broute.web's source over broute serve's one Session (`attach` it before it runs;
    `reading()` on each fresh reading)."""

    def __init__(self, clock, settings, contract_a, warn_percent):
        self.clock = clock
        self.tariff = settings["tariff"]
        self.offset_min = settings["offset"]
        self.contract_a = contract_a
        self.warn_percent = warn_percent
        self.session = None
        self.readings = 0
        self.past = [0, 0, 0, 0]   # one session for the whole run: none ended before it
        self.halves = HalfHours()  # fed by the session's Tracker (broute.reading)
        self.minutes = Minutes()
        self._t0 = time.monotonic()

    def attach(self, session):
        self.session = session
        session.reading.halves = self.halves

    @property
    def reading(self):
        return None if self.session is None else self.session.reading

    def fresh(self):
        """A fresh reading came (the session's listener): counted, and its watts in the minute."""
        r = self.session.reading
        self.readings += 1
        if r.power_w is not None:
            self.minutes.add_power(r.power_w, r.ticks)

    def now_ms(self):
        return self.clock.ticks_ms()

    def uptime_s(self):
        """Seconds of the session clock since start (monotonic: no ticks to wrap on a PC)."""
        return int((time.monotonic() - self._t0) * self.clock.scale)

    def costs(self):
        if not self.tariff or not self.readings:
            return None, None
        return tariff.costs(self.tariff, self.session.reading)

    def heap(self):
        return None  # the stick's free heap: no meaning on a PC, left out of /metrics

    def minute(self, age):
        return self.minutes.minute(age, self.now_ms())

    def half_hour(self, day, slot):
        return self.halves.kwh(day, slot)
