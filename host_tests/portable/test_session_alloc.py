"""Bytes the session allocates per polling cycle, with a stream and clock that allocate nothing.

The ceiling is asserted under MicroPython (gc.mem_alloc); CPython runs the same cycles.
`python tools/bench/bench_session.py` prints the figure.
"""
import sys

from session_fake import alloc_per_cycle

# 64-bit unix port, default 10 s poll with E0/E3 every 10th: measured 1062 (2310 before reads
# and drains went through compat.Port, 3891 before the hot path was cut down); objects on the
# ESP32 are about half that size.
CEILING = 1400


def test_polling_cycle_stays_under_the_allocation_ceiling():
    per, s = alloc_per_cycle()
    assert s.reading.power_w == 686 and abs(s.reading.energy_kwh - 12345.6) < 1e-6
    assert s.rejoins == 0 and s.timeouts == 0 and s.resets == 1
    if sys.implementation.name == "micropython":
        assert per is not None and per <= CEILING, per
    else:
        assert per is None

