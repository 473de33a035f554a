"""Session recovery against the scripted module: INFC, stray frames, silence, a silent module,
EVENT 29 (re-authentication) and EVENT 32/33 (transmit-time limit)."""
from broute import bstate
from broute import session
from session_fake import VClock, FakeModule, RBID, PWD, OTHER, run


def _make():
    clock = VClock()
    mod = FakeModule(clock)
    s = session.Session(mod, mod, RBID, PWD, clock=clock)
    states = []
    s.listener = lambda kind: states.append((clock.now, s.state)) if kind == "state" else None
    return s, mod, clock, states


def test_infc_is_answered_and_stray_frames_ignored():
    s, mod, clock, states = _make()
    infc = bytes([0x10, 0x81, 0x12, 0x34, 0x02, 0x88, 0x01, 0x05, 0xFF, 0x01, 0x74, 0x01, 0xEA, 0x0B,
                  0x07, 0xE8, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0xE2, 0x40])
    foreign = mod.erxudp(bytes([0x10, 0x81, 0, 2, 0x02, 0x88, 0x01, 0x05, 0xFF, 0x01, 0x72, 1, 0xE7, 4, 0, 0, 3, 0xE8]),
                         src=OTHER)
    pana = mod.erxudp(b"\x00\x01\x02", port=0x02CC)
    mod.sched.append((25000, mod.erxudp(infc) + foreign + pana + b"\xff\xfe garbage\r\nEVENT 2"))
    assert run(s, clock, lambda: s.reading.seq >= 5, 200000)
    res = [x[1] for x in mod.sent if isinstance(x, tuple) and x[1][10] == 0x7A]
    assert res and res[0][2:4] == b"\x12\x34" and res[0][12:14] == b"\xEA\x00"
    assert s.reading.power_w == 686 and s.rejoins == 0


def test_meter_silence_leads_to_rejoin_then_readings():
    s, mod, clock, states = _make()
    mod.sched.append((15000, b""))
    assert run(s, clock, lambda: s.reading.seq >= 1, 100000)
    mod.drop = 3
    n = s.reading.seq
    assert run(s, clock, lambda: s.reading.seq >= n + 2, clock.now + 300000)
    assert s.timeouts >= 3


def test_silent_module_is_an_error_then_recovers():
    s, mod, clock, states = _make()
    mod.silent = True
    assert run(s, clock, lambda: s.state == bstate.ERROR, 200000)
    assert s.reason == session.NO_MODULE
    mod.silent = False
    assert run(s, clock, lambda: s.reading.seq >= 1, clock.now + 900000)


def test_a_scanned_meter_the_module_refuses_ends_in_the_alarm():
    """No endless scan, join, refuse loop with nothing on the screen: counted like failed joins."""
    s, mod, clock, states = _make()
    mod.refuse = "SKJOIN"
    assert run(s, clock, lambda: s.state == bstate.ERROR, 900000)
    assert s.reason == session.ADDR_REFUSED and mod.sent.count("SKJOIN") == 3 and s.scans == 3
    mod.refuse = None
    assert run(s, clock, lambda: s.reading.seq >= 1, clock.now + 900000)
    assert s.state == bstate.CONNECTED and not s.reason


def _pause(start, end, resume, lasting):
    """Run until the third reading; `start` (EVENT 29 or 32) comes 3 s after the first
    reading, `end` (25 or 33) `lasting` ms later. Returns the session, module, states and
    the pause's (from, to) in virtual time."""
    s, mod, clock, states = _make()
    window = []

    def script():
        if s.reading.seq == 1 and not window:
            window.extend((clock.now + 3000, clock.now + 3000 + lasting))
            mod.at(3000, mod.event(start))
            mod.at(3000 + lasting, mod.event(end))
        return s.reading.seq >= 3
    assert run(s, clock, script, 400000)
    a, b = window
    after = [(t - a, st) for t, st in states if t >= a]
    assert after[:2] == [(0, resume), (lasting, bstate.CONNECTED)], after
    assert not [t for t in mod.frame_times if a <= t < b]  # nothing sent while paused
    late = [t for t in mod.frame_times if t >= b]
    assert late and late[0] - b < 100, late  # the poll that was due goes out at once
    assert s.reading.power_w == 686 and s.rejoins == 0 and s.timeouts == 0
    assert mod.sent.count("SKJOIN") == 1
    return s


def test_reauth_pauses_sends_until_event_25():
    _pause(0x29, 0x25, bstate.REAUTH, 37000)


def test_rate_limit_pauses_sends_until_event_33():
    _pause(0x32, 0x33, bstate.RATE_LIMITED, 60000)


def test_run_ends_at_its_limit_when_a_wait_jumps_past_it():
    s, mod, clock, states = _make()
    assert run(s, clock, lambda: s.reading.seq >= 1, 100000)
    s, mod, clock, states = _make()
    mod.silent = True  # the session sits in 5 s command timeouts; the limit falls inside one
    assert not run(s, clock, lambda: False, 7500)
    assert 7500 <= clock.now < 20000, clock.now


def test_recoveries_count_what_the_ladder_decided():
    """[rejoin, rescan, reset]: none on a clean start (its start and scan are no recovery),
    a rejoin after a silent meter, a reset after a silent module."""
    s, mod, clock, states = _make()
    assert run(s, clock, lambda: s.reading.seq >= 1, 100000)
    assert s.recoveries == [0, 0, 0] and s.resets == 1 and s.scans == 1
    mod.drop = 3
    n = s.reading.seq
    assert run(s, clock, lambda: s.reading.seq >= n + 1, clock.now + 300000)
    assert s.recoveries[0] >= 1 and s.recoveries[0] == s.rejoins and s.recoveries[1:] == [0, 0]
    s, mod, clock, states = _make()
    mod.silent = True
    assert run(s, clock, lambda: s.state == bstate.ERROR, 200000)
    assert s.recoveries[0] == 0 and s.recoveries[2] >= 2


def test_recoveries_count_a_rescan():
    s, mod, clock, states = _make()
    mod.refuse = "SKJOIN"
    assert run(s, clock, lambda: s.state == bstate.ERROR, 900000)
    assert s.recoveries[1] == 3 and s.recoveries[2] == 0
