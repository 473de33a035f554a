"""Fixtures for the J11 session tests: imported, never collected. J11Module is a scripted J11
module (ROHM's binary UART protocol, docs/j11.md) with a tiny meter behind it; LeanJ11 answers
the polling cycle without allocating, to measure what the session allocates over J11Driver.

Frames are encoded here with struct, independently of lib/broute/j11.py, so a codec bug and
the same bug in the fake cannot agree. The stream side (virtual-time delivery, fragmented reads,
the meter's ECHONET Lite answers) is session_fake's FakeModule and LeanModule, reused.
"""
import struct

import session_fake
from session_fake import FakeModule, LeanModule, LeanClock, MAC, RBID, PWD, IP  # noqa: F401

REQ = b"\xD0\xEA\x83\xFC"
RESP = b"\xD0\xF9\xEE\x5D"
MAC8 = bytes(int(MAC[i:i + 2], 16) for i in range(0, 16, 2))
IP16 = b"\xFE\x80" + bytes(6) + bytes([MAC8[0] ^ 2]) + MAC8[1:]
PAN = 0x8888
CHANNEL = 17  # J11's numbering: SKSTACK 0x3B
RSSI = -60


def frame(code, data=b"", unique=RESP):
    head = struct.pack(">4sHH", unique, code, 4 + len(data))
    return head + struct.pack(">HH", sum(head) & 0xFFFF, sum(data) & 0xFFFF) + bytes(data)


def udp(ecl, src=IP16, port=0x0E1A, rssi=RSSI):
    """A 6018 notification carrying `ecl` (docs/j11.md section 3)."""
    return frame(0x6018, src + struct.pack(">HHHBBbH", port, port, PAN, 0, 2, rssi, len(ecl)) + bytes(ecl))


def link(state, rssi=RSSI):
    return frame(0x601A, bytes([state]) + MAC8 + struct.pack(">b", rssi))


def pana(result):
    return frame(0x6028, bytes([result]) + MAC8)


BOOT = frame(0x6019)
D5_INF = bytes([0x10, 0x81, 0, 0, 0x0E, 0xF0, 1, 0x0E, 0xF0, 1, 0x73, 1, 0xD5, 4, 1, 2, 0x88, 1])


class J11Module(FakeModule):
    """Reader and writer in one. `sent` holds every request code and ("FRAME", ecl) per UDP
    send; `overlap` counts requests written before the previous one's response was due."""

    def __init__(self, clock, chunk=7):
        FakeModule.__init__(self, clock, chunk=chunk, echo=False)
        self.mute = False       # answers nothing until the reset line is pulsed
        self.pana_result = 1    # 6028 after 0056: 1 ok, 2 refused, 3 no answer
        self.join_result = 1    # 2053's result (0x0E: cannot join)
        self.tx_fail = 0        # this many sends get transmit result 01 (not sent)
        self.corrupt = 0        # this many replies go out with a bad data checksum
        self.overlap = self.bad_requests = self.hard = 0
        self.busy_until = 0
        self._forget()

    def _forget(self):
        self.creds = self.channel = None
        self.bstarted = self.session = self.udp_open = False

    # --- the reset line and unprompted notifications ---
    def pulse_reset(self):
        """What the board's hard_reset does: the module boots whatever state it was in."""
        self.hard += 1
        self.mute = False
        self._forget()
        self.at(100, BOOT)

    def restart(self):
        """The module restarts by itself: its settings are gone and it says so with 6019."""
        self._forget()
        self.at(0, BOOT)

    # --- requests ---
    def _process(self):
        while True:
            buf = self.inbuf
            i = buf.find(REQ)
            if i < 0:
                self.inbuf = buf[-3:]
                return
            buf = self.inbuf = buf[i:]
            if len(buf) < 12:
                return
            _, code, ln, hs, ds = struct.unpack(">4sHHHH", buf[:12])
            if hs != sum(buf[:8]) & 0xFFFF or ln < 4:
                self.bad_requests += 1
                self.inbuf = buf[4:]
                self.at(5, frame(0x2FFF))
                continue
            if len(buf) < 8 + ln:
                return
            data, self.inbuf = buf[12:8 + ln], buf[8 + ln:]
            if ds != sum(data) & 0xFFFF:
                self.bad_requests += 1
                self.at(5, frame(0x2FFF))
                continue
            self._request(code, data)

    def _answer(self, delay, code, data):
        self.at(delay, frame(code, data))
        self.busy_until = self.clock.now + delay

    def _request(self, code, data):
        now = self.clock.now
        if now < self.busy_until:
            self.overlap += 1
        if code == 0x0008:
            self.sent.append(("FRAME", bytes(data[22:])))
            self.frame_times.append(now)
        else:
            self.sent.append(code)
        if self.silent or self.mute:
            return
        if code == 0x00D9:
            self._forget()
            self.at(100, BOOT)
            self.busy_until = now + 100
        elif code == 0x006B:
            self._answer(5, 0x206B, b"\x01\x04\x00\x01\x03\x00\x00\x15\x8A")
        elif code == 0x0001:
            self._answer(5, 0x2001, b"\x01\x02\x01\x03")
        elif code == 0x005F:
            ok = len(data) == 4 and data[0] == 5 and 4 <= data[2] <= 17
            if ok:
                self.channel = data[2]
            self._answer(5, 0x205F, b"\x01" if ok else b"\x04")
        elif code == 0x0054:
            ok = len(data) == 44
            if ok:
                self.creds = bytes(data)
            self._answer(5, 0x2054, b"\x01" if ok else b"\x04")
        elif code == 0x0051:
            self._scan(data)
        elif code == 0x0053:
            if self.creds and self.visible and self.channel == CHANNEL and self.join_result == 1:
                self.bstarted = True
                self._answer(1000, 0x2053, struct.pack(">BBH", 1, CHANNEL, PAN) + MAC8 + struct.pack(">b", RSSI))
            else:
                self._answer(1000, 0x2053, bytes([self.join_result if self.join_result != 1 else 0x0E]))
        elif code == 0x0005:
            r = 0x0A if self.udp_open else 1
            self.udp_open = True
            self._answer(5, 0x2005, bytes([r]))
        elif code == 0x0056:
            self._answer(5, 0x2056, b"\x01" if self.bstarted else b"\x02")
            if not self.bstarted:
                return
            r = self.pana_result if self.visible else 3
            if r == 1 and self.creds[32:] != PWD.encode():
                r = 2
            if r == 1:
                self.session = True
                self.at(2000, pana(1) + udp(D5_INF))
            else:  # refused after the meter answered, or PANA resent into silence
                self.at(3000 if r == 2 else 20000, pana(r))
        elif code == 0x0057:
            self.session = False
            self._answer(5, 0x2057, b"\x01")
        elif code == 0x0058:
            self.session = self.bstarted = False
            self._answer(5, 0x2058, b"\x01")
        elif code == 0x0008:
            self._send(data)
        else:
            self._answer(5, 0xFFFF, b"")

    def _scan(self, data):
        """One 4051 per channel, 9.64 ms x 2^d each, then 2051 (docs/j11.md section 4)."""
        d = data[0]
        hit = self.visible and d >= self.scan_min and self.creds and data[6:14] == self.creds[24:32]
        t = 0
        for ch in range(4, 18):
            t += 964 * (1 << d) // 100
            if hit and ch == CHANNEL:
                self.at(t, frame(0x4051, struct.pack(">BBB", 0, ch, 1) + MAC8 + struct.pack(">Hb", PAN, RSSI)))
            else:
                self.at(t, frame(0x4051, bytes([1, ch])))
        self._answer(t + 5, 0x2051, b"\x01")

    def _send(self, data):
        ecl = bytes(data[22:])
        if not self.session:
            self._answer(50, 0x2008, b"\x02")
            return
        if self.tx_fail:
            self.tx_fail -= 1
            self._answer(50, 0x2008, b"\x01\x01\x00\x00")
            return
        self._answer(50, 0x2008, b"\x01\x00\x00\x00")
        if ecl[10] == 0x7A or not self.visible:  # our INFC_Res; a meter gone answers nothing
            return
        if self.drop:
            self.drop -= 1
            return
        out = udp(self.reply(ecl))
        if self.corrupt:
            self.corrupt -= 1
            out = out[:-1] + bytes([out[-1] ^ 0x40])  # the data checksum no longer matches
        self.at(1000, self.before_reply + out)
        self.before_reply = b""


