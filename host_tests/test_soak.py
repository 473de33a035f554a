"""A short soak in CI: one simulated hour with frequent random faults (tools/bench/soak.py runs longer)."""
import soak


def test_half_a_simulated_hour_of_random_faults():
    problems, figures = soak.soak(hours=0.5, time_scale=0.01, rate=0.1, heapsize="256k", seed=7)
    print("soak:", figures)
    assert problems == [], problems
    assert figures["faults"] >= 5 and figures["readings"] >= 50
