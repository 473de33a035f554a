"""The J11 simulator (tools/simulator/sim_j11.py) by raw frames, built here with struct.

Checked against the public vectors (ROHM's version request, a status response from
Tosainu/bp35c0-j11-stuff) and the meter's answers decoded with pychonet, an independent
ECHONET Lite implementation. Time is driven by hand (sans-I/O), except in the transport tests.
"""
import json
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest
from pychonet.LowVoltageSmartElectricEnergyMeter import _0288E7, _0288E8
from pychonet.lib.functions import decodeEchonetMsg

import sim_j11
from sim_faults import FaultError, Faults
from sim_meter import DEFAULT_ID, DEFAULT_PASSWORD, Meter, MeterConfig, scenario
from sim_module import Module as SkModule
from sim_transport import Server, mask

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQ, RES = 0xD0EA83FC, 0xD0F9EE5D
METER_MAC = bytes.fromhex("C0F9450040AB12CD")
METER_IP = bytes.fromhex("FE80000000000000C2F9450040AB12CD")   # bit 1 of the first byte flipped
GET_E7_E8 = bytes.fromhex("1081000105FF010288016202E700E800")


def req(code, data=b""):
    head = struct.pack(">IHH", REQ, code, 4 + len(data))
    return head + struct.pack(">HH", sum(head) & 0xFFFF, sum(data) & 0xFFFF) + data


def frames(out):
    """(code, data) of each response frame, checking both checksums; anything else fails."""
    got, i = [], 0
    while i < len(out):
        uc, code, n, hs, ds = struct.unpack_from(">IHHHH", out, i)
        assert uc == RES and hs == sum(out[i:i + 8]) & 0xFFFF, out[i:].hex()
        data = out[i + 12:i + 8 + n]
        assert len(data) == n - 4 and ds == sum(data) & 0xFFFF, out[i:].hex()
        got.append((code, bytes(data)))
        i += 8 + n
    return got


def say(m, data, t):
    m.feed(data, t)
    return frames(m.read(t))


def codes(fs):
    return [c for c, _ in fs]


def udp(payload, dst=METER_IP, port=0x0E1A):
    return req(0x0008, dst + struct.pack(">HHH", port, port, len(payload)) + payload)


def booted(cfg=None, faults=None):
    m = sim_j11.Module(Meter(cfg or MeterConfig()), faults)
    assert frames(m.read(0)) == [(0x6019, b"")]
    return m


def init(m, t=0.0, ch=17):
    assert say(m, req(0x005F, bytes((5, 0, ch, 0))), t) == [(0x205F, b"\x01")]


def creds(m, t=0.0, rbid=DEFAULT_ID, pwd=DEFAULT_PASSWORD):
    assert say(m, req(0x0054, (rbid + pwd).encode()), t) == [(0x2054, b"\x01")]


def scan_req(dur=6, mask_=0x3FFF0, pair=DEFAULT_ID[-8:]):
    return req(0x0051, struct.pack(">BIB", dur, mask_, 1) + pair.encode())


def joined(cfg=None, faults=None):
    """A module with PANA up and 0E1A open, as the application note's sequence sets it up."""
    m = booted(cfg, faults)
    init(m)
    creds(m)
    assert say(m, req(0x0053), 0) == []                 # nothing yet: it is looking for the meter
    fs = frames(m.read(1.0))
    assert codes(fs) == [0x2053] and fs[0][1][0] == 1
    assert say(m, req(0x0005, b"\x0e\x1a"), 1.0) == [(0x2005, b"\x01")]
    assert say(m, req(0x0056), 1.0) == [(0x2056, b"\x01")]
    fs = frames(m.read(3.5))
    assert fs == [(0x6028, b"\x01" + METER_MAC)], fs
    return m, 3.5


def rx6018(data):
    """(src, sport, dport, pan, kind, security, rssi, payload) of a 6018's data."""
    head = struct.unpack_from(">16sHHHBBbH", data)
    assert len(data) == 27 + head[-1]
    return head[:-1] + (data[27:],)


# -- framing --------------------------------------------------------------------------
def test_public_vectors():
    assert req(0x006B) == bytes.fromhex("D0EA83FC006B000403A80000")
    m = booted()
    assert say(m, req(0x006B), 0) == [(0x206B, struct.pack(">BHBBI", 1, *sim_j11.VERSION))]
    # before the initial setting: global block inactive (02), B route inactive (01)
    assert say(m, req(0x0001), 0) == [(0x2001, b"\x01\x02\x01\x01")]
    assert sim_j11.encode(0x2001, b"\x01\x02\x01\x03") == bytes.fromhex("D0F9EE5D20010008033D000701020103")


