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
import struct

import sim_faults
from sim_faults import Faults
from sim_j11_link import (  # noqa: F401 (REQ: importable from here as before)
    BOOT_S, E_BUSY, E_JOIN, E_OPEN, E_PARAM, E_STATE, MAX_LEN, OK, REQ, REQ_UNIQUE, VERSION, J11Link,
    encode, j11_channel, rssi_dbm)
from sim_meter import Meter


class Module(J11Link):
    """One BP35C1-J11 with a meter in radio range."""

    def __init__(self, meter=None, faults=None, mac="001D129012345678"):
        faults = faults or Faults(family="j11")
        for _, name, _ in faults.scheduled:
            sim_faults.parse_spec(name, "j11")      # a fault J11 cannot show is refused by name
        # wopt, wopt_writes: stats shared with the SKSTACK module; J11's B-route sequence
        # writes no flash (the initial setting is volatile)
        super().__init__(meter or Meter(), faults, mac)
        self.flash_writes = 0
        self.refused = []           # (t, request code, result) of every refusal, for tests
        self._commands = {
            0x0001: self._status, 0x0005: self._open, 0x0006: self._close, 0x0008: self._send,
            0x0051: self._scan, 0x0053: self._broute, 0x0054: self._credentials,
            0x0056: self._pana, 0x0057: self._end_pana, 0x0058: self._end_broute,
            0x005F: self._init, 0x006B: self._version, 0x00D2: self._reauth, 0x00D9: self._reset,
        }
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

    # -- input --------------------------------------------------------------------
    def feed(self, data, now):
        self._run(now)
        if now < self.muted_until or not self.booted:
            return
        self._rx += data
        self._parse(now)

    # -- framing --------------------------------------------------------------------
    def _parse(self, now):
        """Whole requests out of the input; anything else is dropped unanswered."""
        buf = self._rx
        while True:
            i = buf.find(REQ_UNIQUE)
            if i < 0:
                keep = max([k for k in (1, 2, 3) if buf.endswith(REQ_UNIQUE[:k])] or [0])
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
            if length < 4 or length > MAX_LEN:
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
