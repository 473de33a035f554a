"""The radio side of the SKSTACK IP module emulation (sim_module.Module): the PANA session,
UDP out (SKSENDTO) and in (ERXUDP), the ARIB transmit-time limit, and the faults SKSTACK
shows in its own words (EVENT numbers: docs/protocol.md section 2; sim_faults.NAMES).
"""
import struct

from sim_base import BaseModule
from sim_dialect import MULTICAST, is_full_ipv6, parse_hex

ECHONET_PORT = 0x0E1A
PANA_PORT = 0x02CC
MAX_DATA = 0x4D0


class SkLink(BaseModule):
    """PANA and UDP of one SKSTACK module; sim_module.Module adds the commands and the line input."""

    # corrupt: a bit below 7 of the ERXUDP line after "ERXUDP ", never its CR LF
    _CORRUPT = (7, 2, 7, 10)

    # -- PANA session -------------------------------------------------------------
    def _skjoin(self, now, args):
        if not is_full_ipv6(args[0]):
            return self._answer(now, "FAIL ER06")
        if self.session or self.joining or self.rbid is None or self.pwd is None:
            return self._answer(now, "FAIL ER10")
        self._ok(now)
        self._authenticate(now, args[0].upper(), first=True)

    def _skrejoin(self, now, args):
        if self.session is None or self.joining:
            return self._answer(now, "FAIL ER10")
        self._ok(now)
        peer = self.session
        self.end_session()
        self._authenticate(now, peer, first=False)

    def _authenticate(self, now, peer, first):
        """The PANA exchange: its ERXUDPs on 02CC, EVENT 21s, then EVENT 25 or 24."""
        self.joining = True
        m = self.meter
        reachable = m.present and peer == m.ip and self.regs["S2"] == m.cfg.channel and \
            self.regs["S3"] == m.cfg.pan
        self.event(now + 0.05, 0x21, 0, ip=peer)
        if not reachable:
            # PANA-Client-Initiation resent into silence until the module gives up
            return self.after(now + 20.0, lambda t: self._auth_end(t, peer, False))
        ok = self.rbid == m.cfg.rbid and self.pwd == m.cfg.password and \
            not self.faults.take("auth-fail", now)
        if first:
            self.event(now + 0.3, 0x02, ip=peer)
        t = now + 0.5
        for _ in range(4 if ok else 2):
            self.after(t, lambda at: self.rx(at, m.ip, m.mac, PANA_PORT, self.pana_packet(), secured=0))
            self.event(t + 0.05, 0x21, 0, ip=peer)
            t += 0.6
        self.after(t, lambda at: self._auth_end(at, peer, ok))

    def _auth_end(self, t, peer, ok):
        self.joining = False
        if not ok:
            return self.event(t, 0x24, ip=peer)
        self.session = peer
        self._session_gen += 1
        self.event(t, 0x25, ip=peer)
        self.after(t + 0.3, lambda at: self.from_meter(at, self.meter.d5_frame(), True), session=True)
        self.after(self.meter.next_push(t), self._push, session=True)

    def reauth_done(self, t, ok):
        self.reauth = False
        if ok:
            self.event(t, 0x25)
        else:
            self.event(t, 0x24)
            self.end_session()

    def _skterm(self, now, args):
        if self.session is None:
            return self._answer(now, "FAIL ER10")
        peer = self.session
        self.end_session()
        self._ok(now)
        if self.meter.present:
            self.event(now + 0.5, 0x27, ip=peer)
        else:
            self.event(now + 5.0, 0x28, ip=peer)

    def rate_limit(self, now, seconds):
        """ARIB duty-cycle limit: EVENT 32, sends refused, EVENT 33 after `seconds`."""
        self.rate_limited = True
        self.regs["SFB"] = 1
        self.event(now, 0x32, ip=self.ip)
        self.after(now + seconds, self._rate_ok)

    def _rate_ok(self, t):
        self.rate_limited = False
        self.regs["SFB"] = 0
        self.event(t, 0x33, ip=self.ip)

    def pana_packet(self):
        """A PANA message (RFC 5191 header: reserved, length, flags, type 2, session, seq)."""
        rng = self.faults.rand()
        n = rng.choice((0x28, 0x50, 0x52, 0x64))
        body = bytes(rng.randrange(256) for _ in range(n - 16))
        return struct.pack(">HHHHII", 0, n, 0x8000, 2, 0x1B7A00F2, rng.randrange(1, 50)) + body

    # -- UDP ------------------------------------------------------------------------
    def deliver(self, t, ip, mac, data, multicast=False):
        """An ECHONET Lite datagram from `ip` on port 0E1A, as an ERXUDP line."""
        self.rx(t, ip, mac, ECHONET_PORT, data, dst=MULTICAST if multicast else None)

    def rx(self, t, src, src_mac, port, data, dst=None, secured=1):
        """An ERXUDP line for a datagram received at time t."""
        hex_payload = self.dialect.hex_only or self.wopt == 1
        lqi = self.meter.cfg.lqi if self.regs["SA2"] else None
        self.emit(t, self.dialect.erxudp(src, dst or self.ip, port, port, src_mac, secured,
                                         data, hex_payload, lqi))

    def _sendto_header(self, now):
        words = self._rx.decode("latin-1").split(" ")[1:-1]
        handle = parse_hex(words[0], 1, 1, 6)
        port = parse_hex(words[2], 4, 1) if len(words[2]) == 4 else None
        sec = parse_hex(words[3], 1, 0, 2)
        side_ok = not self.dialect.dual or parse_hex(words[4], 1, 0, 1) is not None
        n = parse_hex(words[-1], 4, 1, MAX_DATA) if len(words[-1]) == 4 else None
        if handle is None or not is_full_ipv6(words[1]) or port is None or sec is None \
                or not side_ok or n is None:
            if self.regs["SFE"]:
                self.emit(now, bytes(self._rx) + b"\r\n")
            self._rx = bytearray()
            self._mode = "skip"
            return self._answer(now, "FAIL ER06")
        self._send = ((self._rx.decode("latin-1"), words[1].upper(), port, sec), bytearray())
        self._rx = bytearray()
        self._mode = "data"
        self._need = n

    def _sendto(self, now, header, data):
        text, ip, port, sec = header
        if self.regs["SFE"]:
            self.emit(now, text.encode("latin-1") + b"\r\n")  # the data are not echoed
        if (self.session is None and sec == 1) or self.rate_limited or self.joining or \
                self.faults.take("er10", now):
            return self._answer(now, "FAIL ER10")
        spec = self.faults.roll()
        if spec:
            self.inject(spec, now)
        self.regs["SFD"] = min(0xFFFFFFFF, self.regs["SFD"] + 6 + len(data) // 12)
        m = self.meter
        if self.reauth or (ip == m.ip and not m.present) or self.faults.take("tx-fail", now):
            self.event(now, 0x21, 1, ip=ip)
            return self._ok(now)
        if self.faults.take("tx-ns", now):
            self.event(now, 0x21, 2, ip=ip)
            self.event(now + 0.1, 0x21, 0, ip=ip)
            self.emit(now + 0.1, b"OK\r\n")
        else:
            self.event(now, 0x21, 0, ip=ip)
            self._ok(now)
        if port == ECHONET_PORT and ip in (m.ip, MULTICAST) and self.session and sec:
            for reply in m.handle(data, now):
                self._reply(now, reply, data[2:4])

    # -- faults in SKSTACK's words (sim_faults.NAMES) ------------------------------------
    def _own_fault(self, name, arg, now, rng):
        m = self.meter
        if name in ("reauth-ok", "reauth-fail"):
            if self.session is None:
                return
            self.reauth = True
            self.event(now, 0x29)
            ok = name == "reauth-ok" and not self.faults.take("auth-fail", now)
            self.after(now + (arg or 2.0), lambda t: self.reauth_done(t, ok), session=True)
        elif name in ("peer-term", "term", "term-timeout"):
            if self.session is not None:
                self.event(now, {"peer-term": 0x26, "term": 0x27, "term-timeout": 0x28}[name])
                self.end_session()
        elif name == "rate-limit":
            self.rate_limit(now, arg or 60.0)
        elif name == "restart":
            self.restart()
        elif name == "garbage":
            # line noise (baud mismatch, boot chatter) reads as bytes with the top bit set
            self.emit(now, bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randint(4, 40))) + b"\r\n")
        elif name == "half-line":
            line = self.dialect.event(0x21, m.ip, 0)
            self.emit(now, line[:rng.randint(3, len(line) - 3)])
        elif name == "pana":
            self.rx(now, m.ip, m.mac, PANA_PORT, self.pana_packet(), secured=0)