def test_checksum_errors_answer_2fff_and_the_next_frame_is_read():
    m = booted()
    bad_head = bytearray(req(0x006B))
    bad_head[9] ^= 1
    bad_data = bytearray(req(0x005F, b"\x05\x00\x11\x00"))
    bad_data[-1] ^= 4
    fs = say(m, bytes(bad_head) + bytes(bad_data) + req(0x006B), 0)
    assert codes(fs) == [0x2FFF, 0x2FFF, 0x206B]
    assert m.mode is None          # the mangled 005F was not applied


def test_unknown_command_ffff_and_garbage_or_text_get_no_reply():
    m = booted()
    assert say(m, req(0x0123), 0) == [(0xFFFF, b"")]
    assert say(m, b"SKVER\r\nSKINFO\r\n\xff\xd0\xea\x00\x13", 0) == []
    # a request split anywhere, after garbage that ends in part of a unique code
    msg = b"\r\n\xd0\xea" + req(0x006B)
    for i in range(len(msg)):
        m.feed(msg[i:i + 1], 0)
    assert codes(frames(m.read(0))) == [0x206B]


def test_oversize_is_dropped_and_the_module_resynchronises():
    m = booted()
    head = struct.pack(">IHH", REQ, 0x0008, 0xFFF0)
    huge = head + struct.pack(">HH", sum(head) & 0xFFFF, 0) + bytes(40)
    assert say(m, huge + req(0x006B), 0) == [(0x206B, struct.pack(">BHBBI", 1, *sim_j11.VERSION))]
    # a UDP frame whose inner length disagrees with the frame: parameter error
    bad = req(0x0008, METER_IP + struct.pack(">HHH", 0x0E1A, 0x0E1A, 99) + GET_E7_E8)
    assert say(m, bad, 0) == [(0x2008, bytes((sim_j11.E_PARAM,)))]


def test_nothing_is_answered_while_booting_after_00d9():
    m = booted()
    init(m)
    assert say(m, req(0x00D9), 1.0) == []
    assert say(m, req(0x006B), 1.1) == []                    # still booting
    assert frames(m.read(1.0 + sim_j11.BOOT_S)) == [(0x6019, b"")]
    assert m.mode is None                                   # the setting was volatile
    assert codes(say(m, req(0x006B), 2.0)) == [0x206B]
    assert m.flash_writes == 0 and m.wopt_writes == 0


# -- command order ------------------------------------------------------------------
def test_order_is_enforced_with_result_codes():
    m = booted()
    st = bytes((sim_j11.E_STATE,))
    assert say(m, req(0x0054, (DEFAULT_ID + DEFAULT_PASSWORD).encode()), 0) == [(0x2054, st)]
    assert say(m, scan_req(), 0) == [(0x2051, st)]
    assert say(m, req(0x0053), 0) == [(0x2053, st)]
    assert say(m, req(0x0056), 0) == [(0x2056, st)]
    assert say(m, udp(GET_E7_E8), 0) == [(0x2008, st)]
    assert say(m, req(0x005F, bytes((1, 0, 17, 0))), 0) == [(0x205F, b"\x01")]   # HAN mode
    assert say(m, scan_req(), 0) == [(0x2051, st)]           # B route needs mode 05
    init(m)
    assert say(m, req(0x0053), 0) == [(0x2053, st)]           # no credentials yet
    assert say(m, req(0x005F, bytes((5, 0, 3, 0))), 0) == [(0x205F, bytes((sim_j11.E_PARAM,)))]
    assert say(m, req(0x0054, b"short"), 0) == [(0x2054, bytes((sim_j11.E_PARAM,)))]
    creds(m)
    assert say(m, req(0x0005, b"\x0e\x1a"), 0) == [(0x2005, b"\x01")]
    assert say(m, req(0x0005, b"\x0e\x1a"), 0) == [(0x2005, bytes((sim_j11.E_OPEN,)))]
    assert say(m, req(0x0057), 0) == [(0x2057, st)]
    assert say(m, req(0x00D2), 0) == [(0x20D2, st)]


