"""The session against tools/sim.py over TCP, under the MicroPython unix port and CPython;
then against the same simulator in-process, in virtual time (days of meter time, fault
sequences, exact figures).

Each TCP case starts the simulator (50x faster than real time), runs tools/bench/bench_session.py's
client and checks the recovery and that no reading was wrongly reported.
"""
import os
import struct
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
import bench_session as bs  # noqa: E402
from broute import reading  # noqa: E402
from broute import session  # noqa: E402
import sim_vlink as vl  # noqa: E402
from broute.scancache import MemoryCache  # noqa: E402
from sim_faults import Faults  # noqa: E402
from sim_meter import DEFAULT_ID, DEFAULT_PASSWORD, Meter, scenario  # noqa: E402
from sim_module import Module  # noqa: E402

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


# --- the session against the sans-I/O simulator in virtual time (tools/simulator/sim_vlink.py) -------


def _vsim(scn="normal", faults=(), rate=0.0, seed=1, cache=None, contract_a=None, **cfg):
    clock = vl.VClock()
    mod = Module("bp35a1", Meter(scenario(scn, **cfg)), Faults(faults, rate, seed))
    link = vl.Link(mod, clock)
    logs = []
    s = session.Session(link, link, DEFAULT_ID, DEFAULT_PASSWORD, cache=cache, clock=clock,
                        log=logs.append, contract_a=contract_a)
    return s, mod, link, clock, logs


def _raw(m, wh):
    return int.from_bytes(m._raw(wh), "big")


