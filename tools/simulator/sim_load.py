"""A household's electricity over time: load curve, appliances, solar, energy.

Power is piecewise constant on 10-second ticks of meter time (seconds since
the epoch, meter-local), so the live counters are the exact integral of what
E7 reports. History before the simulation started is integrated coarsely
(5-minute samples, no noise): nothing live can be compared with it.
"""
import math
import random

TICK = 10          # s: how often the instantaneous power changes
SLOT = 1800        # s: the meter's half-hour grid
VOLTS = 100        # single-phase 3-wire: each of R and T is 100 V to neutral

# typical Japanese household base load per hour of the day, W
_BASE = (250, 220, 200, 200, 200, 230, 450, 700, 600, 400, 350, 350,
         450, 350, 330, 350, 450, 700, 1000, 1100, 900, 750, 550, 350)

# name, W, phase (R, T or 2 = 200 V across both), minutes, earliest hour, latest hour, count range
_APPLIANCES = (
    ("kettle", 1250, "R", 4, 6, 22, (2, 4)),
    ("microwave", 1300, "T", 4, 7, 21, (1, 3)),
    ("rice cooker", 1000, "R", 20, 6, 19, (1, 2)),
    ("hair dryer", 1200, "T", 8, 19, 23, (0, 1)),
    ("washer", 400, "R", 45, 8, 11, (0, 1)),
    ("dryer", 1300, "T", 90, 10, 15, (0, 1)),
    ("induction hob", 2000, "2", 20, 17, 19, (1, 1)),
    ("air conditioner", 900, "2", 180, 13, 21, (0, 2)),
)


class Load:
    """Deterministic (seeded) household power as a function of meter time."""

    def __init__(self, seed=1, solar_w=0, two_wire=False, heavy=False, flat=None):
        self.seed = seed
        # (import W, export W, from hour, to hour): a house that draws the import watts except
        # from..to, when it exports; no noise, so tests can work its energy out by hand
        self.flat = flat
        self.solar_w = solar_w
        self.two_wire = two_wire
        self.heavy = heavy
        self._days = {}

    def phases(self, t):
        """(R, T) watts at meter time t; T is 0 on single-phase 2-wire."""
        tick = int(t // TICK)
        mid = tick * TICK + TICK / 2
        r, tt = self._phases(mid)
        n = 0 if self.flat else self._noise(tick)
        r += r * n if r > 0 else 0
        tt += tt * n if tt > 0 else 0
        if self.two_wire:
            return r + tt, 0.0
        return r, tt

    def power(self, t):
        r, tt = self.phases(t)
        return r + tt

    def energy(self, t0, t1):
        """(import Wh, export Wh) between t0 and t1, exact over the ticks."""
        imp = exp = 0.0
        t = t0
        while t < t1:
            end = min((int(t // TICK) + 1) * TICK, t1)
            p = self.power(t) * (end - t) / 3600.0
            if p >= 0:
                imp += p
            else:
                exp -= p
            t = end
        return imp, exp

    def coarse_slot(self, slot):
        """(import Wh, export Wh) of half-hour slot number `slot`, sampled every 5 min."""
        imp = exp = 0.0
        for i in range(6):
            r, tt = self._phases(slot * SLOT + 150 + 300 * i)
            p = (r + tt) * 300 / 3600.0
            if p >= 0:
                imp += p
            else:
                exp -= p
        return imp, exp

    def _phases(self, t):
        day = int(t // 86400)
        hour = (t % 86400) / 3600.0
        if self.flat:
            imp, exp, h0, h1 = self.flat
            p = -exp if h0 <= hour < h1 else imp
            return p / 2.0, p / 2.0
        h0 = int(hour)
        frac = hour - h0
        base = (_BASE[h0] * (1 - frac) + _BASE[(h0 + 1) % 24] * frac) * self._day(day)[0]
        r, tt = base * 0.55, base * 0.45
        for start, end, watts, phase in self._day(day)[1]:
            if start <= t < end:
                if phase == "R":
                    r += watts
                elif phase == "T":
                    tt += watts
                else:
                    r += watts / 2
                    tt += watts / 2
        if self.heavy:
            # a contract near its limit: EV charger on 200 V and a heater on R,
            # with a dryer cycling ten minutes in twenty
            r += 1200 + 1500
            tt += 1200
            if (t // 600) % 2 == 0:
                r += 600
        if self.solar_w and 6 <= hour <= 18:
            gen = self.solar_w * self._day(day)[2] * math.sin(math.pi * (hour - 6) / 12) ** 1.5
            r -= gen / 2
            tt -= gen / 2
        return r, tt

    def _day(self, day):
        """(base scale, appliance runs, sun factor) of a day, from the seed."""
        d = self._days.get(day)
        if d is None:
            rng = random.Random(self.seed * 1000003 + day)
            runs = []
            for _name, watts, phase, minutes, lo, hi, count in _APPLIANCES:
                for _ in range(rng.randint(*count)):
                    start = day * 86400 + rng.uniform(lo, hi) * 3600
                    runs.append((start, start + minutes * 60 * rng.uniform(0.7, 1.3), watts, phase))
            d = (rng.uniform(0.85, 1.15), runs, rng.uniform(0.5, 1.0))
            if len(self._days) > 256:
                self._days.clear()
            self._days[day] = d
        return d

    def _noise(self, tick):
        """-0.03 .. +0.03, a cheap integer hash of the tick so it is reproducible."""
        x = (tick * 2654435761 + self.seed * 40503) & 0xFFFFFFFF
        x ^= x >> 15
        x = (x * 2246822519) & 0xFFFFFFFF
        x ^= x >> 13
        return (x / 0xFFFFFFFF - 0.5) * 0.06


class Counters:
    """Cumulative import/export Wh from a start value, advanced in meter time.

    Live values (from `start` on) integrate `Load.energy` tick by tick and
    remember each half-hour boundary they cross; earlier boundaries are
    found by subtracting the coarse history from the start value.
    """

    def __init__(self, load, start, import_wh, export_wh):
        self.load = load
        self.start = start
        self.t = start
        self.imp = import_wh
        self.exp = export_wh
        self._base = (import_wh, export_wh)
        self._at = {}
        if start % SLOT == 0:
            self._at[start] = self._base
        self._b0 = int(start // SLOT) * SLOT
        self._back = [load.energy(self._b0, start)]

    def advance(self, t):
        while self.t < t:
            end = min((int(self.t // TICK) + 1) * TICK, t)
            i, e = self.load.energy(self.t, end)
            self.imp += i
            self.exp += e
            self.t = end
            if end % SLOT == 0:
                self._at[int(end)] = (self.imp, self.exp)

    def at(self, boundary):
        """(import Wh, export Wh) at a half-hour boundary not after `self.t`."""
        if boundary >= self.start:
            return self._at[boundary]
        k = (self._b0 - boundary) // SLOT
        while len(self._back) <= k:
            i0, e0 = self._back[-1]
            i, e = self.load.coarse_slot(self._b0 // SLOT - len(self._back))
            self._back.append((i0 + i, e0 + e))
        i, e = self._back[k]
        return max(0.0, self._base[0] - i), max(0.0, self._base[1] - e)
