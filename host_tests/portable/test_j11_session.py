"""The whole Session over J11Driver and the scripted J11 module (j11_fake): the first reading,
then each J11 fault and the ladder step it must lead to (docs/j11.md section 6), like the
SKSTACK ones in test_session_faults.py. Every test also checks that no request was written
before the previous one's answer, and that the ID and password never reach the log."""
import sys

from broute import bstate
from broute import session
from broute.j11driver import J11Driver
from broute.scancache import MemoryCache
from session_fake import VClock, run
from j11_fake import J11Module, RBID, PWD, MAC, link, pana, alloc_per_cycle


def _make(cache=None, hard=True):
    clock = VClock()
    mod = J11Module(clock)
    logs = []

    async def hard_reset():
        mod.pulse_reset()

    def drv(r, w, c, on):
        return J11Driver(r, w, c, on, hard_reset if hard else None)
    s = session.Session(mod, mod, RBID, PWD, cache=cache, clock=clock, log=logs.append, driver=drv)
    states = []
    s.listener = lambda kind: states.append((clock.now, s.state)) if kind == "state" else None
    s.logs = logs
    return s, mod, clock, states


def _clean(s, mod):
    assert mod.overlap == 0 and mod.bad_requests == 0
    text = "\n".join(s.logs)
    assert RBID not in text and PWD not in text and RBID[-8:] not in text


def _first(s, mod, clock, n=1):
    assert run(s, clock, lambda: s.reading.seq >= n, clock.now + 300000)


def test_first_reading_scans_joins_and_reads():
    cache = MemoryCache()
    s, mod, clock, _ = _make(cache)
    _first(s, mod, clock, 2)
    assert s.reading.power_w == 686 and s.state == bstate.CONNECTED
    assert s.version == "1.3.5514" and s.dialect == "j11" and s.rssi_dbm() == -60
    c = cache.load()
    assert c["channel"] == 0x3B and c["pan_id"] == 0x8888 and c["addr"] == MAC and c["rssi"] == -60
    assert mod.sent[:10] == [0x00D9, 0x006B, 0x0001, 0x005F, 0x0054, 0x0051, 0x005F, 0x0053, 0x0005, 0x0056]
    assert mod.creds[24:32] == RBID[-8:].encode()
    _clean(s, mod)


def test_warm_start_from_the_cache_skips_the_scan():
    cache = MemoryCache({"channel": 0x3B, "pan_id": 0x8888, "addr": MAC, "rssi": -70})
    s, mod, clock, _ = _make(cache)
    _first(s, mod, clock)
    assert 0x0051 not in mod.sent and s.scans == 0
    _clean(s, mod)


def _join_fails(result, reason):
    s, mod, clock, _ = _make()
    mod.pana_result = result
    assert run(s, clock, lambda: s.state == bstate.ERROR, 900000)
    assert s.reason == reason and mod.sent.count(0x0056) == 3
    mod.pana_result = 1
    _first(s, mod, clock)
    _clean(s, mod)


def test_pana_refused_6028_02_ends_in_auth_failed():
    _join_fails(2, session.AUTH_FAILED)


def test_pana_no_answer_6028_03_ends_in_join_no_answer():
    _join_fails(3, session.JOIN_NO_ANSWER)


def _lost(state):
    s, mod, clock, _ = _make()
    _first(s, mod, clock)
    mod.at(3000, link(state))
    mod.session = False
    _first(s, mod, clock, 3)
    assert s.rejoins == 1 and mod.sent.count(0x0056) == 2 and mod.sent.count(0x0058) == 1
    _clean(s, mod)


def test_mac_lost_601a_03_rejoins():
    _lost(3)


def test_pana_lost_601a_04_rejoins():
    _lost(4)


