"""The radio side of the J11 module emulation (sim_j11.Module, whose docstring says what is
known and what assumed): frames and field helpers, the PANA session, UDP out (0008) and in
(6018), link-state notifications (601A), and the faults J11 shows in its own words
(sim_faults.J11).
"""
import struct

from sim_base import BaseModule

REQ = 0xD0EA83FC            # unique code of a request
RES = 0xD0F9EE5D            # ... of a response or notification
REQ_UNIQUE = struct.pack(">I", REQ)
ECHONET_PORT = 0x0E1A
MAX_DATA = 0x4D0            # longest UDP payload
MAX_LEN = 4 + 22 + MAX_DATA  # longest message length a request may give (0008, full payload)

# result codes: 01, 0A and 0E are from working clients; 02-04 are assumed (see above)
OK = 0x01
E_PARAM = 0x02              # a field out of range or the wrong data length
E_BUSY = 0x03               # the previous request is still being processed
E_STATE = 0x04              # not possible now: a step it needs has not been done
E_OPEN = 0x0A               # 0005: the port is already open
E_JOIN = 0x0E               # 0053: no meter answered on the channel
TX_SENT, TX_FAILED = 0x00, 0x01     # 2008's transmit result
PANA_OK, PANA_FAILED, PANA_SILENT = 0x01, 0x02, 0x03   # 6028
MAC_UP, PANA_UP, MAC_LOST, PANA_LOST = 0x01, 0x02, 0x03, 0x04   # 601A
BOOT_S = 0.3                # 00D9 (or a restart) to 6019
VERSION = (0x0400, 1, 3, 0x00002A51)   # 206B: firmware id, major, minor, revision


def encode(code, data=b"", unique=RES):
    """One frame: unique code, command, length 4 + data, header sum, data sum, data."""
    head = struct.pack(">IHH", unique, code, 4 + len(data))
    return head + struct.pack(">HH", sum(head) & 0xFFFF, sum(data) & 0xFFFF) + bytes(data)


def j11_channel(sk):
    """J11 channel 4-17 (400 kHz apart) of a SKSTACK channel 0x21-0x3C, or None between them."""
    d = sk - 0x21
    return 4 + d // 2 if 0 <= d < 28 and d % 2 == 0 else None


def rssi_dbm(lqi):
    """The meter's LQI as J11 reports it: dBm (BP35A1 LQI scale, docs/protocol.md)."""
    return round(0.275 * lqi - 104.27)


def addr16(ip):
    return bytes.fromhex(ip.replace(":", ""))


