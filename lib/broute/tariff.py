"""Electricity cost in yen from a configured tariff: a monthly base charge, tiered energy rates
and per-kWh surcharges (docs/mqtt.md section 5 has the config shape and an example).

Integer arithmetic, exact to the yen. Energy comes in Wh (ints), rates in hundredths of a yen per
kWh (the 銭 a Japanese tariff is printed in), so an amount is an int in units of 1e-5 yen; floats
are heap objects on the board and would round 29.80 x 120 kWh differently from the bill. A month
of a few hundred kWh at 40 yen makes products above 2**30, which MicroPython carries as long ints
(a few small allocations once per reading; correct, just not free).

Rounding as a Japanese bill does it (TEPCO EP's supply terms, general provisions 4, and the
renewable-energy levy's own clause): the base charge plus the energy charge (the tiers and every
surcharge folded into it, such as the fuel-cost adjustment) is one amount whose fraction of a yen
is dropped; a surcharge billed on its own line (`"own_line": true`, the renewable-energy levy) is
dropped to the yen by itself. Dropping goes toward zero, also for a negative line (a subsidy).
The bill also rounds the month's kWh to a whole kWh (half up) before pricing; these figures price
the kWh measured so far, so the month's figure can differ from the bill by one kWh's price.

Only what runs per reading is here; the config check and parser (problem, load) are in
broute.tariffcfg, imported once at start-up and dropped (issue 10's heap budget).
"""

_E = 100000  # units of 1e-5 yen in a yen: Wh x (yen / 100 per kWh)


class Tariff:
    """A validated tariff, as ints, made by broute.tariffcfg.load(obj) (which sets the fields:
    no constructor kept resident). base: 1/100 yen per month; limits: tuple of Wh where each
    tier ends, the last tier has none; rates: tuple of 1/100 yen per kWh, one per tier; folded:
    1/100 yen per kWh, the surcharges inside the energy charge, summed; own: tuple of 1/100 yen
    per kWh, the surcharges on lines of their own."""


def _trunc(x):
    """1e-5 yen to whole yen, fraction dropped toward zero."""
    return x // _E if x >= 0 else -((-x) // _E)


def wh(kwh):
    """Whole Wh of a kWh figure (float or int, as Reading holds them); None stays None."""
    if kwh is None:
        return None
    return int(kwh * 1000 + (0.5 if kwh >= 0 else -0.5))


def energy(t, w):
    """The tiered energy charge of `w` Wh in a month, in 1e-5 yen (unrounded)."""
    total = 0
    lo = 0
    n = len(t.rates)
    for i in range(n):
        hi = t.limits[i] if i < n - 1 else w
        if w < hi:
            hi = w
        if hi > lo:
            total += (hi - lo) * t.rates[i]
            lo = hi
        if lo >= w:
            break
    return total


def month_yen(t, w):
    """The month's charge in yen for `w` Wh so far: base charge included, rounded as on a bill."""
    if w < 0:  # no energy is not a refund
        w = 0
    total = _trunc(t.base * 1000 + energy(t, w) + w * t.folded)
    for rate in t.own:
        total += _trunc(w * rate)
    return total


def today_yen(t, before, today):
    """Today's cost in yen: what today's `today` Wh add to the month's bill, given the month's
    `before` Wh up to last midnight. Priced at the marginal tier rates, so a day that crosses a
    tier boundary pays partly at each; defined as month_yen(before + today) - month_yen(before),
    both rounded as a bill is, so the days of a month add up exactly to the month's charge less
    its base charge (which no single day owns)."""
    return month_yen(t, before + today) - month_yen(t, before)


def costs(t, reading):
    """(today's yen, this month's yen) of a Reading (lib/broute/reading.py) under tariff `t`;
    each None when its kWh are not known. Today's is priced at the month's marginal rates, so it
    needs the month's kWh too (the month's bought energy up to last midnight is month - today)."""
    m = wh(reading.month_kwh)
    if m is None:
        return None, None
    d = wh(reading.today_kwh)
    return (None if d is None or d > m else today_yen(t, m - d, d)), month_yen(t, m)