def test_one_request_in_flight():
    m = booted()
    init(m)
    creds(m)
    assert say(m, scan_req(dur=4), 0) == []
    busy = bytes((sim_j11.E_BUSY,))
    assert say(m, req(0x006B), 0.1) == [(0x206B, busy)]
    assert say(m, scan_req(), 0.1)[-1] == (0x2051, busy)
    fs = frames(m.read(14 * 0.00964 * 16))
    assert codes(fs) == [0x4051] * 14 + [0x2051] and fs[-1][1] == b"\x01"
    assert codes(say(m, req(0x006B), 3.0)) == [0x206B]


def test_scan_one_4051_per_channel_then_2051_and_time_proportional_to_duration():
    m = booted()
    init(m)
    creds(m)
    m.feed(scan_req(dur=6), 0)
    per = 0.00964 * 64
    assert frames(m.read(16 * per)) and m.read(100) == b""
    m = booted()
    init(m)
    m.feed(scan_req(dur=6), 0)
    assert codes(frames(m.read(13 * per - 0.01))) == [0x4051] * 12     # ch 4-15 so far
    fs = frames(m.read(14 * per))
    assert codes(fs) == [0x4051, 0x4051, 0x2051]
    ch, n, mac, pan, rssi = struct.unpack(">xBB8sHb", fs[1][1])
    assert (ch, n, mac, pan) == (17, 1, METER_MAC, 0x8888) and rssi == sim_j11.rssi_dbm(0xB2)
    assert fs[0][1] == b"\x01\x10"                                   # channel 16: no beacon


@pytest.mark.parametrize("cfg,dur,pair,found", [
    (MeterConfig(), 4, DEFAULT_ID[-8:], True),
    (MeterConfig(), 3, DEFAULT_ID[-8:], False),             # too short for this meter
    (MeterConfig(), 6, "0000FFFF", False),                   # another pairing ID
    (MeterConfig(scan_min=6), 5, DEFAULT_ID[-8:], False),
    (MeterConfig(present=False), 8, DEFAULT_ID[-8:], False),
    (MeterConfig(channel=0x21), 4, DEFAULT_ID[-8:], True),   # SKSTACK 0x21 is J11 channel 4
])
def test_scan_finds_the_meter_only_when_it_should(cfg, dur, pair, found):
    m = booted(cfg)
    init(m)
    m.feed(scan_req(dur=dur, pair=pair), 0)
    fs = frames(m.read(1000))
    assert any(d[0] == 0 for c, d in fs if c == 0x4051) == found


def test_broute_start_without_a_meter_is_0e():
    m = booted(MeterConfig(present=False))
    init(m)
    creds(m)
    assert say(m, req(0x0053), 0) == []
    assert frames(m.read(3.0)) == [(0x2053, bytes((sim_j11.E_JOIN,)))]
    m = booted()
    init(m, ch=16)                                           # the wrong channel
    creds(m)
    m.feed(req(0x0053), 0)
    assert frames(m.read(3.0)) == [(0x2053, b"\x0e")]


# -- a whole session ------------------------------------------------------------------
def test_full_session_readings_decode_with_pychonet():
    m, t = joined()
    fs = frames(m.read(t + 0.5))                              # D5 instance list, multicast
    src, sport, dport, pan, kind, sec, rssi, payload = rx6018(fs[0][1])
    assert (src, sport, dport, pan, kind, sec) == (METER_IP, 0x0E1A, 0x0E1A, 0x8888, 1, 2)
    d5 = decodeEchonetMsg(payload)
    assert (d5["SEOJGC"], d5["SEOJCC"], d5["ESV"], d5["OPC"][0]["EPC"]) == (0x0E, 0xF0, 0x73, 0xD5)
    assert say(m, udp(GET_E7_E8), t + 1) == []
    fs = frames(m.read(t + 1.05))
    assert fs == [(0x2008, b"\x01\x00" + GET_E7_E8[:4])]
    fs = frames(m.read(t + 3))
    assert codes(fs) == [0x6018]
    payload = rx6018(fs[0][1])[-1]
    msg = decodeEchonetMsg(payload)
    assert msg["TID"] == 1 and msg["ESV"] == 0x72
    props = {p["EPC"]: p["EDT"] for p in msg["OPC"]}
    watts = _0288E7(props[0xE7])
    r, tt = _0288E8(props[0xE8])["r_phase_amperes"], _0288E8(props[0xE8])["t_phase_amperes"]
    assert 50 < watts < 6000 and abs((r + tt) * 100 - watts) < 0.1 * watts + 50
    # a request while the previous 0008 is on the air
    m.feed(udp(GET_E7_E8), t + 4)
    assert say(m, udp(GET_E7_E8), t + 4.01) == [(0x2008, bytes((sim_j11.E_BUSY,)))]
    # status: global active, B route authenticated
    m.read(t + 10)
    assert say(m, req(0x0001), t + 10) == [(0x2001, b"\x01\x03\x03\x01")]
    assert say(m, req(0x0057), t + 10) == [(0x2057, b"\x01")]
    assert say(m, udp(GET_E7_E8), t + 10) == [(0x2008, bytes((sim_j11.E_STATE,)))]
    assert say(m, req(0x0058), t + 10) == [(0x2058, b"\x01")]


