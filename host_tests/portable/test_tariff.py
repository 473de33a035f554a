"""Cost in yen from a tiered tariff: hand-computed bills, marginal daily cost, rounding, the checks."""
import json

from broute import tariff, tariffcfg

# TEPCO EP Juryo Dento B, 30 A (the example in docs/mqtt.md) with a made-up fuel-cost adjustment
TEPCO = {
    "base_yen": 935.25,
    "tiers": [{"up_to_kwh": 120, "yen_per_kwh": 29.80}, {"up_to_kwh": 300, "yen_per_kwh": 36.40},
              {"yen_per_kwh": 40.49}],
    "surcharges": [{"name": "fuel-cost adjustment", "yen_per_kwh": -1.23},
                   {"name": "renewable energy levy", "yen_per_kwh": 3.98, "own_line": True}],
}
PLAIN = {"base_yen": 935.25, "tiers": TEPCO["tiers"]}


def test_a_month_of_400_kwh_by_hand():
    t = tariffcfg.load(TEPCO)
    # 120 x 29.80 = 3576.00; 180 x 36.40 = 6552.00; 100 x 40.49 = 4049.00; + 935.25 base
    # - 1.23 x 400 = -492.00 -> 14620.25 -> 14620; levy 3.98 x 400 = 1592.00 -> 1592
    assert tariff.month_yen(t, 400000) == 14620 + 1592


def test_a_month_with_fractions_drops_each_line_to_the_yen():
    t = tariffcfg.load(TEPCO)
    # 3576.00 + 130.5 x 36.40 (4750.20) + 935.25 - 1.23 x 250.5 (308.115) = 8953.335 -> 8953
    # levy 3.98 x 250.5 = 996.99 -> 996 (its own line: not 8953.335 + 996.99 = 9950.325 -> 9950)
    assert tariff.month_yen(t, 250500) == 8953 + 996


def test_no_energy_is_the_base_charge():
    t = tariffcfg.load(TEPCO)
    assert tariff.month_yen(t, 0) == 935
    assert tariff.month_yen(t, -5) == 935  # a counter glitch is not a refund
    assert tariff.energy(t, 0) == 0


def test_tier_edges():
    t = tariffcfg.load(PLAIN)
    assert tariff.energy(t, 120000) == 120000 * 2980
    assert tariff.energy(t, 120001) == 120000 * 2980 + 3640
    assert tariff.energy(t, 300000) == 120000 * 2980 + 180000 * 3640
    assert tariff.energy(t, 300001) == 120000 * 2980 + 180000 * 3640 + 4049


def test_today_is_priced_at_the_marginal_tiers():
    t = tariffcfg.load(PLAIN)
    # 110 kWh before today, 20 today: 10 at 29.80 and 10 at 36.40 = 298 + 364 = 662 yen
    assert tariff.today_yen(t, 110000, 20000) == 662
    # the same 20 kWh on the first day of the month: all at 29.80 = 596 yen
    assert tariff.today_yen(t, 0, 20000) == 596
    # late in a heavy month, all at 40.49 (809.80 yen): the bill's 15112.25 -> 15922.05, so 810
    assert tariff.today_yen(t, 400000, 20000) == 810


def test_the_days_add_up_to_the_month():
    t = tariffcfg.load(TEPCO)
    before = 0
    total = 0
    for day in range(31):
        today = 3000 + (day * 7919) % 17000  # 3 to 20 kWh a day, in Wh
        total += tariff.today_yen(t, before, today)
        before += today
    assert total == tariff.month_yen(t, before) - tariff.month_yen(t, 0)


def test_a_negative_own_line_drops_toward_zero():
    t = tariffcfg.load({"base_yen": 0, "tiers": [{"yen_per_kwh": 0}],
                     "surcharges": [{"name": "subsidy", "yen_per_kwh": -0.5, "own_line": True}]})
    assert tariff.month_yen(t, 1500) == 0    # -0.75 yen: nothing, not -1
    assert tariff.month_yen(t, 3000) == -1   # -1.5 yen: -1


