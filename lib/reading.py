"""The latest meter reading, and the bookkeeping that turns meter frames into it.

`Reading` is updated in place so the UI can hold one reference forever. `Tracker` applies
the properties of a Get_Res or INF frame (sans-I/O): scale factors D3/E1/D7, the Get
property map, and the 00:00 baseline for today's energy from E2 (day 0) or the EA push.
"""
import meter

_E7 = 0xE7
_E8 = 0xE8
_E0 = 0xE0
_E3 = 0xE3
_E2 = 0xE2
_EA = 0xEA
_D3 = 0xD3
_D7 = 0xD7
_E1 = 0xE1
_9F = 0x9F


class Reading:
    """Values are None until the meter has given one (or when it reports no data)."""

    def __init__(self):
        self.power_w = None        # W, signed (negative when exporting)
        self.current_r_da = None   # 0.1 A, R phase
        self.current_t_da = None   # 0.1 A, T phase (None on single-phase two-wire service)
        self.energy_kwh = None     # cumulative, normal direction
        self.energy_rev_kwh = None  # cumulative, reverse direction
        self.today_kwh = None      # since 00:00 (meter time)
        self.seq = 0               # incremented on every new reading
        self.ticks = 0             # time.ticks_ms() of the reading

    def as_dict(self):
        """Plain values for JSON output (amperes as floats)."""
        return {
            "power_w": self.power_w,
            "current_r_a": None if self.current_r_da is None else self.current_r_da / 10,
            "current_t_a": None if self.current_t_da is None else self.current_t_da / 10,
            "energy_kwh": self.energy_kwh,
            "energy_rev_kwh": self.energy_rev_kwh,
            "today_kwh": self.today_kwh,
        }


def _num(v):
    """A meter sentinel (no data, overflow, underflow) is not a number to show."""
    return None if v is meter.NO_DATA or v is meter.OVERFLOW or v is meter.UNDERFLOW else v


class Tracker:
    """Meter facts learnt so far; `apply(frame)` folds one frame into the Reading."""

    def __init__(self, reading):
        self.reading = reading
        self.coefficient = 1   # D3 is optional: Get_SNA (PDC 0) means 1
        self.unit = None       # E1, kWh per count
        self.digits = 8        # D7
        self.get_map = None    # 9F, bytes of EPCs; None = unknown (assume all)
        self._e0 = None        # last E0 raw count
        self._e3 = None        # last E3 raw count
        self._stale = False    # a kWh figure needs computing again (floats only on change)
        self._base = None      # E0 raw count at 00:00 today
        self._base_date = None  # (y, m, d) of that baseline, from EA
        self.need_history = True   # ask E2 (and EA) for the baseline
        self.need_day0 = False     # E2 came for another day: SetC E5=0 first

    def supports(self, epc):
        return self.get_map is None or epc in self.get_map

    def apply(self, f):
        """Fold every property of frame `f`; True when it carried E7 (a new reading)."""
        r = self.reading
        fresh = False
        for i in range(f.opc):
            epc = f.epc(i)
            if not f.pdc(i):  # refused in a *_SNA answer
                if epc == _E7:
                    r.power_w = None
                    fresh = True
                elif epc == _E8:
                    r.current_r_da = r.current_t_da = None
                continue
            edt = f.edt(i)
            if epc == _E7:
                r.power_w = _num(meter.power_w(edt))
                fresh = True
            elif epc == _E8:
                r.current_r_da = _num(meter.current_da(edt, 0))
                r.current_t_da = _num(meter.current_da(edt, 1))
            elif epc == _E0:
                v = _num(meter.cumulative(edt))
                if v != self._e0:
                    self._e0 = v
                    self._stale = True
            elif epc == _E3:
                v = _num(meter.cumulative(edt))
                if v != self._e3:
                    self._e3 = v
                    self._stale = True
            elif epc == _D3:
                self.coefficient = meter.coefficient(edt)
                self._stale = True
            elif epc == _E1:
                self.unit = meter.unit_kwh(edt)
                self._stale = True
            elif epc == _D7:
                self.digits = meter.digits(edt)
                self._stale = True
            elif epc == _9F:
                self.get_map = meter.property_map(edt)
            elif epc == _E2:
                self._history(edt)
            elif epc == _EA:
                self._fixed(edt)
        if self._stale:
            self._stale = False
            r.energy_kwh = self._kwh(self._e0)
            r.energy_rev_kwh = self._kwh(self._e3)
            self._today()
        return fresh

    def _kwh(self, raw):
        if raw is None or self.unit is None:
            return None
        return meter.kwh(raw, self.coefficient, self.unit)

    def _history(self, edt):
        day, values = meter.history(edt)
        if day:
            self.need_day0 = True
            return
        self.need_history = self.need_day0 = False
        self._base = _num(values[0])
        self._stale = True

    def _fixed(self, edt):
        y, mo, d, h, mi, s, raw = meter.fixed_time(edt)
        date = (y, mo, d)
        if self._base_date is None:
            self._base_date = date
        elif date != self._base_date:
            self._base_date = date
            if h == 0 and mi == 0 and raw is not meter.NO_DATA:
                self._base = raw  # the 00:00 push is today's baseline itself
                self._stale = True
            else:
                self.need_history = True  # missed midnight: ask E2 again

    def _today(self):
        if self._base is None or self._e0 is None or self.unit is None:
            self.reading.today_kwh = None
            return
        delta = meter.counter_delta(self._base, self._e0, self.digits)
        self.reading.today_kwh = meter.kwh(delta, self.coefficient, self.unit)
