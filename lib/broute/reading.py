"""The latest meter reading, and the bookkeeping that turns meter frames into it.

`Reading` is updated in place so the UI can hold one reference forever. `Tracker` applies
the properties of a Get_Res or INF frame (sans-I/O): scale factors D3/E1/D7, the Get
property map, and the 00:00 baseline for today's energy from E2 (day 0) or EA (the 00:00
value). A frame that contradicts itself (`implausible`) or a counter that goes backwards is
a corrupted frame: nothing of it is applied.
"""
from . import meter
from .compat import const

_E7 = const(0xE7)
_E8 = const(0xE8)
_E0 = const(0xE0)
_E3 = const(0xE3)
_E2 = const(0xE2)
_EA = const(0xEA)
_D3 = const(0xD3)
_D7 = const(0xD7)
_E1 = const(0xE1)
_9F = const(0x9F)

# Plausibility of one reading (single-phase 3-wire: R and T are 100 V each to neutral; two-wire
# has R only). Integer arithmetic only: floats are heap objects on the board.
_V_HI = const(110)      # V: the legal supply is 101 V +-6 V, plus margin
_V_LO = const(90)       # V
_PF_DIV = const(4)      # watts at least 1/4 of volts x amperes: a whole house stays above power factor 0.25
_SLACK_W = const(200)   # W: 0.1 A rounding per phase, E7 and E8 measured a moment apart
_CAP_A = const(240)     # A per phase without a contract: twice the largest contract, 120 A
_CONTRACT_X = const(3)  # x contract_a per phase: a breaker holds 2x for a minute (sim over-limit: 2.04x)


class Reading:
    """Values are None until the meter has given one (or when it reports no data). The names
    (and units) are the firmware's from here to the screen (firmware/model.py)."""

    def __init__(self):
        self.power_w = None        # W, signed (negative when exporting)
        self.current_r_da = None   # 0.1 A, R phase
        self.current_t_da = None   # 0.1 A, T phase (None on single-phase two-wire service)
        self.energy_kwh = None     # cumulative, normal direction
        self.energy_rev_kwh = None  # cumulative, reverse direction
        self.today_kwh = None      # since 00:00 (meter time)
        self.seq = 0               # incremented on every new reading
        self.ticks = 0             # its one time stamp: the session clock's ticks_ms()


