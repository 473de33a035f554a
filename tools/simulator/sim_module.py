"""SKSTACK IP module emulation, sans-I/O: bytes in at a time, bytes out when due.

`feed(data, now)` takes UART input, `read(now)` returns what the module has
said by simulated time `now`, `next_due()` says when it next will. Times are
simulated seconds; the transport maps them onto the wall clock. Command
forms, answers and FAIL codes follow docs/protocol.md section 2; every line is
formatted by sim_dialect.
"""
import heapq
import struct

import sim_faults
from sim_dialect import DIALECTS, MULTICAST, is_full_ipv6, link_local, parse_hex
from sim_faults import Faults
from sim_meter import Meter

ECHONET_PORT = 0x0E1A
PANA_PORT = 0x02CC
MAX_DATA = 0x4D0
_LINE_CAP = 1024

# register: (hex digits, min, max, writable)
_REGS = {
    "S2": (2, 0x21, 0x3C, True), "S3": (4, 0, 0xFFFF, True), "S16": (8, 0x3C, 0xFFFFFFFF, True),
    "S17": (1, 0, 1, True), "SA2": (1, 0, 1, True), "SFE": (1, 0, 1, True),
    "SFB": (1, 0, 1, False), "SFD": (8, 0, 0xFFFFFFFF, False),
}
_DUAL_REGS = {"SF0": (1, 0, 1, True)}
_DEFAULTS = {"S2": 0x21, "S3": 0xFFFF, "S16": 0x384, "S17": 1, "SA2": 0, "SFE": 1,
             "SFB": 0, "SFD": 0, "SF0": 0}