def test_no_6018_unless_the_port_is_open():
    m, t = joined()
    assert say(m, req(0x0006, b"\x0e\x1a"), t) == [(0x2006, b"\x01")]
    m.feed(udp(GET_E7_E8), t)
    assert codes(frames(m.read(t + 5))) == [0x2008]


def test_wrong_password_6028_02_and_no_meter_6028_03():
    m = booted()
    init(m)
    creds(m, pwd="XXXXXXXXXXXX")
    m.feed(req(0x0053), 0)
    m.read(1)
    assert say(m, req(0x0056), 1) == [(0x2056, b"\x01")]
    assert say(m, req(0x006B), 1.5) == [(0x206B, bytes((sim_j11.E_BUSY,)))]   # PANA in flight
    assert frames(m.read(5)) == [(0x6028, b"\x02" + METER_MAC)]
    assert m.session is None
    m, t = booted(), 0
    init(m)
    creds(m)
    m.feed(req(0x0053), 0)
    m.read(1)
    m.meter.present = False
    m.feed(req(0x0056), 1)
    assert frames(m.read(20)) == [(0x2056, b"\x01")]
    assert frames(m.read(21)) == [(0x6028, b"\x03" + METER_MAC)]


def test_pushes_and_infc():
    m, t = joined(scenario("infc"))
    fs = [f for f in frames(m.read(t + 2000)) if f[0] == 0x6018]
    pushes = [rx6018(d) for _, d in fs[1:]]
    assert pushes and all(p[4] == 0 and p[-1][10] == 0x74 for p in pushes)   # INFC is unicast


def test_reauthenticate_00d2():
    m, t = joined()
    t += 1
    m.read(t)
    assert say(m, req(0x00D2), t) == [(0x20D2, b"\x01")]
    assert say(m, req(0x006B), t + 0.5)[0] == (0x206B, bytes((sim_j11.E_BUSY,)))
    assert (0x6028, b"\x01" + METER_MAC) in frames(m.read(t + 2.5))
    assert m.session is not None


# -- faults -----------------------------------------------------------------------------
def test_tx_fail_er10_and_rate_limit():
    m, t = joined()
    m.read(t + 1)
    m.inject("tx-fail")
    m.feed(udp(GET_E7_E8), t + 1)
    assert frames(m.read(t + 3)) == [(0x2008, b"\x01\x01" + GET_E7_E8[:4])]   # not sent: no answer
    m.inject("er10")
    assert say(m, udp(GET_E7_E8), t + 4) == [(0x2008, bytes((sim_j11.E_STATE,)))]
    m.inject("rate-limit:30")
    m.feed(udp(GET_E7_E8), t + 5)
    assert codes(frames(m.read(t + 7))) == [0x2008] and m.rate_limited
    m.feed(udp(GET_E7_E8), t + 40)
    assert codes(frames(m.read(t + 43))) == [0x2008, 0x6018]


def test_drop_dup_stale_corrupt():
    m, t = joined()
    m.read(t + 1)
    for name, expect in (("drop", 0), ("dup", 2), ("stale-tid", 2)):
        m.inject(name)
        m.feed(udp(GET_E7_E8), t + 1)
        fs = [f for f in frames(m.read(t + 4)) if f[0] == 0x6018]
        assert len(fs) == expect, name
        t += 5
    m.inject("corrupt")
    m.feed(udp(GET_E7_E8), t)
    out = m.read(t + 3)
    with pytest.raises(AssertionError):
        frames(out)                                     # the 6018's data checksum fails
    assert frames(out[:out.index(b"\xd0\xf9\xee\x5d\x60\x18")]) == [(0x2008, b"\x01\x00" + GET_E7_E8[:4])]