class LeanJ11(LeanModule):
    """LeanModule's allocation-free queue and pollable stream, speaking J11: start-up
    requests get answers built on the spot (unmeasured); each UDP send gets a fixed 2008 and a
    6018 reply built on first use, then reused with the TID and data checksum patched in."""

    def __init__(self, clock, chunk=64):
        LeanModule.__init__(self, clock, chunk)
        self._meter = J11Module(type(clock)())  # only its frame builders and meter replies
        self._sent = frame(0x2008, b"\x01\x00\x00\x00")
        self._head = False

    def write(self, b):
        self.drain_due = True
        if self._head:
            self._head = False
            self._sendto(b)
            return
        code = b[4] << 8 | b[5]
        if code == 0x0008:
            self._head = True  # the data follows in a second write
            return
        out = {0x006B: b"\x01\x04\x00\x01\x03\x00\x00\x15\x8A", 0x0001: b"\x01\x02\x01\x03",
               0x0053: struct.pack(">BBH", 1, CHANNEL, PAN) + MAC8 + b"\xC4"}.get(code, b"\x01")
        self.at(5, BOOT if code == 0x00D9 else frame(code | 0x2000, out))
        if code == 0x0056:
            self.at(2000, pana(1))

    def _sendto(self, ecl):
        self.at(5, self._sent)
        key = ecl[10] << 16 | ecl[11] << 8 | ecl[12]
        r = self._replies.get(key)
        if r is None:
            f = bytearray(udp(self._meter.reply(bytes(ecl))))
            base = (f[10] << 8 | f[11]) - f[12 + 27 + 2] - f[12 + 27 + 3]
            r = self._replies[key] = (f, base)
        f, base = r
        f[12 + 27 + 2], f[12 + 27 + 3] = ecl[2], ecl[3]  # the TID
        s = (base + ecl[2] + ecl[3]) & 0xFFFF
        f[10], f[11] = s >> 8, s & 255
        self.at(1000, f)


def alloc_per_cycle(cycles=20, warm=12, chunk=64):
    """session_fake.alloc_per_cycle over J11Driver and LeanJ11."""
    from broute.j11driver import J11Driver
    return session_fake.alloc_per_cycle(cycles, warm, chunk, LeanJ11, J11Driver, PAN)
