"""The session against tools/sim.py over TCP, under the MicroPython unix port and CPython.

Each case starts the simulator (50x faster than real time), runs tools/bench_session.py's
client and checks the recovery and that no reading was wrongly reported.
"""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bench_session as bs  # noqa: E402

SCALE = 0.02
INTERPS = [os.path.join(ROOT, ".venv/bin/micropython"), sys.executable]
IDS = ["micropython", "cpython"]


@pytest.fixture(autouse=True)
def _root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _run(interp, dialect="bp35a1", extra=(), faults=(), readings=4, seconds=900, cache=None):
    sim, port = bs.start_sim(dialect, SCALE, extra)
    try:
        out = bs.run_client(interp, port, SCALE, seconds * SCALE, cache, sim, faults, readings)
        sim.stdin.write("stats\n")
        sim.stdin.flush()
        import json
        stats = json.loads(sim.stdout.readline())
    finally:
        bs.stop(sim)
    return out, stats


def _readings(out):
    return [x for x in out if x[0] == "R"]


def _sane(out, stats):
    rs = _readings(out)
    assert [r[2] for r in rs] == list(range(1, len(rs) + 1))  # seq never skips or repeats
    assert all(r[3] is not None and 0 <= r[3] < 20000 for r in rs), rs
    assert stats["wopt_writes"] == 0


@pytest.mark.parametrize("interp", INTERPS, ids=IDS)
@pytest.mark.parametrize("dialect", ["bp35a1", "bp35c0", "rl7023-ips"])
def test_cold_then_warm_start(interp, dialect, tmp_path):
    cache = str(tmp_path / "scan.json")
    out, stats = _run(interp, dialect, readings=2, cache=cache)
    _sane(out, stats)
    assert len(_readings(out)) == 2 and "scanning" in [x[2] for x in out if x[0] == "S"]
    mtime = os.stat(cache).st_mtime_ns
    out, stats = _run(interp, dialect, readings=2, cache=cache)
    _sane(out, stats)
    assert "scanning" not in [x[2] for x in out if x[0] == "S"]
    assert os.stat(cache).st_mtime_ns == mtime  # a warm start does not rewrite the cache


@pytest.mark.parametrize("interp", INTERPS, ids=IDS)
@pytest.mark.parametrize("fault", bs.FAULTS)
def test_fault_recovery(interp, fault):
    out, stats = _run(interp, faults=[(2, fault)], readings=4)
    _sane(out, stats)
    assert bs.recovery_ms(out) is not None, out
    assert len(_readings(out)) == 4
    if fault == "foreign-node":
        assert 1000 not in [r[3] for r in _readings(out)]  # the foreign frame's E7


@pytest.mark.parametrize("interp", INTERPS, ids=IDS)
def test_wrong_password_is_reported(interp):
    out, stats = _run(interp, extra=["--password", "BADBADBADBAD"], readings=1, seconds=400)
    assert not _readings(out)
    errors = [x[3] for x in out if x[0] == "S" and x[2] == "error"]
    assert errors and "authentication failed" in errors[0], out


@pytest.mark.parametrize("interp", INTERPS, ids=IDS)
def test_no_meter_is_reported(interp):
    out, stats = _run(interp, extra=["--scenario", "no-meter"], readings=1, seconds=300)
    assert not _readings(out)
    assert [x for x in out if x[0] == "S" and x[2] == "error" and x[3] == "No meter found"], out