def test_today_kwh_is_right_every_day_with_pushes_missed():
    """Four midnights of one connection (the meter clock runs 60x): the 00:00 push is lost on
    the first (the 00:30 push dates the day), the second has its push, the third and fourth
    have none at all (only the EA asked with the energy dates the day)."""
    s, mod, link, clock, logs = _vsim(clock_speed=60, faults=["push-loss:34@721", "push-loss@3000"])
    m = mod.meter
    days, wrong, unknown = {}, [], []

    def check(kind):
        if kind != "reading":
            return
        t = next(t for t, _, _, epcs in reversed(m.requests) if 0xE0 in epcs)
        midnight = int(m.wall(t) // 86400) * 86400
        e0 = round(s.reading.energy_kwh * 10)
        truth = (e0 - _raw(m, m.counters.at(midnight)[0])) % 10 ** 6 / 10
        today = s.reading.today_kwh
        if today is None:
            unknown.append(midnight)
        elif abs(today - truth) > 1e-6:
            wrong.append((midnight, today, truth))
        else:
            days[midnight] = days.get(midnight, 0) + 1
    s.listener = check
    assert vl.run(s, clock, lambda: len(days) >= 5, 6000000)
    assert not wrong, wrong[:5]
    assert len(unknown) <= len(days), unknown  # at most the moment a day begins, till E2 answers
    assert s.rejoins == 0 and s.resets == 1
    print("today's kWh right on %d meter days (%s readings), %d readings before E2 answered"
          % (len(days), sorted(days.values()), len(unknown)))


def test_first_reading_one_get_after_the_join_with_today():
    cache = MemoryCache()
    for kind in ("cold", "warm"):
        joining, joined, watts, gets = bs.first_watts("bp35a1", cache)
        assert gets == 1, kind  # one Get between EVENT 25 and the first watts
    s, mod, link, clock, logs = _vsim()
    assert vl.run(s, clock, lambda: s.reading.seq >= 1, 600000)
    assert s.reading.today_kwh is not None and s.reading.energy_rev_kwh is not None


def test_module_restart_during_a_scan_is_noticed():
    s, mod, link, clock, logs = _vsim(faults=["meter-gone@30", "restart@200", "meter-back@400"])
    late = []
    s.listener = lambda kind: late.append(clock.now) if kind == "reading" and clock.now > 400000 else None
    assert vl.run(s, clock, lambda: late, 1500000), logs[-10:]
    assert mod.restarts == 1 and link.commands().count("SKSETRBID") >= 2


@pytest.mark.parametrize("at", [2, 6, 20])  # scanning, joining, connected
def test_module_restart_is_noticed_at_every_step(at):
    s, mod, link, clock, logs = _vsim(faults=["restart@%d" % at])
    late = []
    s.listener = lambda kind: late.append(clock.now) if kind == "reading" and clock.now > at * 1000 else None
    assert vl.run(s, clock, lambda: late, (at + 120) * 1000), logs
    assert "the Wi-SUN module restarted" in " ".join(logs) and link.commands().count("SKSETRBID") == 2


def test_join_refused_is_auth_failed():
    s, mod, link, clock, logs = _vsim(password="BADBADBADBAD")
    assert vl.until_error(s, clock) == [session.AUTH_FAILED]
    assert not [x for x in logs if session.JOIN_NO_ANSWER in x]


def test_join_without_answer_is_not_a_login_problem():
    # the meter answers the scan, then is gone before the join
    s, mod, link, clock, logs = _vsim(faults=["meter-gone@4.6"])
    assert vl.until_error(s, clock) == [session.JOIN_NO_ANSWER]
    assert not [x for x in logs if session.AUTH_FAILED in x]


def _joins_refused_as_busy(mod):
    """Times SKJOIN came while the module still held (or was setting up) a PANA session."""
    refused = []
    count, skjoin = mod._commands["SKJOIN"]

    def watched(now, args):
        if mod.session or mod.joining:
            refused.append(now)
        skjoin(now, args)
    mod._commands["SKJOIN"] = (count, watched)
    return refused


def test_rejoin_ends_the_held_session_first():
    # three lost replies in a row: the session rejoins while the module still holds the session
    s, mod, link, clock, logs = _vsim(faults=["drop@40"] * 3)
    refused = _joins_refused_as_busy(mod)
    n = []
    s.listener = lambda kind: n.append(1) if kind == "reading" else None
    assert vl.run(s, clock, lambda: s.rejoins and len(n) >= 8, 900000)
    assert not refused and not [x for x in logs if "ER10" in x], logs
    assert link.commands().count("SKRESET") == 1 and "SKTERM" in link.commands()


def test_corrupt_fault_run_never_joins_into_a_held_session():
    s, mod, link, clock, logs = _vsim(faults=["corrupt@%d" % (20 + 10 * i) for i in range(300)],
                                      rate=0.05, seed=3)
    refused = _joins_refused_as_busy(mod)
    vl.run(s, clock, lambda: False, 2 * 3600 * 1000)
    joins = link.commands().count("SKJOIN")
    assert joins >= 5 and s.reading.seq > 300
    assert not refused, "%d of %d joins refused with ER10" % (len(refused), joins)
    print("%d joins, %d module resets, %d readings, %d dropped"
          % (joins, s.resets - 1, s.reading.seq, s.dropped))


def test_a_cache_the_module_refuses_is_dropped_then_scanned():
    good = {"channel": 0x3B, "pan_id": 0x8888, "addr": "C0F9450040AB12CD"}
    for bad in (dict(good, channel=0x99), dict(good, addr="C0F9450040AB12CX")):
        cache = MemoryCache(bad)
        s, mod, link, clock, logs = _vsim(cache=cache)
        assert vl.run(s, clock, lambda: s.reading.seq >= 1, 300000), logs
        assert s.scans >= 1 and cache.data["channel"] == 0x3B and cache.data["addr"] == good["addr"]


def test_corrupted_replies_never_become_readings():
    """200 replies with one mangled byte: what comes through is what the meter measured."""
    s, mod, link, clock, logs = _vsim(faults=["corrupt@%d" % (20 + 10 * i) for i in range(200)])
    bad = []

    def check(kind):
        r = s.reading
        if kind == "reading" and r.power_w is not None:
            # the normal scenario stays under 5.1 kW and 27.4 A a phase
            if not (abs(r.power_w) < 5200 and abs(r.current_r_da or 0) < 280 and
                    abs(r.current_t_da or 0) < 280) or \
                    reading.implausible(r.power_w, r.current_r_da, r.current_t_da):
                bad.append((r.power_w, r.current_r_da, r.current_t_da))
    s.listener = check
    vl.run(s, clock, lambda: False, 2100 * 1000)
    fired = len([f for f in mod.faults.fired if f[1] == "corrupt"])
    drops = [x for x in logs if x.startswith("implausible reading dropped: ")]
    assert fired >= 150 and not bad, bad
    assert s.dropped == len(drops) and s.dropped > 0
    print("%d corruptions, %d readings dropped as implausible, %d readings"
          % (fired, s.dropped, s.reading.seq))


@pytest.mark.parametrize("scn", ["normal", "solar", "over-limit", "two-wire"])
def test_the_simulated_households_are_always_plausible(scn):
    """A week of E7/E8 as the simulated meter encodes them (every 30 s), against a 30 A contract."""
    m = Meter(scenario(scn))
    for t in range(0, 7 * 86400, 30):
        w = m.start + t
        e7 = struct.unpack(">i", m._e7(w))[0]
        r, tt = struct.unpack(">hh", m._e8(w))
        tt = None if tt == 0x7FFE else tt
        assert reading.implausible(e7, r, tt, 30) is None, (scn, t, e7, r, tt)