class Module:
    """One Wi-SUN module with a meter in radio range."""

    def __init__(self, dialect="bp35a1", meter=None, faults=None, mac="001D129012345678"):
        self.dialect = DIALECTS[dialect]
        self.meter = meter or Meter()
        self.faults = faults or Faults()
        self.mac = mac
        self.ip = link_local(mac)
        self.wopt = 0               # flash: survives SKRESET and restarts
        self.wopt_writes = 0
        self.restarts = 0
        self.muted_until = -1.0
        self.pushes_lost_until = -1.0
        self.now = 0.0
        self._timers = []
        self._seq = 0
        self._out = bytearray()
        self._power = 0
        self._session_gen = 0
        self._regs = dict(_REGS, **_DUAL_REGS) if self.dialect.dual else dict(_REGS)
        self._commands = {
            "SKVER": (0, self._skver), "SKAPPVER": (0, self._skappver), "SKINFO": (0, self._skinfo),
            "SKRESET": (0, self._skreset), "SKSREG": ((1, 2), self._sksreg),
            "SKSETPWD": (2, self._sksetpwd), "SKSETRBID": (1, self._sksetrbid),
            "SKSCAN": (self.dialect.scan_args, self._skscan), "SKLL64": (1, self._skll64),
            "SKJOIN": (1, self._skjoin), "SKREJOIN": (0, self._skrejoin), "SKTERM": (0, self._skterm),
        }
        if self.dialect.has_opt:
            self._commands.update({"ROPT": (0, self._ropt), "WOPT": (1, self._wopt)})
        for t, name, arg in self.faults.scheduled:
            self.after(t, lambda now, n=name, a=arg: sim_faults.apply(self, n, a, now), always=True)
        self._boot()

    def _boot(self):
        self._power += 1
        self._session_gen += 1
        self.regs = dict(_DEFAULTS)
        self.rbid = self.pwd = None
        self.session = None         # peer address while a PANA session is up
        self.joining = self.reauth = self.rate_limited = False
        self.scanning_until = -1.0
        self._rx = bytearray()
        self._mode = "line"         # line | data (SKSENDTO payload) | skip (to the next CR)
        self._need = 0
        self._send = None

    # -- time and output ------------------------------------------------------
    def feed(self, data, now):
        self._run(now)
        if now < self.muted_until:
            return
        i = 0
        while i < len(data):
            i = self._take(data, i, now)

    def read(self, now):
        self._run(now)
        out = bytes(self._out)
        self._out = bytearray()
        return out

    def next_due(self):
        return self._timers[0][0] if self._timers else None

    def after(self, t, fn, session=False, always=False):
        """Call fn(t) at simulated time t unless the module restarted (or the session ended)."""
        scope = None if always else (self._power, self._session_gen if session else None)
        heapq.heappush(self._timers, (t, self._seq, fn, scope))
        self._seq += 1

    def emit(self, t, data):
        if t <= self.now:
            if t >= self.muted_until:
                self._out += data
        else:
            self.after(t, lambda now: self.emit(now, data))

    def event(self, t, num, param=None, ip=None):
        self.emit(t, self.dialect.event(num, ip or self.session or self.meter.ip, param))

    def _run(self, now):
        while self._timers and self._timers[0][0] <= now:
            t, _, fn, scope = heapq.heappop(self._timers)
            if scope is not None and (scope[0] != self._power or
                                      (scope[1] is not None and scope[1] != self._session_gen)):
                continue
            self.now = max(self.now, t)
            fn(self.now)
        self.now = max(self.now, now)

    def inject(self, spec, now=None):
        """Make a fault 'NAME[:ARG]' happen now (or arm it)."""
        name, arg, _ = sim_faults.parse_spec(spec)
        self._run(self.now if now is None else now)
        sim_faults.apply(self, name, arg, self.now)

    # -- input parsing ----------------------------------------------------------
    def _take(self, data, i, now):
        """Consume input from data[i]; return the next index."""
        if self._mode == "data":
            chunk = data[i:i + self._need]
            self._send[1].extend(chunk)
            self._need -= len(chunk)
            if not self._need:
                self._mode = "line"
                self._sendto(now, self._send[0], bytes(self._send[1]))
            return i + len(chunk)
        c = data[i]
        if self._mode == "skip":
            if c == 13:
                self._mode = "line"
        elif c == 13:
            line = self._rx.decode("latin-1")
            self._rx = bytearray()
            self._line(now, line)
        elif c != 10:
            self._rx.append(c)
            if c == 32 and self._rx.startswith(b"SKSENDTO ") and \
                    self._rx.count(b" ") == self.dialect.sendto_args + 1:
                self._sendto_header(now)
            elif len(self._rx) > _LINE_CAP:
                self._rx = bytearray()
                self._mode = "skip"
                self._answer(now, "FAIL ER09")
        return i + 1

    def _line(self, now, line):
        words = line.split()
        name = words[0] if words else ""
        if self.regs["SFE"]:
            self.emit(now, (line + ("\r" if name in ("ROPT", "WOPT") else "\r\n")).encode("latin-1"))
        if not name:
            return
        spec = self._commands.get(name)
        if spec is None:
            # SKSENDTO ending before its length field was complete is a short argument list
            return self._answer(now, "FAIL ER05" if name == "SKSENDTO" else "FAIL ER04")
        count, fn = spec
        if len(words) - 1 not in (count if isinstance(count, tuple) else (count,)):
            return self._answer(now, "FAIL ER05")
        fn(now, words[1:])

    def _answer(self, now, text, end="\r\n"):
        self.emit(now, (text + end).encode())

    def _ok(self, now):
        self._answer(now, "OK")

    # -- simple commands --------------------------------------------------------
    def _skver(self, now, args):
        self._answer(now, "EVER " + self.dialect.version)
        self._ok(now)

    def _skappver(self, now, args):
        self._answer(now, "EAPPVER sim-" + self.dialect.name)
        self._ok(now)

    def _skinfo(self, now, args):
        self.emit(now, self.dialect.einfo(self.ip, self.mac, self.regs["S2"], self.regs["S3"]))
        self._ok(now)

    def _skreset(self, now, args):
        self._boot()
        self._ok(now)

    def restart(self):
        """Reset without being asked (brown-out, watchdog): nothing is said."""
        self.restarts += 1
        self._boot()

    def _sksreg(self, now, args):
        spec = self._regs.get(args[0])
        if spec is None:
            return self._answer(now, "FAIL ER06")
        digits, lo, hi, writable = spec
        if len(args) == 1:
            self._answer(now, "ESREG %0*X" % (digits, self.regs[args[0]]))
            return self._ok(now)
        v = parse_hex(args[1], digits, lo, hi)
        if v is None or not writable:
            return self._answer(now, "FAIL ER06")
        self.regs[args[0]] = v
        self._ok(now)

    def _sksetpwd(self, now, args):
        n = parse_hex(args[0], 2, 1, 32)
        if n is None or len(args[1]) != n:
            return self._answer(now, "FAIL ER06")
        self.pwd = args[1]
        self._ok(now)

    def _sksetrbid(self, now, args):
        if len(args[0]) != 32:
            return self._answer(now, "FAIL ER06")
        self.rbid = args[0]
        self._ok(now)

    def _skll64(self, now, args):
        if parse_hex(args[0], 16) is None or len(args[0]) != 16:
            return self._answer(now, "FAIL ER06")
        self._answer(now, link_local(args[0]))  # the address alone: no OK follows

    def _ropt(self, now, args):
        self._answer(now, "OK %02X" % self.wopt, "\r")

    def _wopt(self, now, args):
        v = parse_hex(args[0], 2, 0, 1)
        if v is None:
            return self._answer(now, "FAIL ER06", "\r")
        self.wopt = v
        self.wopt_writes += 1
        self._answer(now, "OK", "\r")

    # -- scan ---------------------------------------------------------------------
    def _skscan(self, now, args):
        mode = parse_hex(args[0], 1)
        mask = parse_hex(args[1], 8)
        dur = parse_hex(args[2], 2, 0, 14)
        if mode not in (0, 2, 3) or mask is None or dur is None or \
                (self.dialect.dual and parse_hex(args[3], 1, 0, 1) is None):
            return self._answer(now, "FAIL ER06")
        if now < self.scanning_until or self.joining:
            return self._answer(now, "FAIL ER10")
        self._ok(now)
        # docs/protocol.md: 9.6 ms x (2^D + 1) per channel; channels 33-60 are mask bits 0-27
        per = 0.0096 * (2 ** dur + 1)
        channels = [0x21 + b for b in range(28) if mask >> b & 1]
        end = now + per * len(channels)
        self.scanning_until = end
        m = self.meter
        if mode == 0:
            self.event(end, 0x1F, ip=self.ip)
            self.emit(end, ("EEDSCAN\r\n" + " ".join("%02X %02X" % (c, 0x30 + c % 7) for c in channels)
                            + "\r\n").encode())
            return
        if m.cfg.channel in channels and dur >= m.cfg.scan_min and \
                (mode == 3 or (self.rbid or "")[-8:] == m.pair_id):
            self.after(now + per * (channels.index(m.cfg.channel) + 1),
                       lambda t: self._beacon(t, mode))
        self.event(end, 0x22, ip=self.ip)

    def _beacon(self, t, mode):
        m = self.meter
        if m.present:
            self.event(t, 0x20, ip=m.ip)
            self.emit(t, self.dialect.epandesc(m.cfg.channel, m.cfg.pan, m.mac, m.cfg.lqi,
                                               m.pair_id if mode == 2 else None))

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
        self.after(t + 0.3, lambda at: self.rx(at, self.meter.ip, self.meter.mac, ECHONET_PORT,
                                               self.meter.d5_frame(), dst=MULTICAST), session=True)
        self.after(self.meter.next_push(t), self._push, session=True)

    def reauth_done(self, t, ok):
        self.reauth = False
        if ok:
            self.event(t, 0x25)
        else:
            self.event(t, 0x24)
            self.end_session()

    def end_session(self):
        self.session = None
        self.reauth = False
        self._session_gen += 1

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

    def _push(self, t):
        m = self.meter
        if m.present and t >= self.pushes_lost_until:
            data = m.push_frame(t)
            self.rx(t, m.ip, m.mac, ECHONET_PORT, data, dst=None if m.cfg.infc else MULTICAST)
        self.after(m.next_push(t), self._push, session=True)

    def pana_packet(self):
        """A PANA message (RFC 5191 header: reserved, length, flags, type 2, session, seq)."""
        rng = self.faults.rand()
        n = rng.choice((0x28, 0x50, 0x52, 0x64))
        body = bytes(rng.randrange(256) for _ in range(n - 16))
        return struct.pack(">HHHHII", 0, n, 0x8000, 2, 0x1B7A00F2, rng.randrange(1, 50)) + body

    # -- UDP ------------------------------------------------------------------------
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

    def _reply(self, now, reply, req_tid):
        if self.faults.take("drop", now):
            return
        t = now + self.meter.reply_delay()
        m = self.meter
        if self.faults.take("stale-tid", now):
            stale = reply[:2] + ((int.from_bytes(req_tid, "big") - 1) & 0xFFFF).to_bytes(2, "big") + reply[4:]
            self.after(t - 0.2, lambda at: self.rx(at, m.ip, m.mac, ECHONET_PORT, stale), session=True)
        corrupt = self.faults.take("corrupt", now)
        copies = 2 if self.faults.take("dup", now) else 1
        for i in range(copies):
            self.after(t + 0.05 * i, lambda at: self._rx_reply(at, reply, corrupt), session=True)

    def _rx_reply(self, t, reply, corrupt):
        if not self.meter.present:
            return
        if not corrupt:
            return self.rx(t, self.meter.ip, self.meter.mac, ECHONET_PORT, reply)
        mark = len(self._out)
        self.rx(t, self.meter.ip, self.meter.mac, ECHONET_PORT, reply)
        if len(self._out) - mark > 10:  # not muted
            rng = self.faults.rand()
            self._out[rng.randrange(mark + 7, len(self._out) - 2)] ^= 1 << rng.randrange(7)
