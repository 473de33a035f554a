"""The view model: everything the screens draw, filled in by the app.

The UI never talks to the B-route session; the app copies what it needs here
and calls changed(). History is a pre-allocated ring of one-minute average
watts, so a day of readings allocates nothing.
"""
from array import array
from time import ticks_add, ticks_diff
from micropython import const

# Link status kinds (the app maps the session's states onto these).
STARTING = const(0)
SCANNING = const(1)
JOINING = const(2)
CONNECTED = const(3)
REAUTH = const(4)
RATE_LIMITED = const(5)
ERROR = const(6)

NO_VALUE = const(-0x40000000)  # an empty history minute
MINUTES = const(60)
_MINUTE_MS = const(60000)


class Model:
    def __init__(self, contract_a=30, warn_percent=80):
        self.contract_a = contract_a  # breaker rating: the warning scale
        self.warn_percent = warn_percent  # amber from this share of contract_a (config warn_ratio)
        self.watts = None             # instantaneous power, negative = export
        self.amps_r10 = None          # phase R current, deci-amperes
        self.amps_t10 = None          # phase T current, deci-amperes
        # Energy in tenths of a kWh (ints: drawing them allocates no floats).
        self.today_kwh10 = None       # since local midnight
        self.energy_kwh10 = None      # cumulative import (meter total)
        self.energy_rev_kwh10 = None  # cumulative export
        self.reading_ms = None        # ticks_ms() when the reading arrived
        self.status = STARTING
        self.scan_duration = 0
        self.rssi_dbm = None
        self.lqi = None
        self.wifi = None              # None: not configured, else connected bool
        self.error_title = None       # set: the error screen replaces all others
        self.error_advice = ""        # what the user should do
        self.info = ()                # device info: (label, value) pairs, no secrets
        self.history = array("l", [NO_VALUE] * MINUTES)
        self.head = 0                 # slot of the current minute
        self._slot_ms = None
        self._sum = 0
        self._count = 0
        self.version = 0              # bumped by changed(); the UI redraws on change

    def changed(self):
        self.version += 1

    def set_reading(self, watts, amps_r10, amps_t10, now_ms):
        self.watts = watts
        self.amps_r10 = amps_r10
        self.amps_t10 = amps_t10
        self.reading_ms = now_ms
        if watts is not None:
            self.add_power(watts, now_ms)
        self.changed()

    def set_energy(self, today_kwh, energy_kwh, energy_rev_kwh):
        """kWh as floats or None, as the session gives them."""
        self.today_kwh10 = _tenths(today_kwh)
        self.energy_kwh10 = _tenths(energy_kwh)
        self.energy_rev_kwh10 = _tenths(energy_rev_kwh)
        self.changed()

    def set_error(self, title, advice):
        """title None clears the error screen."""
        self.error_title = title
        self.error_advice = advice
        self.status = ERROR if title else self.status
        self.changed()

    def add_power(self, watts, now_ms):
        """Fold a sample into the current minute's average; skipped minutes stay empty."""
        if self._slot_ms is None:
            self._slot_ms = now_ms
        while ticks_diff(now_ms, self._slot_ms) >= _MINUTE_MS:
            self._slot_ms = ticks_add(self._slot_ms, _MINUTE_MS)
            self.head = (self.head + 1) % MINUTES
            self.history[self.head] = NO_VALUE
            self._sum = self._count = 0
        self._sum += watts
        self._count += 1
        self.history[self.head] = self._sum // self._count

    def sample(self, age):
        """The history value `age` minutes ago (0 = this minute) or NO_VALUE."""
        return self.history[(self.head - age) % MINUTES]

    def age_s(self, now_ms):
        if self.reading_ms is None:
            return None
        return ticks_diff(now_ms, self.reading_ms) // 1000

    def max_amps10(self):
        a, b = self.amps_r10, self.amps_t10
        if a is None:
            return b
        return a if b is None or a > b else b


def _tenths(kwh):
    return None if kwh is None else int(kwh * 10 + 0.5)
