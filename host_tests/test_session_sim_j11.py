"""The session with the J11 driver (lib/broute/j11driver.py) against the J11 simulator
(tools/simulator/sim_j11.py), in one process in virtual time (tools/simulator/sim_vlink.py):
a first reading, days with midnights, every fault J11 can show, the errors a person must fix.

The two sides were written apart from the same sources; where they disagree, the primary
sources decide (tools/simulator/sim_j11.py's docstring lists what the simulator assumes).
"""
import pytest

from broute import bstate
from broute import session
from broute.j11driver import J11Driver
import sim_j11
import sim_vlink as vl
from sim_faults import Faults
from sim_meter import DEFAULT_ID, DEFAULT_PASSWORD, Meter, scenario

# the application note's order: reset, version, status, setting, ID, scan, setting on the
# meter's channel, B-route start, UDP port, PANA, then UDP sends
ORDER = [0x00D9, 0x006B, 0x0001, 0x005F, 0x0054, 0x0051, 0x005F, 0x0053, 0x0005, 0x0056, 0x0008]


def _vsim(scn="normal", faults=(), rate=0.0, seed=1, cache=None, **cfg):
    clock = vl.VClock()
    mod = sim_j11.Module(Meter(scenario(scn, **cfg)), Faults(faults, rate, seed, family="j11"))
    link = vl.Link(mod, clock)
    logs = []
    s = session.Session(link, link, DEFAULT_ID, DEFAULT_PASSWORD, cache=cache, clock=clock,
                        log=logs.append, driver=J11Driver)
    return s, mod, link, clock, logs


def _dedup(codes):
    return [c for i, c in enumerate(codes) if not i or c != codes[i - 1]]


def test_first_reading_in_the_application_notes_order():
    s, mod, link, clock, logs = _vsim()
    assert vl.run(s, clock, lambda: s.reading.seq >= 2, 120000), logs
    assert 50 < s.reading.power_w < 6000 and s.reading.today_kwh is not None
    codes = link.codes()
    assert [c for c in _dedup(codes) if c in ORDER][-len(ORDER):] == ORDER, ["%04X" % c for c in codes]
    assert mod.refused == [] and mod.flash_writes == 0
    assert DEFAULT_PASSWORD not in " ".join(logs) and DEFAULT_ID[-8:] not in " ".join(logs)
    print("first reading at %.1f s (simulated)" % (clock.now / 1000))


def test_reset_is_not_fooled_by_the_power_up_6019():
    s, mod, link, clock, logs = _vsim()
    assert vl.run(s, clock, lambda: s.reading.seq >= 1, 120000), logs
    assert link.codes().count(0x00D9) == 1, logs


def test_today_kwh_right_across_midnights():
    """Two midnights of one connection (the meter clock runs 60x)."""
    s, mod, link, clock, logs = _vsim(clock_speed=60)
    m = mod.meter
    days, wrong = {}, []

    def check(kind):
        if kind != "reading" or s.reading.today_kwh is None:
            return
        t = next(t for t, _, _, epcs in reversed(m.requests) if 0xE0 in epcs)
        midnight = int(m.wall(t) // 86400) * 86400
        e0 = round(s.reading.energy_kwh * 10)
        truth = (e0 - int.from_bytes(m._raw(m.counters.at(midnight)[0]), "big")) % 10 ** 6 / 10
        if abs(s.reading.today_kwh - truth) > 1e-6:
            wrong.append((midnight, s.reading.today_kwh, truth))
        days[midnight] = days.get(midnight, 0) + 1
    s.listener = check
    assert vl.run(s, clock, lambda: len(days) >= 3, 4 * 86400 * 1000 // 60), logs[-10:]
    assert not wrong, wrong[:5]
    assert s.rejoins == 0 and mod.refused == []


# every fault J11 shows, 60 s after the start (connected by then)
FAULTS = ["tx-fail", "er10", "drop", "dup", "stale-tid", "corrupt", "auth-fail", "reauth-ok",
          "reauth-fail", "peer-term", "term", "lost", "term-timeout", "rate-limit:40", "mute:15",
          "restart", "meter-gone:60", "push-loss:600", "garbage", "half-line", "foreign-node",
          "foreign-eoj"]


@pytest.mark.parametrize("fault", FAULTS)
def test_recovers_from(fault):
    s, mod, link, clock, logs = _vsim(faults=[fault + "@60"])
    late, bad = [], []

    def note(kind):
        if kind == "reading":
            if s.reading.power_w == 1000:          # the foreign node's E7
                bad.append(s.reading.power_w)
            if clock.now > 60000:
                late.append(clock.now)
    s.listener = note
    assert vl.run(s, clock, lambda: len(late) >= 3, 600000), logs[-15:]
    if fault != "auth-fail":                   # armed for a PANA that never comes
        assert [n for _, n in mod.faults.fired] == [fault.partition(":")[0]], mod.faults.fired
    assert not bad and s.state == bstate.CONNECTED
    print("%s: readings again %.1f s after the fault" % (fault, (late[0] - 60000) / 1000))


def test_random_faults_an_hour():
    s, mod, link, clock, logs = _vsim(rate=0.1, seed=5)
    vl.run(s, clock, lambda: False, 3600 * 1000)
    assert s.reading.seq > 200 and len(mod.faults.fired) > 20, (s.reading.seq, logs[-10:])
    print("%d readings, %d faults, %d resets, %d rejoins" % (s.reading.seq, len(mod.faults.fired),
                                                            s.resets, s.rejoins))


def test_wrong_password_is_auth_failed():
    s, mod, link, clock, logs = _vsim(password="BADBADBADBAD")
    assert vl.until_error(s, clock) == [session.AUTH_FAILED], logs[-10:]


def test_no_meter_is_reported():
    s, mod, link, clock, logs = _vsim("no-meter")
    reasons = vl.until_error(s, clock, 1800000)
    assert reasons and reasons[0] == session.NOT_FOUND, logs[-10:]


# -- detection (lib/broute/detect.py) against both simulators ---------------------------------
def _probe(mod):
    import asyncio
    from broute import detect
    clock = vl.VClock()
    link = vl.Link(mod, clock)
    logs = []
    return asyncio.run(detect.probe(link, link, clock, log=logs.append)), logs


@pytest.mark.parametrize("fresh", [True, False])   # with its power-up 6019 still unread, or not
def test_detect_tells_j11_from_skstack(fresh):
    from sim_module import Module as SkModule
    j = sim_j11.Module(Meter())
    if not fresh:
        j.read(1.0)
    family, logs = _probe(j)
    assert family == "j11" and j.refused == [], logs
    assert logs == ["Wi-SUN module: j11 (frame %s)" % ("6019" if fresh else "206B")]
    for dialect in ("bp35a1", "bp35c0", "rl7023-ips"):
        sk = SkModule(dialect, Meter())
        family, logs = _probe(sk)
        assert family == "skstack", (dialect, logs)
        # the J11 frame and its CRLF left the module as it was: it still answers a command
        sk.feed(b"SKVER\r\n", 10)
        assert sk.read(10).endswith(b"OK\r\n"), dialect
        # asked in J11 first, it echoes the frame (a request, not a response) and fails the line
        from broute import detect
        sniff = detect.Sniffer()
        sk.feed(detect.ASK_J11, 11)
        sniff.feed(sk.read(11))
        assert sniff.family == "skstack", dialect
