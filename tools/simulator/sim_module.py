"""SKSTACK IP module emulation, sans-I/O: bytes in at a time, bytes out when due.

`feed(data, now)` takes UART input, `read(now)` returns what the module has
said by simulated time `now`, `next_due()` says when it next will. Times are
simulated seconds; the transport maps them onto the wall clock. Command
forms, answers and FAIL codes follow docs/protocol.md section 2; every line is
formatted by sim_dialect. The PANA session, UDP and SKSTACK's faults are sim_sk_link's;
time, output, the meter's traffic and the faults both families show alike sim_base's.
"""
from sim_dialect import DIALECTS, link_local, parse_hex
from sim_faults import Faults
from sim_meter import Meter
from sim_sk_link import SkLink

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


class Module(SkLink):
    """One Wi-SUN module with a meter in radio range."""

    def __init__(self, dialect="bp35a1", meter=None, faults=None, mac="001D129012345678"):
        super().__init__(meter or Meter(), faults or Faults(), mac)
        self.dialect = DIALECTS[dialect]
        self.ip = link_local(mac)
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

    # -- input ----------------------------------------------------------------------
    def feed(self, data, now):
        self._run(now)
        if now < self.muted_until:
            return
        i = 0
        while i < len(data):
            i = self._take(data, i, now)

    def event(self, t, num, param=None, ip=None):
        self.emit(t, self.dialect.event(num, ip or self.session or self.meter.ip, param))

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

    def restart(self, now=None):
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