def test_auth_fail_reauth_and_losses():
    m = booted(faults=Faults(["auth-fail"], family="j11"))
    init(m)
    creds(m)
    m.feed(req(0x0053) + req(0x0005, b"\x0e\x1a"), 0)
    m.read(1)
    m.feed(req(0x0005, b"\x0e\x1a") + req(0x0056), 1)
    assert frames(m.read(5))[-1] == (0x6028, b"\x02" + METER_MAC)
    m, t = joined()
    m.read(t + 1)
    m.inject("reauth-ok:3", t + 1)
    m.feed(udp(GET_E7_E8), t + 2)
    fs = frames(m.read(t + 4.1))
    assert fs[0] == (0x2008, b"\x01\x01" + GET_E7_E8[:4]) and fs[-1] == (0x6028, b"\x01" + METER_MAC)
    m.inject("reauth-fail", t + 5)
    fs = frames(m.read(t + 7.1))
    assert codes(fs) == [0x6028, 0x601A] and fs[1][1][0] == 4 and m.session is None
    m, t = joined()
    m.inject("term-timeout", t)
    fs = frames(m.read(t))
    assert fs[-1][0] == 0x601A and fs[-1][1][:9] == b"\x03" + METER_MAC and m.broute is None
    m, t = joined()
    m.inject("lost", t)
    assert frames(m.read(t))[-1][1][0] == 4 and m.broute is not None


def test_restart_mute_meter_gone():
    m, t = joined()
    m.read(t + 1)
    m.inject("restart", t + 1)
    assert m.read(t + 1.1) == b""
    assert frames(m.read(t + 2)) == [(0x6019, b"")] and m.session is None and m.rbid is None
    assert say(m, udp(GET_E7_E8), t + 2) == [(0x2008, bytes((sim_j11.E_STATE,)))]
    m, t = joined()
    m.read(t + 1)
    m.inject("mute:10", t + 1)
    assert say(m, req(0x006B), t + 2) == []
    assert codes(say(m, req(0x006B), t + 12)) == [0x206B]
    m.inject("meter-gone", t + 12)
    m.feed(udp(GET_E7_E8), t + 13)
    assert frames(m.read(t + 20)) == [(0x2008, b"\x01\x01" + GET_E7_E8[:4])]


def test_uart_noise_and_foreign_frames():
    m, t = joined()
    m.read(t + 1)
    m.inject("garbage", t + 1)
    out = m.read(t + 1)
    assert out and b"\xd0\xf9\xee\x5d" not in out
    m.inject("half-line", t + 2)
    half = m.read(t + 2)
    assert 3 <= len(half) < 22 and half[:3] == b"\xd0\xf9\xee"
    m.inject("foreign-node", t + 3)
    m.inject("foreign-eoj", t + 3)
    a, b = [rx6018(d) for _, d in frames(m.read(t + 3))]
    assert a[0] != METER_IP and b[0] == METER_IP and b[-1][4:7] == b"\x02\x79\x01"


def test_refused_fault_names():
    with pytest.raises(FaultError, match="neighbour solicitation"):
        booted().inject("tx-ns")
    with pytest.raises(FaultError, match="PANA inside"):
        Faults(["pana@3"], family="j11")
    with pytest.raises(FaultError, match="unknown fault 'lost'"):
        Faults(["lost"])                                   # J11's own name, not SKSTACK's
    rolled = Faults(rate=1.0, family="j11")
    assert all(rolled.roll().partition(":")[0] not in ("tx-ns", "pana") for _ in range(200))


def test_random_faults_keep_the_session_readable():
    m, t = joined(faults=Faults(rate=0.3, seed=4, family="j11"))
    got = 0
    for i in range(60):
        t += 10
        m.read(t)
        m.feed(udp(GET_E7_E8), t)
        out = m.read(t + 5)
        got += out.count(b"\x60\x18")
        if m.session is None or not m.booted:
            break
    assert m.faults.fired and got


