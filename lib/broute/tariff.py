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
"""

_E = 100000  # units of 1e-5 yen in a yen: Wh x (yen / 100 per kWh)
_KEYS = ("base_yen", "tiers", "surcharges")


class Tariff:
    """A validated tariff, as ints. Build it with `load(obj)`."""

    def __init__(self, base, limits, rates, folded, own):
        self.base = base        # 1/100 yen per month
        self.limits = limits    # tuple of Wh where each tier ends; the last tier has none
        self.rates = rates      # tuple of 1/100 yen per kWh, one per tier
        self.folded = folded    # 1/100 yen per kWh: surcharges inside the energy charge, summed
        self.own = own          # tuple of 1/100 yen per kWh: surcharges on lines of their own


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


def _is_num(v):
    return not isinstance(v, bool) and isinstance(v, (int, float))


def _cents(v, lo, hi, what):
    """(hundredths, None) of a yen figure in lo..hi with at most two decimals, or (None, problem)."""
    if not _is_num(v):
        return None, "%s must be a number of yen" % what
    if not lo <= v <= hi:
        return None, "%s must be from %s to %s yen (got %s)" % (what, lo, hi, v)
    c = round(v * 100)
    if abs(v * 100 - c) > 0.01:  # tolerant of the board's single-precision floats
        return None, "%s has more than two decimals (tariffs are in 銭, 0.01 yen)" % what
    return int(c), None


def _tiers(tiers):
    """(limits, rates, None) of the tiers list, or (None, None, problem)."""
    if not isinstance(tiers, list) or not tiers:
        return None, None, 'tiers must be a list like [{"up_to_kwh": 120, "yen_per_kwh": 29.80}, ' \
                           '{"yen_per_kwh": 36.40}]'
    limits, rates, last = [], [], 0
    for i, tier in enumerate(tiers):
        what = "tier %d" % (i + 1)
        if not isinstance(tier, dict):
            return None, None, what + ' must be {"up_to_kwh": ..., "yen_per_kwh": ...}'
        for k in tier:
            if k not in ("up_to_kwh", "yen_per_kwh"):
                return None, None, "%s: unknown key %r (only up_to_kwh and yen_per_kwh)" % (what, k)
        rate, err = _cents(tier.get("yen_per_kwh"), 0, 1000, what + " yen_per_kwh")
        if err:
            return None, None, err
        rates.append(rate)
        top = tier.get("up_to_kwh")
        if i == len(tiers) - 1:
            if top is not None:
                return None, None, "the last tier must have no up_to_kwh: it covers all above"
            break
        if not _is_num(top) or top <= last or top > 100000:
            return None, None, "%s up_to_kwh must be a number of kWh above %s (the tier before)" % (
                what, last)
        last = top
        limits.append(wh(top))
    return tuple(limits), tuple(rates), None


def problem(obj):
    """What is wrong with a tariff config object in plain words, or None when it is good."""
    if not isinstance(obj, dict):
        return 'must be {"base_yen": ..., "tiers": [...], "surcharges": [...]}'
    for k in obj:
        if k not in _KEYS and not k.startswith("_"):
            return "unknown key %r (only base_yen, tiers and surcharges)" % k
    if "base_yen" not in obj or "tiers" not in obj:
        return "base_yen and tiers are required"
    return _parse(obj)[1]


def load(obj):
    """A Tariff from a config object; ValueError naming the problem when it is not good."""
    why = problem(obj)
    if why:
        raise ValueError(why)
    return _parse(obj)[0]


def _parse(obj):
    base, err = _cents(obj.get("base_yen"), 0, 100000, "base_yen")
    if err:
        return None, err
    limits, rates, err = _tiers(obj.get("tiers"))
    if err:
        return None, err
    folded, own = 0, []
    extra = obj.get("surcharges", [])
    if not isinstance(extra, list):
        return None, 'surcharges must be a list like [{"name": "levy", "yen_per_kwh": 3.98}]'
    for i, s in enumerate(extra):
        what = "surcharge %d" % (i + 1)
        if not isinstance(s, dict):
            return None, what + ' must be {"name": ..., "yen_per_kwh": ..., "own_line": true/false}'
        for k in s:
            if k not in ("name", "yen_per_kwh", "own_line"):
                return None, "%s: unknown key %r (only name, yen_per_kwh and own_line)" % (what, k)
        name = s.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 40:
            return None, what + " name must be text of 1 to 40 characters"
        rate, err = _cents(s.get("yen_per_kwh"), -100, 100, "%s (%s) yen_per_kwh" % (what, name))
        if err:
            return None, err
        line = s.get("own_line", False)
        if not isinstance(line, bool):
            return None, "%s (%s) own_line must be true or false" % (what, name)
        if line:
            own.append(rate)
        else:
            folded += rate
    return Tariff(base, limits, rates, folded, tuple(own)), None
