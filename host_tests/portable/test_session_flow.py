"""Session start-up, warm start, reading and the dialects, against the scripted module."""
from broute import bstate
from broute import session
from broute.scancache import MemoryCache
from session_fake import VClock, FakeModule, RBID, PWD, run


def _make(dual=False, hexdata=False, cache=None, chunk=7):
    clock = VClock()
    mod = FakeModule(clock, dual=dual, hexdata=hexdata, chunk=chunk)
    logs = []
    s = session.Session(mod, mod, RBID, PWD, cache=cache, clock=clock, log=logs.append)
    states = []

    def listener(kind):
        if kind == "state":
            states.append((s.state, s.scan_duration))
        else:
            states.append(("reading", s.reading.ticks))
    s.listener = listener
    return s, mod, clock, logs, states


def _epcs(frame):
    return bytes(frame[12 + 2 * i] for i in range(frame[11]))


def _frames(mod):
    return [x[1] for x in mod.sent if isinstance(x, tuple)]


def test_cold_start_single_binary():
    cache = MemoryCache()
    s, mod, clock, logs, states = _make(cache=cache)
    mod.scan_min = 6
    assert run(s, clock, lambda: s.reading.seq >= 2, 600000)
    r = s.reading
    assert r.power_w == 686 and r.current_r_da == 60 and r.current_t_da == 10
    assert abs(r.energy_kwh - 12345.6) < 1e-6 and abs(r.energy_rev_kwh - 1.6) < 1e-6
    assert s.state == bstate.CONNECTED and s.dialect == "single" and s.version == "1.2.10"
    assert [d for st, d in states if st == bstate.SCANNING] == [4, 5, 6] and s.scans == 3
    assert "WOPT" not in mod.sent and "ROPT" not in mod.sent
    assert cache.saves == 1 and cache.data["channel"] == 0x3B and cache.data["addr"] == "001D129012345678"
    assert s.rssi_dbm() == -55 and cache.data["rssi"] == -55 and "lqi" not in cache.data
    seen = [st for st, _ in states if st != "reading"]
    assert seen == [bstate.SCANNING] * 3 + [bstate.JOINING, bstate.CONNECTED], seen
    # one Get per poll: the first carries the scale and map with the reading, then E7 E8
    fr = _frames(mod)
    assert _epcs(fr[0]) == b"\xD3\xE1\xD7\x9F\xE7\xE8\xE0\xE3\x98\x97\xEA\xE2"
    assert _epcs(fr[1]) == b"\xE7\xE8" and len(fr) == 2
    t = [v for st, v in states if st == "reading"]
    assert 9990 <= t[1] - t[0] <= 10010, t  # the default 10 s poll
    text = " ".join(logs)
    assert PWD not in text and RBID not in text and RBID[-8:] not in text


def test_first_reading_is_one_get_after_the_join():
    """The scale, digits and map come with the first power request: one round trip after the
    join. This meter lacks D3, E2 and EA: its Get_SNA still carries the watts and the energy."""
    cache = MemoryCache({"channel": 0x3B, "pan_id": 0x8888, "addr": "001D129012345678", "rssi": -55})
    s, mod, clock, logs, states = _make(cache=cache)
    joined = []
    s.listener = lambda kind: joined.append(len(_frames(mod))) if kind == "state" and \
        s.state == bstate.CONNECTED else None
    assert run(s, clock, lambda: s.reading.seq >= 1, 120000)
    assert joined == [0] and len(_frames(mod)) == 1
    r = s.reading
    assert r.power_w == 686 and r.current_r_da == 60 and abs(r.energy_kwh - 12345.6) < 1e-6
    assert r.today_kwh is None and s._tracker.coefficient == 1  # no E2, D3 refused: 1


def test_warm_start_joins_from_cache_without_scanning():
    cache = MemoryCache({"channel": 0x3B, "pan_id": 0x8888, "addr": "001D129012345678", "rssi": -55})
    s, mod, clock, logs, states = _make(cache=cache)
    assert run(s, clock, lambda: s.reading.seq >= 1, 120000)
    assert "SKSCAN" not in mod.sent and "SKLL64" in mod.sent
    assert clock.now < 5000, clock.now


def test_stale_cache_falls_back_to_scan():
    cache = MemoryCache({"channel": 0x21, "pan_id": 0x1234, "addr": "001D129099999999",
                         "ip": "FE80:0000:0000:0000:021D:1290:9999:9999"})
    s, mod, clock, logs, states = _make(cache=cache)
    orig = mod._command

    def command(line):  # the cached address is not the meter: its join fails
        if line.startswith(b"SKJOIN") and b"9999" in line:
            mod.sent.append("SKJOIN")
            mod.at(5, b"OK\r\n")
            mod.at(4000, mod.event(0x24))
            return
        orig(line)
    mod._command = command
    assert run(s, clock, lambda: s.reading.seq >= 1, 600000)
    assert "SKSCAN" in mod.sent and cache.data["addr"] == "001D129012345678"


def test_dual_dialect_hex_payloads_small_fragments():
    s, mod, clock, logs, states = _make(dual=True, hexdata=True, chunk=3)
    mod.power, mod.currents = -1200, (-70, -50)  # solar export
    assert run(s, clock, lambda: s.reading.seq >= 2, 600000)
    assert s.dialect == "dual" and s.reading.power_w == -1200
    assert [x for x in mod.sent if x == "SKSCAN"]


def test_meter_without_d3_means_coefficient_one():
    s, mod, clock, logs, states = _make()
    assert run(s, clock, lambda: s.reading.seq >= 1, 600000)
    assert s._tracker.coefficient == 1 and s._tracker.unit == 0.1 and s._tracker.digits == 6


def test_b_route_id_case_is_normalised_and_non_ids_refused():
    """A mistyped ID would only look like "no meter" (the scan carries its last 8 digits)."""
    s, mod, clock, logs, states = _make()
    s2 = session.Session(mod, mod, RBID.lower(), PWD, clock=clock)
    assert s2._rbid == RBID.encode()
    for bad in (RBID[:-1] + "G", RBID[:-1], RBID + "0", RBID[:16] + " " + RBID[17:], "x" * 32):
        try:
            session.Session(mod, mod, bad, PWD, clock=clock)
        except ValueError as e:
            msg = str(e)
            assert "32 hex digits" in msg and bad not in msg and bad[-8:] not in msg, msg
        else:
            assert False, "accepted %r" % bad


def test_bad_credentials_rejected_at_construction():
    clock = VClock()
    mod = FakeModule(clock)
    for rbid, pwd in (("short", PWD), (RBID, ""), (RBID, "with space")):
        try:
            session.Session(mod, mod, rbid, pwd, clock=clock)
        except ValueError as e:
            assert PWD not in str(e)
        else:
            assert False, "accepted bad credentials"