def test_a_send_not_transmitted_is_sent_again():
    s, mod, clock, _ = _make()
    _first(s, mod, clock)
    mod.tx_fail = 2
    n = len([x for x in mod.sent if isinstance(x, tuple)])
    _first(s, mod, clock, 3)
    assert len([x for x in mod.sent if isinstance(x, tuple)]) >= n + 4  # 2 not sent, then 2 readings
    assert s.rejoins == 0 and s.timeouts == 0
    _clean(s, mod)


def test_no_reply_resends_then_rejoins():
    s, mod, clock, _ = _make()
    _first(s, mod, clock)
    mod.drop = 3
    _first(s, mod, clock, 3)
    assert s.timeouts == 3 and s.rejoins == 1 and mod.sent.count(0x0057) == 1
    _clean(s, mod)


def test_a_reply_with_a_bad_checksum_is_dropped_and_the_request_sent_again():
    s, mod, clock, _ = _make()
    _first(s, mod, clock)
    mod.corrupt = 1
    _first(s, mod, clock, 3)
    assert s._drv.bad == 1 and s.timeouts == 1 and s.rejoins == 0 and s.resets == 1
    _clean(s, mod)


def test_a_mute_module_gets_the_reset_line():
    s, mod, clock, _ = _make()
    _first(s, mod, clock)
    mod.mute = True
    mod.session = False
    _first(s, mod, clock, 2)
    assert mod.hard >= 1 and s._drv.hard_resets == mod.hard and s.resets >= 2
    assert s.reason == ""
    _clean(s, mod)


def test_a_dead_module_without_a_reset_line_is_the_no_module_alarm():
    s, mod, clock, _ = _make(hard=False)
    mod.silent = True
    assert run(s, clock, lambda: s.state == bstate.ERROR, 200000)
    assert s.reason == session.NO_MODULE and mod.hard == 0
    mod.silent = False
    _first(s, mod, clock)
    _clean(s, mod)


def test_an_unprompted_boot_notification_restarts_the_session():
    s, mod, clock, _ = _make()
    _first(s, mod, clock)
    mod.at(2000, b"")
    mod.restart()
    _first(s, mod, clock, 2)
    assert s.resets == 2 and mod.sent.count(0x0054) == 2 and mod.sent.count(0x00D9) == 2
    _clean(s, mod)


def test_the_meter_gone_leads_to_a_rescan():
    s, mod, clock, _ = _make()
    _first(s, mod, clock)
    mod.visible = False
    assert run(s, clock, lambda: s.reason == session.NOT_FOUND, clock.now + 2000000)
    assert s.scans >= 2
    mod.visible = True
    _first(s, mod, clock, 2)
    _clean(s, mod)


def test_cannot_join_0e_rescans_then_alarms():
    s, mod, clock, _ = _make()
    mod.join_result = 0x0E
    assert run(s, clock, lambda: s.state == bstate.ERROR, 900000)
    assert s.reason == session.ADDR_REFUSED and mod.sent.count(0x0053) == 3 and s.scans == 3
    mod.join_result = 1
    _first(s, mod, clock)
    _clean(s, mod)


def test_a_reauthentication_result_is_not_a_fault():
    s, mod, clock, _ = _make()
    _first(s, mod, clock)
    mod.at(3000, pana(1))
    _first(s, mod, clock, 3)
    assert s.rejoins == 0 and s.state == bstate.CONNECTED
    mod.at(3000, pana(2))
    mod.session = False
    _first(s, mod, clock, 5)
    assert s.rejoins == 1
    _clean(s, mod)


# MicroPython unix port (64-bit), default poll: measured 1,129 B per cycle over J11 (1,062 B over
# SKSTACK, test_session_alloc.py: the extra is the 6018 payload's view); the same ceiling.
CEILING = 1400


def test_polling_cycle_over_j11_stays_under_the_allocation_ceiling():
    per, s = alloc_per_cycle()
    assert s.reading.power_w == 686 and s.rejoins == 0 and s.timeouts == 0 and s.resets == 1
    if sys.implementation.name == "micropython":
        assert per is not None and per <= CEILING, per
    else:
        assert per is None
