"""The view model: everything the screens draw, filled in by the app.

The UI never talks to the B-route session; the app copies what it needs here
and calls changed(). The link state is the session's own (bstate), and each
figure keeps the name it has in the session's Reading (lib/reading.py), its
time stamp too (`ticks`, the session's clock). History is the readings' Minutes
(lib/broute/reading.py), a pre-allocated ring of one-minute average watts.
"""
from time import ticks_diff
from micropython import const
from broute.bstate import STARTING, ERROR
from broute.bstate import CONNECTED  # noqa: F401  unused here: tools/bench/bench_ui.py and tools/bench/mem32 set it
from broute.reading import Minutes, NO_VALUE, MINUTES  # noqa: F401  model.NO_VALUE, model.MINUTES: the pages'
_NTP_TRUST_MS = const(21600000)  # NTP's time beats the meter's this long (docs/mqtt.md section 4)


class Model(Minutes):
    def __init__(self, contract_a=30, warn_percent=80):
        Minutes.__init__(self)
        self.contract_a = contract_a  # breaker rating: the warning scale
        self.warn_percent = warn_percent  # amber from this share of contract_a (config warn_ratio)
        self.power_w = None           # W, negative = export
        self.current_r_da = None      # phase R current, 0.1 A
        self.current_t_da = None      # phase T current, 0.1 A
        # The Reading's kWh figures in tenths (ints: drawing them allocates no floats).
        self.today_kwh10 = None       # since 00:00 (meter time)
        self.energy_kwh10 = None      # cumulative, normal direction (bought)
        self.energy_rev_kwh10 = None  # cumulative, reverse direction (sold)
        self.ticks = None             # the reading's time (Reading.ticks); None: none yet
        self.status = STARTING        # the session's state, a bstate value
        self.scan_duration = 0
        self.rssi_dbm = None          # the link's RSSI (Session.rssi_dbm)
        self.wifi = None              # None: not configured, else connected bool
        self.mqtt = None              # None: not configured, else connected bool
        self.net_why = ""             # how MQTT goes, in words (the info screen)
        self.wifi_why = "joining"     # why WiFi is not joined, in words
        self.ip = None                # the stick's address once joined
        self.month_kwh10 = None       # since the billing month began (Reading.month_kwh)
        self.today_yen = None         # costs (broute.tariff.costs), ints
        self.month_yen = None
        self._clock = None            # [local stamp, at ticks, ticks of NTP's setting or None]
        self.error_title = None       # set: the error screen replaces all others
        self.error_advice = ""        # what the user should do
        self.info = ()                # device info: (label, value) pairs, no secrets
        self.version = 0              # bumped by changed(); the UI redraws on change

    def changed(self):
        self.version += 1

    def set_reading(self, power_w, current_r_da, current_t_da, ticks):
        """As the Reading has them; `ticks` its time stamp (Reading.ticks)."""
        self.power_w = power_w
        self.current_r_da = current_r_da
        self.current_t_da = current_t_da
        self.ticks = ticks
        if power_w is not None:
            self.add_power(power_w, ticks)
        self.changed()

    def set_energy(self, today_kwh, energy_kwh, energy_rev_kwh, month_kwh=None):
        """kWh as floats or None, as the Reading has them."""
        self.today_kwh10 = _tenths(today_kwh)
        self.energy_kwh10 = _tenths(energy_kwh)
        self.energy_rev_kwh10 = _tenths(energy_rev_kwh)
        self.month_kwh10 = _tenths(month_kwh)
        self.changed()

    def set_clock(self, stamp, ticks, ntp):
        """Local seconds since 2000-01-01 (Reading.time's scale) at `ticks`; the meter's
        clock (ntp False) is taken only while NTP's is older than six hours or absent."""
        c = self._clock
        if c is None:
            self._clock = [stamp, ticks, ticks if ntp else None]
        elif ntp or c[2] is None or ticks_diff(ticks, c[2]) > _NTP_TRUST_MS:
            c[0], c[1] = stamp, ticks
            if ntp:
                c[2] = ticks

    def clock(self, ticks):
        """The local stamp at `ticks` (the app's clock), or None while the time is unknown."""
        c = self._clock
        return None if c is None else c[0] + ticks_diff(ticks, c[1]) // 1000

    def set_error(self, title, advice):
        """title None clears the error screen."""
        self.error_title = title
        self.error_advice = advice
        self.status = ERROR if title else self.status
        self.changed()

    def age_s(self, now_ms):
        """Seconds since the reading; now_ms from the same clock as its ticks."""
        if self.ticks is None:
            return None
        return ticks_diff(now_ms, self.ticks) // 1000

    def max_current_da(self):
        """The larger phase current, 0.1 A, or None."""
        a, b = self.current_r_da, self.current_t_da
        if a is None:
            return b
        return a if b is None or a > b else b


def _tenths(kwh):
    return None if kwh is None else int(kwh * 10 + 0.5)
