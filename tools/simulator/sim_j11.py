"""ROHM J11 binary-protocol module emulation (BP35C1-J11-T01 on the Wi-SUN HAT-C1), sans-I/O.

The same interface as sim_module.Module: `feed(data, now)`, `read(now)`, `next_due()`,
`inject(spec)` and the stats attributes sim.py prints, driving the same sim_meter.Meter and
the fault names of sim_faults (translated: sim_faults.J11). Frames are built and checked
here with struct, never with lib/broute/, so this is an independent check of the driver.

Known (ROHM's application note "B-route communication" as followed by clients that ran on
J11 hardware): the frame (unique code, command, length = 4 + data, header and data sums),
the B-route sequence 00D9 -> 6019, 006B, 005F, 0054, 0051 (4051 per channel, then 2051),
005F on the meter's channel, 0053, 0005, 0056 -> 2056 then 6028, 0008 -> 2008, 6018, 601A,
the field layouts, 0A (port open already), 0E (0053 found no meter), channels 4-17.
Assumed, to be checked against the UART IF specification's tables when we have them:
- result codes 02 (parameter), 03 (a request still in flight), 04 (not possible in this state);
- 2FFF and FFFF carry no data; a length beyond any request is dropped without an answer;
- after 2008's transmit result come the first 4 bytes of the payload; 601A 03/04 and 6028 02
  are all J11 says when a session is lost or a re-authentication fails (no notification
  starts a re-authentication or reports the ARIB transmit-time limit: sends then fail);
- in 6018, the destination type is 01 for multicast, the security byte 02 (as logged).
"""
import heapq
import struct

import sim_faults
from sim_dialect import link_local
from sim_faults import Faults
from sim_meter import CONTROLLER, METER, Meter, frame

REQ = 0xD0EA83FC            # unique code of a request
RES = 0xD0F9EE5D            # ... of a response or notification
_REQ = struct.pack(">I", REQ)
ECHONET_PORT = 0x0E1A
MAX_DATA = 0x4D0            # longest UDP payload
_MAX_LEN = 4 + 22 + MAX_DATA  # longest message length a request may give (0008, full payload)

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
_OTHER_MAC = "02005E1000000001"   # the foreign-node fault's sender
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