class J11Link(BaseModule):
    """PANA and UDP of one J11 module; sim_j11.Module adds the framing and the other commands."""

    family = "j11"
    _CORRUPT = (12, 0, 8, 12)   # one data bit of a 6018 flips: its data sum fails

    # -- PANA -----------------------------------------------------------------------
    def _pana(self, now, code, data):
        if not self._check(now, code, data, 0, self.broute is not None and self.session is None):
            return
        self._result(now, code, OK)
        m = self.meter
        if not m.present:
            # PANA-Client-Initiation resent into silence until the module gives up
            return self._pana_end(now + 20.0, PANA_SILENT)
        ok = self.rbid == m.cfg.rbid and self.pwd == m.cfg.password and \
            not self.faults.take("auth-fail", now)
        self._pana_end(now + (2.5 if ok else 1.7), PANA_OK if ok else PANA_FAILED)

    def _pana_end(self, t, result):
        self.busy_until = t
        self.after(t, lambda at: self._pana_done(at, result))

    def _pana_done(self, t, result):
        self.emit(t, encode(0x6028, bytes((result,)) + bytes.fromhex(self.meter.mac)))
        if result != PANA_OK:
            return
        m = self.meter
        self.session = m.ip
        self._session_gen += 1
        self.after(t + 0.3, lambda at: self.from_meter(at, m.d5_frame(), True), session=True)
        self.after(m.next_push(t), self._push, session=True)

    def _reauth(self, now, code, data):
        if self._check(now, code, data, 0, self.session is not None):
            self._result(now, code, OK)
            self.reauthenticate(now, 2.0, True)

    def reauthenticate(self, now, seconds, ok):
        """PANA again on the held session: sends fail meanwhile; 6028 01, or 02 and the session is gone."""
        self.reauth = True
        ok = ok and not self.faults.take("auth-fail", now)
        self.busy_until = now + seconds
        self.after(now + seconds, lambda t: self._reauth_done(t, ok), session=True)

    def _reauth_done(self, t, ok):
        self.reauth = False
        self.emit(t, encode(0x6028, bytes((PANA_OK if ok else PANA_FAILED,)) + bytes.fromhex(self.meter.mac)))
        if not ok:
            self.lose(t, PANA_LOST)

    def lose(self, t, state):
        """601A: the PANA session (04) or the MAC link too (03) is gone."""
        if self.session is None and (state == PANA_LOST or self.broute is None):
            return
        self.end_session()
        if state == MAC_LOST:
            self.broute = None
        m = self.meter
        self.emit(t, encode(0x601A, struct.pack(">B8sb", state, bytes.fromhex(m.mac), rssi_dbm(m.cfg.lqi))))

    def _end_pana(self, now, code, data):
        if self._check(now, code, data, 0, self.session is not None):
            self.end_session()
            self._result(now, code, OK)

    def _end_broute(self, now, code, data):
        if self._check(now, code, data, 0, self.broute is not None):
            self.end_session()
            self.broute = None
            self._result(now, code, OK)

    # -- UDP ------------------------------------------------------------------------
    def deliver(self, t, ip, mac, data, multicast=False):
        self.rx(t, ip, data, multicast=multicast)

    def rx(self, t, src, data, port=ECHONET_PORT, multicast=False):
        """A 6018 for a datagram received at t; nothing if nobody opened the port."""
        if port not in self.ports:
            return
        m = self.meter
        body = struct.pack(">16sHHHBBbH", addr16(src), port, port, m.cfg.pan, 1 if multicast else 0,
                           2, rssi_dbm(m.cfg.lqi), len(data))
        self.emit(t, encode(0x6018, body + data))

    def _send(self, now, code, data):
        if len(data) < 22 or len(data) != 22 + struct.unpack_from(">H", data, 20)[0] or len(data) == 22 \
                or len(data) > 22 + MAX_DATA:
            return self._result(now, code, E_PARAM)
        if self.session is None or self.faults.take("er10", now):
            return self._result(now, code, E_STATE)
        spec = self.faults.roll()
        if spec:
            self.inject(spec, now)
        dst, sport, dport = struct.unpack_from(">16sHH", data)
        payload = data[22:]
        m = self.meter
        to_meter = dst == addr16(m.ip)
        t = now + 0.05              # the frame's air time: one request in flight until 2008
        self.busy_until = t
        if self.reauth or self.rate_limited or (to_meter and not m.present) or \
                self.faults.take("tx-fail", now):
            return self._result(t, code, OK, bytes((TX_FAILED,)) + payload[:4])
        self._result(t, code, OK, bytes((TX_SENT,)) + payload[:4])
        if dport == ECHONET_PORT and (to_meter or dst[:2] == b"\xff\x02"):
            for reply in m.handle(payload, now):
                self._reply(t, reply, payload[2:4])

    # -- faults in J11's words (sim_faults.J11) ----------------------------------------
    def _own_fault(self, name, arg, now, rng):
        m = self.meter
        if name in ("reauth-ok", "reauth-fail"):
            if self.session is not None:
                self.reauthenticate(now, arg or 2.0, name == "reauth-ok")
                self.busy_until = -1.0      # the module's own re-authentication blocks no request
        elif name in ("peer-term", "term", "lost"):
            self.lose(now, PANA_LOST)
        elif name == "term-timeout":
            self.lose(now, MAC_LOST)
        elif name == "rate-limit":
            self.rate_limited = True
            self.after(now + (arg or 60.0), lambda t: setattr(self, "rate_limited", False))
        elif name == "restart":
            self.restart(now)
        elif name == "garbage":
            # line noise, a stray half unique code, then text: none of it is a frame
            self.emit(now, bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randint(4, 40)))
                      + b"\xd0\xf9\xee" + b"ER04\r\n")
        elif name == "half-line":
            note = encode(0x601A, struct.pack(">B8sb", MAC_UP, bytes.fromhex(m.mac), rssi_dbm(m.cfg.lqi)))
            self.emit(now, note[:rng.randint(3, len(note) - 3)])