def implausible(power_w, r_da, t_da, contract_a=None):
    """Why these values cannot come from one true reading (a corrupted frame), or None.

    `power_w` in W, `r_da`/`t_da` in 0.1 A, any of them None when unknown. Currents are signed
    (reverse flow negative, ECHONET Appendix 3.3.25 E8), so phases of opposite sign may cancel
    in the watts and only the upper bound applies then.
    """
    cap = 10 * (_CONTRACT_X * contract_a if contract_a else _CAP_A)  # 0.1 A
    if (r_da is not None and abs(r_da) > cap) or (t_da is not None and abs(t_da) > cap):
        return "a phase current beyond %d A" % (cap // 10)
    if power_w is None:
        return None
    w = abs(power_w)
    if w * 10 > _V_HI * 2 * cap:
        return "power beyond what %d A per phase carry" % (cap // 10)
    if r_da is None:
        return None
    t = t_da or 0
    a = abs(r_da) + abs(t)
    if w * 10 > _V_HI * a + _SLACK_W * 10:
        return "power above what the currents carry"
    if r_da * t >= 0 and (w + _SLACK_W) * 10 * _PF_DIV < _V_LO * a:
        return "power far below what the currents carry"
    return None


def _num(v):
    """A meter sentinel (no data, overflow, underflow) is not a number to show."""
    return None if v is meter.NO_DATA or v is meter.OVERFLOW or v is meter.UNDERFLOW else v


class Tracker:
    """Meter facts learnt so far; `apply(frame)` folds one frame into the Reading."""

    def __init__(self, reading):
        self.reading = reading
        self.contract_a = None  # the breaker size, for `implausible`
        self.why = None        # why the last frame was dropped (None: it was applied)
        self.known = False     # the scale (E1) and the property map came
        self.coefficient = 1   # D3 is optional: Get_SNA (PDC 0) means 1
        self.unit = None       # E1, kWh per count
        self.digits = 8        # D7
        self.get_map = None    # 9F, bytes of EPCs; None = unknown (assume all)
        self._e0 = None        # last E0 raw count
        self._e3 = None        # last E3 raw count
        self._back = [None, None]  # an E0 / E3 below the accepted one, awaiting a second opinion
        self._w = self._r = self._t = self._n0 = self._n3 = None  # E7 E8 E0 E3 of the frame
        self._stale = False    # a kWh figure needs computing again (floats only on change)
        self._base = None      # E0 raw count at 00:00 today
        self._base_date = None  # (y, m, d) of that baseline, from EA
        self._odd = None       # an EA date not taken yet, awaiting a second opinion
        self.need_history = True   # ask E2 (and EA) for the baseline
        self.need_day0 = False     # E2 came for another day: SetC E5=0 first
        self.days = 0              # meter days seen to begin (EA dates)

    def supports(self, epc):
        return self.get_map is None or epc in self.get_map

    def apply(self, f):
        """Fold every property of frame `f`; True when it carried E7 (a new reading).

        False with `why` set when the frame was dropped as corrupted: then nothing changed.
        """
        self.why = self._check(f)
        if self.why:
            return False
        r = self.reading
        fresh = False
        for i in range(f.opc):
            epc = f.epc(i)
            if not f.pdc(i):  # refused in a *_SNA answer
                if epc == _E1:
                    self.known = True
                elif epc == _E7:
                    r.power_w = None
                    fresh = True
                elif epc == _E8:
                    r.current_r_da = r.current_t_da = None
                continue
            if epc == _E7:  # E7, E8, E0 and E3 were decoded by _check
                r.power_w = self._w
                fresh = True
            elif epc == _E8:
                r.current_r_da = self._r
                r.current_t_da = self._t
            elif epc == _E0:
                if self._n0 != self._e0:
                    self._e0 = self._n0
                    self._stale = True
            elif epc == _E3:
                if self._n3 != self._e3:
                    self._e3 = self._n3
                    self._stale = True
            else:
                self._other(epc, f.edt(i))
        if self._stale:
            self._stale = False
            r.energy_kwh = self._kwh(self._e0)
            r.energy_rev_kwh = self._kwh(self._e3)
            self._today()
        return fresh

    def _other(self, epc, edt):
        if epc == _D3:
            self.coefficient = meter.coefficient(edt)
            self._stale = True
        elif epc == _E1:
            self.unit = meter.unit_kwh(edt)
            self.known = True
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

    def _check(self, f):
        """Decode E7, E8, E0 and E3; why frame `f` is corrupted (see `implausible`; E0/E3
        going backwards), or None."""
        w = r = t = None
        for i in range(f.opc):
            epc = f.epc(i)
            if not f.pdc(i):
                continue
            if epc == _E7:
                w = _num(meter.power_w(f.edt(i)))
            elif epc == _E8:
                edt = f.edt(i)
                r = _num(meter.current_da(edt, 0))
                t = _num(meter.current_da(edt, 1))
            elif epc == _E0:
                self._n0 = _num(meter.cumulative(f.edt(i)))
            elif epc == _E3:
                self._n3 = _num(meter.cumulative(f.edt(i)))
        self._w, self._r, self._t = w, r, t
        why = implausible(w, r, t, self.contract_a)
        if why:
            return "%s (%s W, R %s, T %s x 0.1 A)" % (why, w, r, t)
        for i in range(f.opc):
            epc = f.epc(i)
            if (epc == _E0 or epc == _E3) and f.pdc(i):
                k = 0 if epc == _E0 else 1
                if self._backwards(k, self._n0 if k == 0 else self._n3):
                    return "cumulative energy %02X went backwards" % epc
        return None

    def _backwards(self, k, v):
        """Counter k (0: E0, 1: E3) steps back from the accepted value, other than a wrap at
        10 ** D7. Two backward values in a row that agree win: the accepted one was corrupted."""
        old = self._e0 if k == 0 else self._e3
        if v is None or old is None:
            return False
        half = 10 ** self.digits // 2
        if meter.counter_delta(old, v, self.digits) < half:
            self._back[k] = None
            return False
        b = self._back[k]
        self._back[k] = v
        if b is not None and meter.counter_delta(b, v, self.digits) < half:
            self._back[k] = None
            return False
        return True

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
        """EA (pushed, or asked with the energy): a new date begins a new day. A corrupted EA
        must neither count a day nor set the baseline, so a date other than the next day, or a
        value below today's baseline, is taken only when the next EA says the same date (days
        without a link, or a wrong date taken before)."""
        y, mo, d, h, mi, s, raw = meter.fixed_time(edt)
        date = (y, mo, d)
        old = self._base_date
        if old is None:
            self._base_date = date
        elif date != old:
            y, mo, d = old  # months have 28-31 days: a 1st after the 28th is the next month's
            nxt = date == (y, mo, d + 1) or d >= 28 and date == ((y, mo + 1, 1) if mo < 12 else (y + 1, 1, 1))
            # the new day's energy is not below today's baseline (modulo the counter's wrap)
            up = raw is meter.NO_DATA or self._base is None or \
                meter.counter_delta(self._base, raw, self.digits) <= 10 ** self.digits // 2
            if not (nxt and up) and self._odd != date:
                self._odd = date
                return
            self._odd = None
            self._base_date = date
            self.days += 1
            self._stale = True
            if h == 0 and mi == 0 and raw is not meter.NO_DATA:
                self._base = raw  # the 00:00 value is today's baseline itself
                self.need_history = self.need_day0 = False
            else:
                self._base = None  # yesterday's baseline: unknown until E2 answers
                self.need_history = True

    def _today(self):
        if self._base is None or self._e0 is None or self.unit is None:
            self.reading.today_kwh = None
            return
        delta = meter.counter_delta(self._base, self._e0, self.digits)
        if delta > 10 ** self.digits // 2:  # E0 read before today's 00:00 value: not yet known
            self.reading.today_kwh = None
            return
        self.reading.today_kwh = meter.kwh(delta, self.coefficient, self.unit)
