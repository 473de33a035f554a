"""A short soak in CI: half a simulated hour with frequent random faults, with each module family
(tools/bench/soak.py runs longer)."""
import pytest

import soak


@pytest.mark.parametrize("dialect", ["bp35a1", "j11"])
def test_half_a_simulated_hour_of_random_faults(dialect):
    problems, figures = soak.soak(hours=0.5, time_scale=0.01, rate=0.1, heapsize="256k", seed=7,
                                  dialect=dialect)
    print("soak:", figures)
    assert problems == [], problems
    assert figures["faults"] >= 5 and figures["readings"] >= 50