def test_wh_from_kwh():
    assert tariff.wh(4.9) == 4900
    assert tariff.wh(12345.6) == 12345600
    assert tariff.wh(7) == 7000
    assert tariff.wh(None) is None


def _why(obj):
    why = tariffcfg.problem(obj)
    assert why, obj
    return why


def test_the_check_says_what_is_wrong():
    assert tariffcfg.problem(TEPCO) is None
    assert tariffcfg.problem(dict(PLAIN, _note="from my bill of 2026-11")) is None
    assert "base_yen" in _why([])
    assert "required" in _why({"tiers": PLAIN["tiers"]})
    assert "unknown key 'fuel'" in _why(dict(PLAIN, fuel=1))
    assert "base_yen" in _why(dict(PLAIN, base_yen="935"))
    assert "base_yen" in _why(dict(PLAIN, base_yen=True))
    assert "two decimals" in _why(dict(PLAIN, base_yen=935.255))
    assert "tiers must be a list" in _why(dict(PLAIN, tiers=[]))
    assert "last tier" in _why(dict(PLAIN, tiers=[{"up_to_kwh": 120, "yen_per_kwh": 29.8}]))
    assert "tier 2 up_to_kwh" in _why(dict(PLAIN, tiers=[
        {"up_to_kwh": 120, "yen_per_kwh": 29.8}, {"up_to_kwh": 100, "yen_per_kwh": 36.4},
        {"yen_per_kwh": 40.49}]))
    assert "tier 1 yen_per_kwh" in _why(dict(PLAIN, tiers=[{"yen_per_kwh": -1}]))
    assert "unknown key 'rate'" in _why(dict(PLAIN, tiers=[{"rate": 1}]))
    assert "surcharges must be a list" in _why(dict(PLAIN, surcharges={"levy": 3.98}))
    assert "surcharge 1 name" in _why(dict(PLAIN, surcharges=[{"yen_per_kwh": 3.98}]))
    assert "own_line" in _why(dict(PLAIN, surcharges=[{"name": "levy", "yen_per_kwh": 3.98,
                                                         "own_line": "yes"}]))
    assert "surcharge 1 (levy) yen_per_kwh" in _why(dict(PLAIN, surcharges=[
        {"name": "levy", "yen_per_kwh": 300}]))
    try:
        tariffcfg.load({"tiers": []})
        assert False, "load refuses what problem() names"
    except ValueError as e:
        assert "required" in str(e)


def _docs_example():
    """The tariff example in docs/mqtt.md: the JSON block after the tariff-example marker."""
    with open("docs/mqtt.md") as f:
        text = f.read()
    start = text.index("```json", text.index("<!-- tariff-example -->")) + 7
    return json.loads(text[start:text.index("```", start)])["tariff"]


def test_the_documented_example_is_a_good_tariff():
    example = _docs_example()
    assert tariffcfg.problem(example) is None
    t = tariffcfg.load(example)
    assert len(t.rates) == 3 and t.base == 93525
    assert tariff.month_yen(t, 0) == 935


class _R:
    def __init__(self, today, month):
        self.today_kwh, self.month_kwh = today, month


def test_costs_of_a_reading_by_hand():
    t = tariffcfg.load(PLAIN)
    # month 130.5 kWh: 3576.00 + 10.5 x 36.40 (382.20) + 935.25 = 4893.45 -> 4893
    # today 12.5 kWh, 118 before: 2 x 29.80 + 10.5 x 36.40 = 441.80 on top of 4451.65 (118 x 29.80
    # + 935.25): 4893 - 4451 = 442
    assert tariff.costs(t, _R(12.5, 130.5)) == (442, 4893)
    assert tariff.costs(t, _R(None, 130.5)) == (None, 4893)   # today not known yet (before E2)
    assert tariff.costs(t, _R(3.0, None)) == (None, None)     # no month: today's tier unknown
    assert tariff.costs(t, _R(0.0, 0.0)) == (0, 935)
    assert tariff.costs(t, _R(5.0, 4.0)) == (None, 935 + 119)  # today above the month: not priced
