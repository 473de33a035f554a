"""The simulator against the reference byte formats, the meter physics and its faults.

Frames the simulated meter emits are decoded with pychonet, an independent
implementation; everything else is checked against literal lines from
docs/protocol.md. Time is driven by hand (sans-I/O), except in the transport tests.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

import pytest
from pychonet.LowVoltageSmartElectricEnergyMeter import _0288E7, _0288E8
from pychonet.lib.epc_functions import _009X
from pychonet.lib.functions import decodeEchonetMsg

from sim_faults import Faults, FaultError, parse_spec
from sim_meter import DEFAULT_ID, DEFAULT_PASSWORD, Meter, MeterConfig, scenario
from sim_module import Module
from sim_transport import Server

ME = "FE80:0000:0000:0000:021D:1290:1234:5678"
METER_IP = "FE80:0000:0000:0000:C2F9:4500:40AB:12CD"
MCAST = "FF02:0000:0000:0000:0000:0000:0000:0001"
GET_E7_E8_E0 = bytes.fromhex("1081000105FF010288016203E700E800E000")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def say(m, data, t):
    m.feed(data, t)
    return m.read(t)


def sendto(m, data, t, ip=METER_IP, sec=1):
    side = " 0" if m.dialect.dual else ""
    head = "SKSENDTO 1 %s 0E1A %d%s %04X " % (ip, sec, side, len(data))
    return say(m, head.encode() + data, t)


def join(dialect="bp35a1", cfg=None, faults=None):
    """A module with a PANA session to the meter, as a client would set it up; returns (m, t)."""
    m = Module(dialect, Meter(cfg or MeterConfig()), faults)
    say(m, b"SKSREG SFE 0\r\n", 0)
    say(m, ("SKSETRBID %s\r\n" % DEFAULT_ID).encode(), 0)
    say(m, ("SKSETPWD C %s\r\n" % DEFAULT_PASSWORD).encode(), 0)
    say(m, b"SKSREG S2 3B\r\nSKSREG S3 8888\r\n", 0)
    say(m, ("SKJOIN %s\r\n" % METER_IP).encode(), 1)
    out = m.read(10)
    assert b"EVENT 25" in out, out
    return m, 10.0


def erxudps(out, nfields=8):
    """(fields, payload) of each ERXUDP in a byte stream, read by DATALEN, binary or hex.

    nfields counts ERXUDP itself up to DATALEN: 8 single-stack, 9 dual-stack, 10 with SA2.
    """
    found = []
    i = out.find(b"ERXUDP ")
    while i >= 0:
        fields = out[i:].split(b" ", nfields)[:nfields]
        j = i + sum(len(f) + 1 for f in fields)
        n = int(fields[-1], 16)
        end = out.index(b"\r\n", j + n)
        raw = out[j:end]
        data = raw if len(raw) == n else bytes.fromhex(raw.decode())
        found.append(([f.decode() for f in fields], data))
        i = out.find(b"ERXUDP ", end)
    return found


def props(data):
    msg = decodeEchonetMsg(data)
    return msg, {p["EPC"]: p["EDT"] for p in msg["OPC"]}


# -- module byte formats ---------------------------------------------------------

@pytest.mark.parametrize("dialect,ever,last", [
    ("bp35a1", "1.2.10", "FFFE"), ("bp35c0", "1.5.2", "0"), ("rl7023-ips", "1.2.8", "FFFE")])
def test_skver_and_skinfo_lines(dialect, ever, last):
    m = Module(dialect)
    assert say(m, b"SKVER\r\n", 0) == b"SKVER\r\nEVER %s\r\nOK\r\n" % ever.encode()
    assert say(m, b"SKINFO\r\n", 0) == (
        "SKINFO\r\nEINFO %s 001D129012345678 21 FFFF %s\r\nOK\r\n" % (ME, last)).encode()


def test_echo_off_and_registers():
    m = Module("bp35a1")
    assert say(m, b"SKSREG SFE 0\r\n", 0) == b"SKSREG SFE 0\r\nOK\r\n"  # echoed as typed
    assert say(m, b"SKSREG S2 3B\r\n", 0) == b"OK\r\n"
    assert say(m, b"SKSREG S2\r\n", 0) == b"ESREG 3B\r\nOK\r\n"
    assert say(m, b"SKSREG S16\r\n", 0) == b"ESREG 00000384\r\nOK\r\n"
    assert say(m, b"SKSREG S2 3D\r\n", 0) == b"FAIL ER06\r\n"      # channel out of range
    assert say(m, b"SKSREG SF0 1\r\n", 0) == b"FAIL ER06\r\n"      # dual-stack only
    assert say(m, b"SKSREG SFD 5\r\n", 0) == b"FAIL ER06\r\n"      # read only
    assert say(m, b"SKSREG S2 21 00\r\n", 0) == b"FAIL ER05\r\n"
    assert say(m, b"SKFOO\r\n", 0) == b"FAIL ER04\r\n"
    assert say(m, b"SKSETPWD C 0123\r\n", 0) == b"FAIL ER06\r\n"    # length says 12
    assert say(m, b"SKSETRBID 0011\r\n", 0) == b"FAIL ER06\r\n"
    assert say(m, b"SKRESET\r\n", 0) == b"OK\r\n"
    assert say(m, b"SKSREG S2\r\n", 0) == b"SKSREG S2\r\nESREG 21\r\nOK\r\n"  # echo back on


def test_ropt_wopt_cr_only_persist_and_count():
    m = Module("bp35a1")
    assert say(m, b"ROPT\r", 0) == b"ROPT\rOK 00\r"
    assert say(m, b"WOPT 01\r", 0) == b"WOPT 01\rOK\r"
    say(m, b"SKRESET\r\n", 0)
    m.restart()
    assert say(m, b"ROPT\r", 0) == b"ROPT\rOK 01\r"   # flash survives resets
    assert m.wopt_writes == 1
    ips = Module("rl7023-ips")
    assert say(ips, b"ROPT\r", 0) == b"ROPT\rFAIL ER04\r\n"
    assert say(ips, b"WOPT 01\r", 0) == b"WOPT 01\rFAIL ER04\r\n"


def test_skll64_answers_the_address_without_ok():
    m = Module("bp35a1")
    assert say(m, b"SKLL64 C0F9450040AB12CD\r\n", 0) == ("SKLL64 C0F9450040AB12CD\r\n%s\r\n" % METER_IP).encode()


@pytest.mark.parametrize("dialect,cmd,side", [
    ("bp35a1", b"SKSCAN 2 FFFFFFFF 6\r\n", ""), ("bp35c0", b"SKSCAN 2 FFFFFFFF 6 0\r\n", " 0")])
def test_scan_lines_and_timing(dialect, cmd, side):
    m = Module(dialect)
    say(m, b"SKSREG SFE 0\r\n", 0)
    say(m, ("SKSETRBID %s\r\n" % DEFAULT_ID).encode(), 0)
    assert say(m, cmd, 0) == b"OK\r\n"
    per = 0.0096 * (2 ** 6 + 1)
    assert m.read(per * 27 - 0.001) == b""               # channel 3B is the 27th scanned
    pandesc = ("EVENT 20 %s%s\r\nEPANDESC\r\n  Channel:3B\r\n  Channel Page:09\r\n  Pan ID:8888\r\n"
               "  Addr:C0F9450040AB12CD\r\n  LQI:B2\r\n%s  PairID:CCDDEEFF\r\n"
               % (METER_IP, side, "  Side:0\r\n" if side else ""))
    assert m.read(per * 27) == pandesc.encode()
    assert m.read(per * 28 - 0.001) == b""
    assert m.read(per * 28) == ("EVENT 22 %s%s\r\n" % (ME, side)).encode()
    other = b"SKSCAN 2 FFFFFFFF 6 0\r\n" if dialect == "bp35a1" else b"SKSCAN 2 FFFFFFFF 6\r\n"
    assert say(m, other, 100) == b"FAIL ER05\r\n"


@pytest.mark.parametrize("cfg,dur,rbid,found", [
    (scenario("far-meter"), 5, DEFAULT_ID, False), (scenario("far-meter"), 6, DEFAULT_ID, True),
    (scenario("normal"), 4, DEFAULT_ID, True), (scenario("normal"), 4, "F" * 32, False),
    (scenario("no-meter"), 8, DEFAULT_ID, False)])
def test_scan_finds_the_meter_only_when_it_should(cfg, dur, rbid, found):
    m = Module("bp35a1", Meter(cfg))
    say(m, ("SKSETRBID %s\r\nSKSCAN 2 FFFFFFFF %X\r\n" % (rbid, dur)).encode(), 0)
    out = m.read(100)
    assert out.endswith(("EVENT 22 %s\r\n" % ME).encode())
    assert (b"EPANDESC" in out) == found


def test_join_pana_then_event25_then_d5_multicast():
    m, t = join()
    m2 = Module("bp35a1")
    say(m2, ("SKSREG SFE 0\r\nSKSETRBID %s\r\nSKSETPWD C %s\r\nSKSREG S2 3B\r\nSKSREG S3 8888\r\n"
             % (DEFAULT_ID, DEFAULT_PASSWORD)).encode(), 0)
    assert say(m2, ("SKJOIN %s\r\n" % METER_IP).encode(), 1) == b"OK\r\n"
    out = m2.read(10)
    assert out.startswith(("EVENT 21 %s 00\r\nEVENT 02 %s\r\nERXUDP " % (METER_IP, METER_IP)).encode())
    udp = erxudps(out)
    pana = [f for f, _ in udp if f[3] == "02CC"]
    assert len(pana) == 4 and all(f[6] == "0" for f in pana)      # not secured
    assert b"EVENT 25 %s\r\n" % METER_IP.encode() in out
    fields, data = udp[-1]
    assert fields[1:7] == [METER_IP, MCAST, "0E1A", "0E1A", "C0F9450040AB12CD", "1"]
    assert data == bytes.fromhex("108100000EF0010EF0017301D50401028801")
    assert out.index(b"EVENT 25") < out.rindex(b"ERXUDP")


@pytest.mark.parametrize("cfg,s2", [(MeterConfig(password="WRONGPASS123"), "3B"), (MeterConfig(), "21")])
def test_join_fails_with_event24(cfg, s2):
    m = Module("bp35a1", Meter(cfg))
    say(m, ("SKSREG SFE 0\r\nSKSETRBID %s\r\nSKSETPWD C %s\r\nSKSREG S2 %s\r\nSKSREG S3 8888\r\n"
            % (DEFAULT_ID, DEFAULT_PASSWORD, s2)).encode(), 0)
    say(m, ("SKJOIN %s\r\n" % METER_IP).encode(), 1)
    out = m.read(60)
    assert out.endswith(("EVENT 24 %s\r\n" % METER_IP).encode()) and b"EVENT 25" not in out
    assert sendto(m, GET_E7_E8_E0, 61) == b"FAIL ER10\r\n"


def test_sendto_binary_a1_line_and_reply():
    m, t = join("bp35a1")
    out = sendto(m, GET_E7_E8_E0, t)
    assert out == ("EVENT 21 %s 00\r\nOK\r\n" % METER_IP).encode()
    assert m.read(t + 0.5) == b""                                 # the meter takes about a second
    out = m.read(t + 2)
    head = ("ERXUDP %s %s 0E1A 0E1A C0F9450040AB12CD 1 001E " % (METER_IP, ME)).encode()
    assert out.startswith(head) and out.endswith(b"\r\n") and len(out) == len(head) + 0x1E + 2
    msg, p = props(out[len(head):-2])
    assert (msg["TID"], msg["ESV"], msg["SEOJCC"], msg["DEOJGC"]) == (1, 0x72, 0x88, 0x05)
    assert set(p) == {0xE7, 0xE8, 0xE0}


def test_sendto_echo_and_waits_for_exactly_len_bytes():
    m, t = join("bp35a1")
    say(m, b"SKSREG SFE 1\r\n", t)
    data = GET_E7_E8_E0[:6] + b"\r\n" + GET_E7_E8_E0[8:]            # CR LF inside the data
    head = ("SKSENDTO 1 %s 0E1A 1 %04X " % (METER_IP, len(data))).encode()
    assert say(m, head + data[:5], t) == b""
    assert say(m, data[5:], t) == head + ("\r\nEVENT 21 %s 00\r\nOK\r\n" % METER_IP).encode()
    assert say(m, b"SKSENDTO 1 FE80::1 0E1A 1 0012 ", t).endswith(b"FAIL ER06\r\n")


@pytest.mark.parametrize("dialect,wopt,sa2,expect", [
    ("bp35a1", True, False, "ERXUDP %s %s 0E1A 0E1A C0F9450040AB12CD 1 001E 10810001"),
    ("bp35c0", False, True, "ERXUDP %s %s 0E1A 0E1A C0F9450040AB12CD B2 1 0 001E \x10\x81\x00\x01"),
    ("bp35c0", True, False, "ERXUDP %s %s 0E1A 0E1A C0F9450040AB12CD 1 0 001E 10810001"),
    ("rl7023-ips", False, False, "ERXUDP %s %s 0E1A 0E1A C0F9450040AB12CD 1 001E 10810001")])
def test_erxudp_forms_per_dialect(dialect, wopt, sa2, expect):
    m, t = join(dialect)
    if wopt:
        say(m, b"WOPT 01\r", t)
    if sa2:
        say(m, b"SKSREG SA2 1\r\n", t)
    out = sendto(m, GET_E7_E8_E0, t)
    side = " 0" if dialect == "bp35c0" else ""
    assert out == ("EVENT 21 %s%s 00\r\nOK\r\n" % (METER_IP, side)).encode()
    out = m.read(t + 2)
    assert out.startswith((expect % (METER_IP, ME)).encode("latin-1"))
    nfields = 8 + (dialect == "bp35c0") + sa2
    assert props(erxudps(out, nfields)[0][1])[0]["ESV"] == 0x72


def test_get_several_epcs_one_answer_and_sna_for_unknown():
    m, t = join()
    sendto(m, bytes.fromhex("1081000505FF010288016203E700F000E800"), t)
    (_, data), = erxudps(m.read(t + 2))
    msg, p = props(data)
    assert msg["ESV"] == 0x52 and msg["TID"] == 5
    assert [(o["EPC"], o["PDC"]) for o in msg["OPC"]] == [(0xE7, 4), (0xF0, 0), (0xE8, 4)]
    assert _0288E7(p[0xE7]) is not None


def test_no_d3_meter_answers_get_sna():
    m = Meter(scenario("no-d3"))
    msg, p = props(m.handle(bytes.fromhex("1081000905FF010288016201D300"), 0)[0])
    assert msg["ESV"] == 0x52 and p[0xD3] == b""
    msg, p = props(Meter().handle(bytes.fromhex("1081000905FF010288016201D300"), 0)[0])
    assert msg["ESV"] == 0x72 and p[0xD3] == b"\x00\x00\x00\x01"


def test_property_maps_decode_with_pychonet():
    m = Meter()
    get = bytes.fromhex("1081000205FF010288016203" + "9D009E009F00")
    _, p = props(m.handle(get, 0)[0])
    assert sorted(_009X(p[0x9D])) == [0x80, 0x81, 0x88, 0xEA, 0xEB]
    assert sorted(_009X(p[0x9E])) == [0x81, 0xE5, 0xED]
    gets = _009X(p[0x9F])
    assert len(p[0x9F]) == 17 and len(gets) == p[0x9F][0]       # 16 or more: a bitmap
    assert {0x80, 0x8D, 0x9F, 0xD3, 0xE0, 0xE7, 0xE8, 0xEA, 0xED} <= set(gets)


# -- meter physics ------------------------------------------------------------------

def _sample(m, epc, w):
    return m.value(0x028801, epc, w)


def test_e0_integrates_e7_exactly():
    m = Meter(MeterConfig(unit=0x03, digits=8))                    # 0.001 kWh = 1 Wh steps
    w0 = m.start + 5
    e0 = struct.unpack(">I", _sample(m, 0xE0, w0))[0]
    wh = 0.0
    w = w0
    while w < w0 + 7200:                                           # two hours, tick by tick
        nxt = (int(w // 10) + 1) * 10
        wh += struct.unpack(">i", _sample(m, 0xE7, w))[0] * (nxt - w) / 3600
        w = nxt
    e1 = struct.unpack(">I", _sample(m, 0xE0, w))[0]
    assert abs((e1 - e0) - wh) <= 3, (e1 - e0, wh)
    assert wh > 300


@pytest.mark.parametrize("name", ["normal", "over-limit", "solar"])
def test_e8_consistent_with_e7_at_100_volts(name):
    m = Meter(scenario(name))
    rs = []
    for k in range(0, 86400, 97):
        w = m.start + k
        e7 = _0288E7(_sample(m, 0xE7, w))
        amps = _0288E8(_sample(m, 0xE8, w))
        rs.append(amps["r_phase_amperes"])
        assert abs(e7 - 100 * (amps["r_phase_amperes"] + amps["t_phase_amperes"])) <= 10
    if name == "over-limit":
        assert max(rs) >= 28


def test_two_wire_has_no_t_phase():
    m = Meter(scenario("two-wire"))
    amps = _0288E8(_sample(m, 0xE8, m.start))
    assert amps["t_phase_amperes"] is None and _sample(m, 0xE8, m.start)[2:] == b"\x7f\xfe"
    assert abs(_0288E7(_sample(m, 0xE7, m.start)) - 100 * amps["r_phase_amperes"]) <= 5


def test_solar_exports_at_midday_signed():
    m = Meter(scenario("solar", clock_start="2024-06-01T12:00:00", unit=0x03, digits=8))
    w = m.start
    assert struct.unpack(">i", _sample(m, 0xE7, w))[0] < -1000
    assert struct.unpack(">hh", _sample(m, 0xE8, w))[0] < 0
    e0, e3 = _sample(m, 0xE0, w), _sample(m, 0xE3, w)
    later = w + 1800
    assert _sample(m, 0xE0, later) == e0                           # nothing imported
    assert struct.unpack(">I", _sample(m, 0xE3, later))[0] > struct.unpack(">I", e3)[0] + 500


def test_history_e2_selected_with_setc_e5():
    m = Meter()
    res = m.handle(bytes.fromhex("1081000305FF010288016101E50101"), 0)[0]
    assert props(res)[0]["ESV"] == 0x71
    _, p = props(m.handle(bytes.fromhex("1081000405FF010288016201E200"), 0)[0])
    e2 = p[0xE2]
    assert len(e2) == 194 and e2[:2] == b"\x00\x01"
    vals = struct.unpack(">48I", e2[2:])
    assert list(vals) == sorted(vals) and vals[0] < vals[-1]
    m.handle(bytes.fromhex("1081000305FF010288016101E50100"), 0)
    today = struct.unpack(">48I", props(m.handle(bytes.fromhex("1081000405FF010288016201E200"), 0)[0])[1][0xE2][2:])
    assert today[0] >= vals[-1] and today[23] < 0xFFFFFFFE and today[24] == 0xFFFFFFFE  # now is 11:55
    bad = m.handle(bytes.fromhex("1081000605FF010288016101E50164"), 0)[0]  # day 100
    msg, p = props(bad)
    assert msg["ESV"] == 0x51 and p[0xE5] == b"\x64"


def test_ea_pushes_after_each_half_hour():
    m, t = join()
    out = m.read(t + 2 * 1800)
    pushes = [(f, d) for f, d in erxudps(out) if props(d)[1].get(0xEA)]
    assert len(pushes) == 2 and all(f[2] == MCAST for f, _ in pushes)
    msg, p = props(pushes[0][1])
    assert msg["ESV"] == 0x73 and set(p) == {0xEA, 0xEB}
    y, mo, d, h, mi, s = struct.unpack(">HBBBBB", p[0xEA][:7])
    assert (y, mo, d, h, mi, s) == (2024, 6, 1, 12, 0, 0)
    assert props(pushes[1][1])[1][0xEA][4:6] == bytes((12, 30))


def test_fault_push_loss_then_pushes_again():
    m, t = join(faults=Faults(["push-loss:1800@20"]))
    out = m.read(t + 1800)
    assert not [d for f, d in erxudps(out) if props(d)[1].get(0xEA)]  # 12:00 lost
    out = m.read(t + 3600)
    assert [d for f, d in erxudps(out) if props(d)[1].get(0xEA)]      # 12:30 arrives


def test_skjoin_refused_while_a_session_is_up_skterm_ends_it():
    m, t = join()
    assert say(m, ("SKJOIN %s\r\n" % METER_IP).encode(), t) == b"FAIL ER10\r\n"
    assert say(m, b"SKTERM\r\n", t) == b"OK\r\n"
    assert m.read(t + 1) == ("EVENT 27 %s\r\n" % METER_IP).encode()
    assert say(m, b"SKTERM\r\n", t + 1) == b"FAIL ER10\r\n"     # no session left
    assert say(m, ("SKJOIN %s\r\n" % METER_IP).encode(), t + 1) == b"OK\r\n"
    assert b"EVENT 25" in m.read(t + 10)


def test_infc_push_is_unicast_and_7a_is_recorded():
    m, t = join(cfg=scenario("infc"))
    (fields, data), = [(f, d) for f, d in erxudps(m.read(t + 600)) if d[10] == 0x74]
    assert fields[2] == ME
    msg, p = props(data)
    reply = data[:4] + bytes.fromhex("05FF010288017A02EA00EB00")
    sendto(m, reply, t + 600)
    assert m.meter.infc_acked == [msg["TID"]] and m.meter.infc_sent == [msg["TID"]]


# -- faults ---------------------------------------------------------------------

def _reply_lines(spec):
    m, t = join()
    m.inject(spec, t)
    first = sendto(m, GET_E7_E8_E0, t)
    return first, m.read(t + 5)


def test_fault_tx_results_and_er10():
    first, later = _reply_lines("tx-fail")
    assert first == ("EVENT 21 %s 01\r\nOK\r\n" % METER_IP).encode() and b"ERXUDP" not in later
    first, later = _reply_lines("tx-ns")
    assert first == ("EVENT 21 %s 02\r\n" % METER_IP).encode()
    assert later.startswith(("EVENT 21 %s 00\r\nOK\r\n" % METER_IP).encode()) and b"ERXUDP" in later
    first, later = _reply_lines("er10")
    assert first == b"FAIL ER10\r\n" and later == b""


def test_fault_reply_drop_dup_stale_corrupt():
    assert _reply_lines("drop")[1] == b""
    dup = erxudps(_reply_lines("dup")[1])
    assert len(dup) == 2 and dup[0] == dup[1]
    stale = erxudps(_reply_lines("stale-tid")[1])
    assert [props(d)[0]["TID"] for _, d in stale] == [0, 1]
    clean = _reply_lines("auth-fail")[1]                      # armed, but irrelevant here
    bad = _reply_lines("corrupt")[1]
    assert len(bad) == len(clean) and bad != clean


@pytest.mark.parametrize("spec,event", [("peer-term", 0x26), ("term", 0x27), ("term-timeout", 0x28)])
def test_fault_session_gone(spec, event):
    m, t = join()
    m.inject(spec, t)
    assert m.read(t) == ("EVENT %02X %s\r\n" % (event, METER_IP)).encode()
    assert sendto(m, GET_E7_E8_E0, t + 1) == b"FAIL ER10\r\n"


def test_fault_reauth_ok_and_fail():
    m, t = join()
    m.inject("reauth-ok:3", t)
    assert m.read(t) == ("EVENT 29 %s\r\n" % METER_IP).encode()
    assert sendto(m, GET_E7_E8_E0, t + 1) == ("EVENT 21 %s 01\r\nOK\r\n" % METER_IP).encode()
    assert m.read(t + 3) == ("EVENT 25 %s\r\n" % METER_IP).encode()
    assert sendto(m, GET_E7_E8_E0, t + 4).endswith(b" 00\r\nOK\r\n")
    assert b"ERXUDP" in m.read(t + 10)
    m.inject("reauth-fail", t + 10)
    assert m.read(t + 13) == ("EVENT 29 %s\r\nEVENT 24 %s\r\n" % (METER_IP, METER_IP)).encode()
    assert m.session is None


def test_fault_rate_limit():
    m, t = join()
    m.inject("rate-limit:60", t)
    assert m.read(t) == ("EVENT 32 %s\r\n" % ME).encode()
    assert sendto(m, GET_E7_E8_E0, t + 30) == b"FAIL ER10\r\n"
    assert say(m, b"SKSREG SFB\r\n", t + 30) == b"ESREG 1\r\nOK\r\n"
    assert m.read(t + 60).startswith(("EVENT 33 %s\r\n" % ME).encode())
    assert sendto(m, GET_E7_E8_E0, t + 61).endswith(b"OK\r\n")


def test_fault_mute_restart():
    m, t = join()
    m.inject("mute:30", t)
    assert say(m, b"SKVER\r\n", t + 1) == b"" and m.read(t + 29) == b""
    assert say(m, b"SKVER\r\n", t + 31) == b"EVER 1.2.10\r\nOK\r\n"
    m.inject("restart", t + 40)
    assert say(m, b"SKVER\r\n", t + 41) == b"SKVER\r\nEVER 1.2.10\r\nOK\r\n"   # echo back on
    assert m.session is None and m.restarts == 1


def test_fault_meter_gone_and_back():
    m, t = join()
    m.inject("meter-gone", t)
    assert sendto(m, GET_E7_E8_E0, t) == ("EVENT 21 %s 01\r\nOK\r\n" % METER_IP).encode()
    assert m.read(t + 5) == b""
    say(m, b"SKSCAN 2 FFFFFFFF 6\r\n", t + 10)
    assert b"EPANDESC" not in m.read(t + 40)
    m.inject("meter-back", t + 40)
    say(m, b"SKSCAN 2 FFFFFFFF 6\r\n", t + 40)
    assert b"EPANDESC" in m.read(t + 70)


def test_fault_uart_noise_and_foreign_frames():
    m, t = join()
    m.inject("garbage", t)
    noise = m.read(t)
    assert noise.endswith(b"\r\n") and all(b >= 0x80 for b in noise[:-2])
    m.inject("half-line", t)
    half = m.read(t)
    assert half and not half.endswith(b"\r\n") and b"EVENT 21".startswith(half[:8])
    m.inject("foreign-node", t)
    (f, d), = erxudps(m.read(t))
    assert f[1] != METER_IP and props(d)[0]["SEOJCC"] == 0x88
    m.inject("foreign-eoj", t)
    (f, d), = erxudps(m.read(t))
    assert f[1] == METER_IP and (props(d)[0]["SEOJGC"], props(d)[0]["SEOJCC"]) == (0x02, 0x79)
    m.inject("pana", t)
    (f, d), = erxudps(m.read(t))
    assert f[3:5] == ["02CC", "02CC"] and f[6] == "0"


def test_fault_auth_fail_on_join_then_ok():
    m = Module("bp35a1")
    m.inject("auth-fail", 0)
    say(m, ("SKSETRBID %s\r\nSKSETPWD C %s\r\nSKSREG S2 3B\r\nSKSREG S3 8888\r\n"
            % (DEFAULT_ID, DEFAULT_PASSWORD)).encode(), 0)
    say(m, ("SKJOIN %s\r\n" % METER_IP).encode(), 1)
    assert m.read(10).endswith(("EVENT 24 %s\r\n" % METER_IP).encode())
    say(m, ("SKJOIN %s\r\n" % METER_IP).encode(), 10)
    assert b"EVENT 25" in m.read(20)


def test_scheduled_and_random_faults():
    m, t = join(faults=Faults(["term@100"]))
    assert m.read(99) == b""
    assert m.read(100) == ("EVENT 27 %s\r\n" % METER_IP).encode()
    runs = []
    for _ in range(2):
        m, t = join(faults=Faults(rate=1.0, seed=7))
        for k in range(5):
            m.read(t + 100 * k)
            sendto(m, GET_E7_E8_E0, t + 100 * k)
        runs.append([n for _, n in m.faults.fired])
    assert runs[0] == runs[1] and len(runs[0]) >= 3
    with pytest.raises(FaultError):
        parse_spec("nonsense@3")
    assert parse_spec("rate-limit:20@300") == ("rate-limit", 20.0, 300.0)


# -- transports ---------------------------------------------------------------------

def _read_until(sock, token, limit=5.0):
    sock.settimeout(limit)
    buf = b""
    while token not in buf:
        chunk = sock.recv(4096)
        assert chunk, buf
        buf += chunk
    return buf


def test_tcp_time_scale_stretches_a_scan():
    srv = Server(Module("bp35a1"), scale=0.01)
    host, port = srv.open_tcp("127.0.0.1", 0)
    srv.start()
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(("SKSETRBID %s\r\nSKSCAN 2 FFFFFFFF 6\r\n" % DEFAULT_ID).encode())
            t0 = time.monotonic()
            out = _read_until(s, b"EVENT 22")
            assert time.monotonic() - t0 >= 28 * 0.0096 * 65 * 0.01 * 0.9
            assert b"EPANDESC" in out
    finally:
        srv.stop()


def test_traffic_log_masks_credentials():
    lines = []
    srv = Server(Module("bp35a1"), scale=0.01, log=lines.append)
    host, port = srv.open_tcp("127.0.0.1", 0)
    srv.start()
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            msg = ("SKSETRBID %s\r\nSKSETPWD C %s\r\nSKVER\r\n" % (DEFAULT_ID, DEFAULT_PASSWORD)).encode()
            for i in range(0, len(msg), 7):                  # secrets split across reads
                s.sendall(msg[i:i + 7])
                time.sleep(0.01)
            _read_until(s, b"EVER")
    finally:
        srv.stop()
    # the connect line names the client's ephemeral port, whose digits may match part of the password
    text = "\n".join(line for line in lines if not line.startswith("client connected from"))
    assert "SKSETPWD" in text and DEFAULT_ID[-8:] not in text
    assert not [DEFAULT_PASSWORD[i:i + 4] for i in range(9) if DEFAULT_PASSWORD[i:i + 4] in text]


def test_cli_tcp_port_zero_ready_line_and_stats():
    cmd = [sys.executable, os.path.join(ROOT, "tools", "sim.py"), "--tcp", "127.0.0.1:0",
           "--dialect", "bp35c0", "--time-scale", "0.01", "--scenario", "solar"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("sim: listening on 127.0.0.1:")
        port = int(line.split(":")[2].split()[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"SKINFO\r\nWOPT 01\r")
            assert _read_until(s, b"WOPT 01\rOK\r").startswith(b"SKINFO\r\nEINFO ")
        p.stdin.write("fault garbage\nstats\n")
        p.stdin.flush()
        stats = json.loads(p.stdout.readline())
        assert stats["wopt_writes"] == 1 and stats["faults_fired"] == ["garbage"]
        p.stdin.write("quit\n")
        p.stdin.flush()
        assert p.wait(5) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_history_fixed_time_and_clock_agree_by_hand_across_a_month_end_and_the_wrap():
    """A load worked out by hand (1 kW bought at night): 28 Feb 23:10 + 60 min is 1 March 00:10;
    E0 passes 99,999.9 kWh (D7 6, 0.1 kWh) at 23:31, so 00:00's count is 4 (100,000.48 kWh)."""
    m = Meter(MeterConfig(flat=(1000, 600, 10, 14), import_kwh=99999.65, export_kwh=2345.65,
                          clock_start="2025-02-28T23:10:00"))

    def get(epcs, t=3600):
        req = bytes.fromhex("1081000105FF01028801") + bytes([0x62, len(epcs)]) + b"".join(
            bytes([e, 0]) for e in epcs)
        return props(m.handle(req, t)[0])[1]

    p = get([0x98, 0x97, 0xEA, 0xEB, 0xE0, 0xE3, 0xE2, 0xE4])
    assert p[0x98] == bytes([2025 >> 8, 2025 & 255, 3, 1]) and p[0x97] == bytes([0, 10])
    assert p[0xEA] == bytes([7, 233, 3, 1, 0, 0, 0]) + struct.pack(">I", 4)
    assert p[0xEB] == bytes([7, 233, 3, 1, 0, 0, 0]) + struct.pack(">I", 23456)  # nothing sold at night
    assert struct.unpack(">I", p[0xE0])[0] == 6  # 100,000.65 kWh at 00:10
    e2, e4 = struct.unpack(">H48I", p[0xE2]), struct.unpack(">H48I", p[0xE4])
    assert e2[:3] == (0, 4, 0xFFFFFFFE) and e4[:2] == (0, 23456)  # 00:00, and 00:30 not yet
    assert props(m.handle(bytes.fromhex("1081000305FF010288016101E50101"), 3600)[0])[0]["ESV"] == 0x71
    e2 = struct.unpack(">H48I", get([0xE2])[0xE2])  # 28 February: 23:00 before the start, 23:30 after
    # 00:00 that day: 19 h 10 min of buying (23:10 less the 4 h of selling) before 99,999.65 kWh
    assert e2[0] == 1 and e2[47:49] == (999994, 999999) and e2[1] == 999804