# -- the SKSTACK module and a J11 frame, for detection ------------------------------
def test_skstack_module_answers_a_j11_frame_like_a_line_of_garbage():
    m = SkModule("bp35a1")
    out = say_sk(m, req(0x006B) + b"\r\n", 0)
    assert out == req(0x006B) + b"\r\nFAIL ER04\r\n"         # echo, then unknown command
    m = SkModule("bp35c0")
    say_sk(m, b"SKSREG SFE 0\r\n", 0)
    assert say_sk(m, req(0x006B) + b"\r\nSKVER\r\n", 0) == b"FAIL ER04\r\nEVER 1.5.2\r\nOK\r\n"


def say_sk(m, data, t):
    m.feed(data, t)
    return m.read(t)


# -- transports --------------------------------------------------------------------------
def test_log_masks_the_credentials_frame_split_anywhere():
    cred = req(0x0054, (DEFAULT_ID + DEFAULT_PASSWORD).encode())
    assert DEFAULT_PASSWORD.encode() not in mask(cred) and mask(cred).startswith(cred[:10])
    for cut in range(1, len(cred)):
        lines = []
        srv = Server(booted(), log=lines.append)
        srv._log_input(req(0x006B) + cred[:cut])
        srv._log_input(cred[cut:] + req(0x006B))
        text = "".join(lines)
        assert DEFAULT_ID[-8:] not in text and DEFAULT_PASSWORD[:6] not in text, cut
        assert text.count("****") == 1 and text.count(r"\x00k") == 2


def _read_frames(read, codes_wanted, limit=20.0):
    buf, end = b"", time.monotonic() + limit
    while time.monotonic() < end:
        buf += read()
        try:
            got = codes(frames(buf))
        except (AssertionError, struct.error):
            continue
        if all(c in got for c in codes_wanted):
            return buf
    raise AssertionError(buf.hex())


def test_cli_tcp_j11_session_and_stats():
    cmd = [sys.executable, os.path.join(ROOT, "tools", "sim.py"), "--tcp", "127.0.0.1:0",
           "--dialect", "j11", "--time-scale", "0.01", "--fault", "tx-ns"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    assert p.returncode != 0 and "neighbour solicitation" in p.stderr
    cmd[-2:] = ["--verbose"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    err = []                    # drained as it comes, so a full pipe never blocks the simulator
    drain = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
    drain.start()
    try:
        line = p.stdout.readline()
        assert line.startswith("sim: listening on 127.0.0.1:") and "(j11, normal)" in line
        port = int(line.split(":")[2].split()[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            def read():
                ready, _, _ = select.select([s], [], [], 0.05)
                return s.recv(4096) if ready else b""
            # the power-up 6019 may still come: a version answer first, so the one after 00D9 is ours
            s.sendall(b"SKVER\r\n" + req(0x006B))
            _read_frames(read, [0x206B])
            s.sendall(req(0x00D9))
            _read_frames(read, [0x6019])
            s.sendall(req(0x005F, bytes((5, 0, 17, 0))) +
                      req(0x0054, (DEFAULT_ID + DEFAULT_PASSWORD).encode()))
            _read_frames(read, [0x205F, 0x2054])
            s.sendall(req(0x0053))
            _read_frames(read, [0x2053])
            s.sendall(req(0x0005, b"\x0e\x1a"))
            _read_frames(read, [0x2005])
            s.sendall(req(0x0056))
            _read_frames(read, [0x6028])
            s.sendall(udp(GET_E7_E8))
            _read_frames(read, [0x2008, 0x6018])
        p.stdin.write("fault pana\nstats\nquit\n")
        p.stdin.flush()
        assert "PANA inside" in p.stdout.readline()
        stats = json.loads(p.stdout.readline())
        assert stats["flash_writes"] == 0 and stats["session"] and stats["requests"] == 1
        assert p.wait(15) == 0
        drain.join(5)
        log = "".join(err)
        assert "****" in log and DEFAULT_PASSWORD not in log and DEFAULT_ID[-8:] not in log
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_pty_j11_with_pyserial(tmp_path):
    serial = pytest.importorskip("serial")
    module = booted()
    path = str(tmp_path / "ttyJ11")
    srv = Server(module, scale=0.01)
    srv.open_pty(path)
    srv.start()
    try:
        with serial.Serial(path, 115200, timeout=0.05) as port:
            port.write(req(0x00D9))
            _read_frames(lambda: port.read(4096), [0x6019])
            port.write(req(0x006B) + req(0x0001))
            buf = _read_frames(lambda: port.read(4096), [0x206B, 0x2001])
            assert (0x2001, b"\x01\x02\x01\x01") in frames(buf)
    finally:
        srv.stop()