class Module:
    """One BP35C1-J11 with a meter in radio range."""

    family = "j11"

    def __init__(self, meter=None, faults=None, mac="001D129012345678"):
        self.meter = meter or Meter()
        self.faults = faults or Faults(family="j11")
        for _, name, _ in self.faults.scheduled:
            sim_faults.parse_spec(name, "j11")      # a fault J11 cannot show is refused by name
        self.mac = mac
        self.wopt = 0               # stats shared with the SKSTACK module: J11's B-route sequence
        self.wopt_writes = 0        # writes no flash (the initial setting is volatile)
        self.flash_writes = 0
        self.restarts = 0
        self.muted_until = -1.0
        self.pushes_lost_until = -1.0
        self.refused = []           # (t, request code, result) of every refusal, for tests
        self.now = 0.0
        self._timers = []
        self._seq = 0
        self._out = bytearray()
        self._power = 0
        self._session_gen = 0
        self._commands = {
            0x0001: self._status, 0x0005: self._open, 0x0006: self._close, 0x0008: self._send,
            0x0051: self._scan, 0x0053: self._broute, 0x0054: self._credentials,
            0x0056: self._pana, 0x0057: self._end_pana, 0x0058: self._end_broute,
            0x005F: self._init, 0x006B: self._version, 0x00D2: self._reauth, 0x00D9: self._reset,
        }
        for t, name, arg in self.faults.scheduled:
            self.after(t, lambda now, n=name, a=arg: self._fault(n, a, now), always=True)
        self._boot(0.0, 0.0)

    def _boot(self, now, delay):
        """Power-up: everything volatile is forgotten; input is ignored until 6019."""
        self._power += 1
        self._session_gen += 1
        self.booted = False
        self.mode = self.channel = None
        self.rbid = self.pwd = None
        self.broute = None          # the meter's MAC once 0053 succeeded
        self.session = None         # the meter's address while PANA is up
        self.ports = set()
        self.busy_until = -1.0
        self.reauth = self.rate_limited = False
        self._rx = bytearray()
        self.after(now + delay, self._booted)

    def _booted(self, t):
        self.booted = True
        self.emit(t, encode(0x6019))

    # -- time and output (as sim_module) ------------------------------------------
    def feed(self, data, now):
        self._run(now)
        if now < self.muted_until or not self.booted:
            return
        self._rx += data
        self._parse(now)

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

    def _run(self, now):
        while self._timers and self._timers[0][0] <= now:
            t, _, fn, scope = heapq.heappop(self._timers)
            if scope is not None and (scope[0] != self._power or
                                      (scope[1] is not None and scope[1] != self._session_gen)):
                continue
            self.now = max(self.now, t)
            fn(self.now)
        self.now = max(self.now, now)

    # -- framing --------------------------------------------------------------------
    def _parse(self, now):
        """Whole requests out of the input; anything else is dropped unanswered."""
        buf = self._rx
        while True:
            i = buf.find(_REQ)
            if i < 0:
                keep = max([k for k in (1, 2, 3) if buf.endswith(_REQ[:k])] or [0])
                del buf[:len(buf) - keep]      # text (a SKSTACK command) never gets a reply
                return
            del buf[:i]
            if len(buf) < 12:
                return
            code, length, hsum, dsum = struct.unpack_from(">HHHH", buf, 4)
            if sum(buf[:8]) & 0xFFFF != hsum:
                del buf[:4]                    # the length cannot be trusted: resynchronise
                self.emit(now, encode(0x2FFF))
                continue
            if length < 4 or length > _MAX_LEN:
                del buf[:4]                    # longer than any request: dropped, resynchronise
                continue
            if len(buf) < 8 + length:
                return
            data = bytes(buf[12:8 + length])
            del buf[:8 + length]
            if sum(data) & 0xFFFF != dsum:
                self.emit(now, encode(0x2FFF))
                continue
            self._request(now, code, data)

    def _request(self, now, code, data):
        fn = self._commands.get(code)
        if fn is None:
            return self.emit(now, encode(0xFFFF))
        if now < self.busy_until and code != 0x00D9:
            return self._result(now, code, E_BUSY)
        fn(now, code, data)

    def _result(self, t, code, result, more=b""):
        if result != OK:
            self.refused.append((t, code, result))
        self.emit(t, encode(code | 0x2000, bytes((result,)) + more))

    def _check(self, now, code, data, size, need=True):
        """True if data has `size` bytes (a tuple: one of them) and `need` holds; else refuse."""
        sizes = size if isinstance(size, tuple) else (size,)
        if len(data) not in sizes:
            self._result(now, code, E_PARAM)
        elif not need:
            self._result(now, code, E_STATE)
        else:
            return True
        return False

    # -- commands -------------------------------------------------------------------
    def _reset(self, now, code, data):
        self._boot(now, BOOT_S)     # no response: 6019 when booted

    def restart(self, now):
        """Reset without being asked (brown-out, watchdog): an unprompted 6019."""
        self.restarts += 1
        self._boot(now, BOOT_S)

    def _version(self, now, code, data):
        if self._check(now, code, data, 0):
            self._result(now, code, OK, struct.pack(">HBBI", *VERSION))

    def _status(self, now, code, data):
        if self._check(now, code, data, 0):
            route = 3 if self.session else 2 if self.broute else 1
            self._result(now, code, OK, bytes((3 if self.mode else 2, route, 1)))

    def _init(self, now, code, data):
        if not self._check(now, code, data, 4, self.broute is None):
            return
        mode, sleep, ch, power = data
        if mode not in (1, 2, 3, 5) or sleep > 1 or not 4 <= ch <= 17 or power > 2:
            return self._result(now, code, E_PARAM)
        self.mode, self.channel = mode, ch
        self._result(now, code, OK)

    def _credentials(self, now, code, data):
        if self._check(now, code, data, 44, self.mode == 5):
            self.rbid = data[:32].decode("latin-1")
            self.pwd = data[32:].decode("latin-1")
            self._result(now, code, OK)

    def _scan(self, now, code, data):
        if not self._check(now, code, data, (6, 14), self.mode == 5):
            return
        dur, mask, flag = struct.unpack_from(">BIB", data)
        if not 1 <= dur <= 14 or not mask or mask & ~0x3FFF0 or flag > 1 or len(data) != 6 + 8 * flag:
            return self._result(now, code, E_PARAM)
        # 9.64 ms x 2^duration per channel; channels 4-17 are mask bits 4-17
        per = 0.00964 * 2 ** dur
        pair = data[6:].decode("latin-1") if flag else None
        t = now
        for ch in [c for c in range(4, 18) if mask >> c & 1]:
            t += per
            self.after(t, lambda at, c=ch: self._beacon(at, c, dur, pair))
        self.busy_until = t
        self.after(t, lambda at: self._result(at, code, OK))

    def _found(self, ch, pair):
        """True if the meter answers a beacon request on channel ch carrying pairing ID `pair`."""
        m = self.meter
        return m.present and ch == j11_channel(m.cfg.channel) and pair == m.pair_id

    def _beacon(self, t, ch, dur, pair):
        m = self.meter
        if self._found(ch, pair) and dur >= m.cfg.scan_min:
            body = struct.pack(">BBB8sHb", 0, ch, 1, bytes.fromhex(m.mac), m.cfg.pan,
                               rssi_dbm(m.cfg.lqi))
        else:
            body = bytes((1, ch))
        self.emit(t, encode(0x4051, body))

    def _broute(self, now, code, data):
        if not self._check(now, code, data, 0, self.mode == 5 and self.rbid is not None and
                           self.broute is None):
            return
        m = self.meter
        if self._found(self.channel, self.rbid[-8:]):
            self.busy_until = now + 1.0
            more = struct.pack(">BH8sb", self.channel, m.cfg.pan, bytes.fromhex(m.mac),
                               rssi_dbm(m.cfg.lqi))
            self.after(now + 1.0, lambda at: self._broute_up(at, code, more))
        else:
            self.busy_until = now + 3.0
            self.after(now + 3.0, lambda at: self._result(at, code, E_JOIN))

    def _broute_up(self, t, code, more):
        self.broute = self.meter.mac
        self._result(t, code, OK, more)

    def _open(self, now, code, data):
        if self._check(now, code, data, 2):
            port = struct.unpack(">H", data)[0]
            if port in self.ports:
                return self._result(now, code, E_OPEN)
            self.ports.add(port)
            self._result(now, code, OK)

    def _close(self, now, code, data):
        port = struct.unpack(">H", data)[0] if len(data) == 2 else None
        if self._check(now, code, data, 2, port in self.ports):
            self.ports.discard(port)
            self._result(now, code, OK)

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
        self.after(t + 0.3, lambda at: self.rx(at, m.ip, m.d5_frame(), multicast=True), session=True)
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

    def end_session(self):
        self.session = None
        self.reauth = False
        self._session_gen += 1

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
    def rx(self, t, src, data, port=ECHONET_PORT, multicast=False):
        """A 6018 for a datagram received at t; nothing if nobody opened the port."""
        if port not in self.ports:
            return
        m = self.meter
        body = struct.pack(">16sHHHBBbH", addr16(src), port, port, m.cfg.pan, 1 if multicast else 0,
                           2, rssi_dbm(m.cfg.lqi), len(data))
        self.emit(t, encode(0x6018, body + data))

    def _push(self, t):
        m = self.meter
        if m.present and t >= self.pushes_lost_until:
            self.rx(t, m.ip, m.push_frame(t), multicast=not m.cfg.infc)
        self.after(m.next_push(t), self._push, session=True)

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

    def _reply(self, now, reply, req_tid):
        if self.faults.take("drop", now):
            return
        t = now + self.meter.reply_delay()
        m = self.meter
        if self.faults.take("stale-tid", now):
            stale = reply[:2] + ((int.from_bytes(req_tid, "big") - 1) & 0xFFFF).to_bytes(2, "big") + reply[4:]
            self.after(t - 0.2, lambda at: self.rx(at, m.ip, stale), session=True)
        corrupt = self.faults.take("corrupt", now)
        copies = 2 if self.faults.take("dup", now) else 1
        for i in range(copies):
            self.after(t + 0.05 * i, lambda at: self._rx_reply(at, reply, corrupt), session=True)

    def _rx_reply(self, t, reply, corrupt):
        if not self.meter.present:
            return
        mark = len(self._out)
        self.rx(t, self.meter.ip, reply)
        if corrupt and len(self._out) - mark > 12:  # not muted: one data bit flips, its sum fails
            rng = self.faults.rand()
            self._out[rng.randrange(mark + 12, len(self._out))] ^= 1 << rng.randrange(8)

    # -- faults (their J11 forms: sim_faults.J11) --------------------------------------
    def inject(self, spec, now=None):
        """Make a fault 'NAME[:ARG]' happen now (or arm it); FaultError if J11 cannot show it."""
        name, arg, _ = sim_faults.parse_spec(spec, "j11")
        self._run(self.now if now is None else now)
        self._fault(name, arg, self.now)

    def _fault(self, name, arg, now):
        if name in sim_faults.ARMED:
            return self.faults.arm(name)
        self.faults.fired.append((now, name))
        m = self.meter
        rng = self.faults.rand()
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
        elif name == "mute":
            self.muted_until = now + (arg or 30.0)
        elif name == "restart":
            self.restart(now)
        elif name == "meter-gone":
            m.present = False
            if arg:
                self.after(now + arg, lambda t: setattr(m, "present", True), always=True)
        elif name == "meter-back":
            m.present = True
        elif name == "push-loss":
            self.pushes_lost_until = now + arg if arg else float("inf")
        elif name == "garbage":
            # line noise, a stray half unique code, then text: none of it is a frame
            self.emit(now, bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randint(4, 40)))
                      + b"\xd0\xf9\xee" + b"ER04\r\n")
        elif name == "half-line":
            note = encode(0x601A, struct.pack(">B8sb", MAC_UP, bytes.fromhex(m.mac), rssi_dbm(m.cfg.lqi)))
            self.emit(now, note[:rng.randint(3, len(note) - 3)])
        elif name == "foreign-node":
            data = frame(rng.randrange(0x10000), METER, CONTROLLER, 0x72, [(0xE7, b"\x00\x00\x03\xe8")])
            self.rx(now, link_local(_OTHER_MAC), data)
        elif name == "foreign-eoj":
            data = frame(rng.randrange(0x10000), 0x027901, CONTROLLER, 0x73, [(0x80, b"\x30")])
            self.rx(now, m.ip, data, multicast=True)
