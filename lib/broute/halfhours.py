"""Yesterday's and today's half hours bought, for /api/history (docs/http.md): the meter's
counter (E0, raw) at each half hour, from E2 history (day 1: yesterday, day 0: today; 48 counters
each) and the half-hourly EA (docs/protocol.md section 4). Loaded only with the web server: the
Tracker (broute.reading) feeds an instance it finds on its Reading (`reading.halves`) and knows
nothing else of it; one instance outlives the sessions (384 bytes of counters)."""
from array import array
from . import meter
from .compat import const

_NONE = const(-1)
_DAY_S = const(86400)
_HALF_S = const(1800)


class HalfHours:
    def __init__(self):
        self.c = array("l", [_NONE] * 96)  # 00:00 .. 23:30 of yesterday [0:48], of today [48:96]
        self.today = None  # the meter's date, a day number (meter.day_number)
        self.got = None    # the date on which yesterday's E2 came: asked once a day
        self.tr = None     # the Tracker that fed it last: the scale, E0 now, the meter's clock

    def move(self, day):
        """The meter's date is `day`: on the next day today's counters become yesterday's."""
        if self.today == day:
            return
        c = self.c
        for i in range(48):
            c[i] = c[48 + i] if self.today == day - 1 else _NONE
            c[48 + i] = _NONE
        self.today = day

    def put(self, i, raw):
        """Counter i (48 + half hours since today's 00:00): EA."""
        if type(raw) is int:
            self.c[i] = raw

    def history(self, back, edt):
        """E2 of the day `back` (0 today, 1 yesterday)."""
        if back > 1:
            return
        if back:
            self.got = self.today
        for i in range(48):
            self.put(48 * (1 - back) + i, meter.counter_at(edt, 2 + 4 * i))

    def kwh(self, day, slot):
        """kWh bought in half hour `slot` (0: 00:00-00:30) of today (day 0) or yesterday (1); the
        half hour now going on by the meter's clock from E0; None when not known."""
        tr = self.tr
        if tr is None or tr.unit is None:
            return None
        i = 48 * (1 - day) + slot
        a = self.c[i]
        b = self.c[i + 1] if i < 95 else _NONE
        if b == _NONE and day == 0:
            t = tr.now()
            if t is not None and t // _DAY_S == self.today and t % _DAY_S // _HALF_S == slot:
                b = _NONE if tr._e0 is None else tr._e0
        if a == _NONE or b == _NONE:
            return None
        d = meter.counter_delta(a, b, tr.digits)
        return None if d > 10 ** tr.digits // 2 else meter.kwh(d, tr.coefficient, tr.unit)
