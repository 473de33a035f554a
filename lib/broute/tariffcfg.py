"""The tariff config's check and parser (docs/mqtt.md section 5): used once, by config.py's
check and at start-up, then dropped (firmware/app.py drop()); the per-reading arithmetic that
stays resident is broute.tariff. The PC reader uses the same functions."""
from .tariff import Tariff, wh

_KEYS = ("base_yen", "tiers", "surcharges")


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
    t = Tariff()
    t.base, t.limits, t.rates, t.folded, t.own = base, limits, rates, folded, tuple(own)
    return t, None
