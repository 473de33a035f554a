"""The simulated smart meter: configuration, properties, ECHONET Lite answers.

Frames are encoded here with struct straight from the definitions in
docs/protocol.md sections 3-4, not with lib/echonet.py, so that tests of the
codec against the simulator compare two independent implementations.
Meter time is seconds since the epoch of the meter's local wall clock;
`wall(sim_t)` maps simulated seconds onto it (clock_start + t * clock_speed).
"""
import calendar
import random
import struct
import time

from sim_dialect import link_local
from sim_load import SLOT, VOLTS, Counters, Load

DEFAULT_ID = "00112233445566778899AABBCCDDEEFF"
DEFAULT_PASSWORD = "0123456789AB"

CONTROLLER = 0x05FF01
METER = 0x028801
NODE_PROFILE = 0x0EF001

_SETI, _SETC, _GET, _INF_REQ = 0x60, 0x61, 0x62, 0x63
_SET_RES, _GET_RES, _INF, _INFC, _INFC_RES = 0x71, 0x72, 0x73, 0x74, 0x7A
_SETI_SNA, _SETC_SNA, _GET_SNA, _INF_SNA = 0x50, 0x51, 0x52, 0x53
_NO_DATA = b"\xff\xff\xff\xfe"
_UNITS = {0x00: 1, 0x01: 0.1, 0x02: 0.01, 0x03: 0.001, 0x04: 0.0001,
          0x0A: 10, 0x0B: 100, 0x0C: 1000, 0x0D: 10000}
_MAKER = b"\x00\x00\x16"


class MeterConfig:
    """Everything that tells one simulated meter from another."""

    def __init__(self, **kw):
        self.seed = 1
        self.solar_w = 0            # peak generation; export at midday when set
        self.two_wire = False       # single-phase 2-wire: E8 T phase is 7FFE
        self.heavy = False          # currents near the 30 A contract limit
        self.flat = None            # (import W, export W, from h, to h): a load worked out by hand
        self.coefficient = 1        # D3; None: the meter answers D3 with Get_SNA
        self.unit = 0x01            # E1 code (0.1 kWh)
        self.digits = 6             # D7
        self.infc = False           # push EA/EB as INFC (74), expecting 7A
        self.import_kwh = 12345.6   # E0 at clock_start
        self.export_kwh = 0.0       # E3 at clock_start
        self.history_days = 99      # E2/E4 days kept (some meters keep few)
        self.clock_start = "2024-06-01T11:55:00"
        self.clock_speed = 1.0      # meter seconds per simulated second
        self.channel = 0x3B
        self.pan = 0x8888
        self.mac = "C0F9450040AB12CD"
        self.lqi = 0xB2
        self.scan_min = 4           # smallest SKSCAN duration that finds it
        self.present = True
        self.rbid = DEFAULT_ID
        self.password = DEFAULT_PASSWORD
        self.reply_delay = 1.0      # s between a request and its answer
        for k, v in kw.items():
            if not hasattr(self, k):
                raise ValueError("unknown meter setting %r" % k)
            setattr(self, k, v)


SCENARIOS = {
    "normal": {},
    "solar": {"solar_w": 4500, "export_kwh": 2345.6},
    "no-d3": {"coefficient": None},
    "over-limit": {"heavy": True},
    "two-wire": {"two_wire": True},
    "no-meter": {"present": False},
    "far-meter": {"scan_min": 6, "lqi": 0x3A},
    "infc": {"infc": True},
    "few-days": {"history_days": 6},
}


def scenario(name, **overrides):
    if name not in SCENARIOS:
        raise ValueError("unknown scenario %r (known: %s)" % (name, ", ".join(sorted(SCENARIOS))))
    kw = dict(SCENARIOS[name])
    kw.update(overrides)
    return MeterConfig(**kw)


def frame(tid, seoj, deoj, esv, props):
    """ECHONET Lite format 1: EHD TID SEOJ DEOJ ESV OPC (EPC PDC EDT)*."""
    out = struct.pack(">BBH", 0x10, 0x81, tid & 0xFFFF)
    out += seoj.to_bytes(3, "big") + deoj.to_bytes(3, "big") + bytes((esv, len(props)))
    for epc, edt in props:
        out += bytes((epc, len(edt))) + edt
    return out


def parse(data):
    """(tid, seoj, deoj, esv, [(epc, edt)]) of a request, or None if malformed."""
    if len(data) < 12 or data[0] != 0x10 or data[1] != 0x81:
        return None
    tid = struct.unpack_from(">H", data, 2)[0]
    seoj = int.from_bytes(data[4:7], "big")
    deoj = int.from_bytes(data[7:10], "big")
    props = []
    i = 12
    for _ in range(data[11]):
        if i + 2 > len(data) or i + 2 + data[i + 1] > len(data):
            return None
        props.append((data[i], bytes(data[i + 2:i + 2 + data[i + 1]])))
        i += 2 + data[i + 1]
    return tid, seoj, deoj, data[10], props


def property_map(epcs):
    """Count + list below 16 properties, else count + 16-byte bitmap (docs/protocol.md section 4)."""
    epcs = sorted(epcs)
    if len(epcs) < 16:
        return bytes([len(epcs)] + epcs)
    bitmap = bytearray(16)
    for e in epcs:
        bitmap[e & 0x0F] |= 1 << ((e >> 4) - 8)
    return bytes([len(epcs)]) + bytes(bitmap)


class Meter:
    """Answers ECHONET Lite requests and produces the :00/:30 pushes."""

    def __init__(self, cfg=None):
        self.cfg = cfg or MeterConfig()
        self.present = self.cfg.present
        self.mac = self.cfg.mac
        self.ip = link_local(self.cfg.mac)
        self.pair_id = self.cfg.rbid[-8:]
        self.start = calendar.timegm(time.strptime(self.cfg.clock_start, "%Y-%m-%dT%H:%M:%S"))
        self.load = Load(self.cfg.seed, self.cfg.solar_w, self.cfg.two_wire, self.cfg.heavy, self.cfg.flat)
        self.counters = Counters(self.load, self.start, self.cfg.import_kwh * 1000,
                                 self.cfg.export_kwh * 1000)
        self.e5 = 0
        self.ed = None
        self._tid = 0
        self.requests = []      # (sim_t, tid, esv, epcs) of each request handled
        self.infc_sent = []     # TIDs of INFC pushes
        self.infc_acked = []    # TIDs answered with 7A
        self._rng = random.Random(self.cfg.seed)
        self._values = {
            0x80: lambda w: b"\x30", 0x81: lambda w: b"\x00",
            0x82: lambda w: b"\x00\x00\x46\x00", 0x88: lambda w: b"\x42",
            0x8A: lambda w: _MAKER, 0x8D: lambda w: b"SIM000000001",
            0x97: lambda w: bytes(time.gmtime(w)[3:5]), 0x98: self._date,
            0x9D: lambda w: property_map([0x80, 0x81, 0x88, 0xEA, 0xEB]),
            0x9E: lambda w: property_map([0x81, 0xE5, 0xED]),
            0x9F: lambda w: property_map(self._values), 0xD3: self._d3,
            0xD7: lambda w: bytes((self.cfg.digits,)), 0xE0: lambda w: self._raw(self.counters.imp),
            0xE1: lambda w: bytes((self.cfg.unit,)), 0xE2: lambda w: self._history(w, 0),
            0xE3: lambda w: self._raw(self.counters.exp), 0xE4: lambda w: self._history(w, 1),
            0xE5: lambda w: bytes((self.e5,)), 0xE7: self._e7, 0xE8: self._e8,
            0xEA: lambda w: self._fixed(w, 0), 0xEB: lambda w: self._fixed(w, 1),
            0xEC: self._ec, 0xED: lambda w: self._ed_value(w),
        }
        if self.cfg.coefficient is None:
            del self._values[0xD3]
        self._node = {
            0x80: b"\x30", 0x82: b"\x01\x0d\x01\x00", 0x83: b"\xfe" + _MAKER + b"SIMMETER00001",
            0x8A: _MAKER, 0x9D: property_map([0x80, 0xD5]), 0x9E: property_map([0x80]),
            0xD3: b"\x00\x00\x01", 0xD4: b"\x00\x02", 0xD5: b"\x01\x02\x88\x01",
            0xD6: b"\x01\x02\x88\x01", 0xD7: b"\x01\x02\x88",
        }
        self._node[0x9F] = property_map(list(self._node) + [0x9F])

    # -- time --------------------------------------------------------------
    def wall(self, sim_t):
        return self.start + sim_t * self.cfg.clock_speed

    def sim_time(self, wall):
        return (wall - self.start) / self.cfg.clock_speed

    # -- frames ------------------------------------------------------------
    def handle(self, data, sim_t):
        """Answer frames (possibly none) to one received UDP payload."""
        req = parse(data)
        if req is None:
            return []
        tid, seoj, deoj, esv, props = req
        obj = NODE_PROFILE if deoj >> 8 == NODE_PROFILE >> 8 else METER
        if deoj not in (METER, METER & ~0xFF, NODE_PROFILE, NODE_PROFILE & ~0xFF):
            return []
        self.requests.append((sim_t, tid, esv, [p[0] for p in props]))
        w = self.wall(sim_t)
        if esv == _INFC_RES:
            self.infc_acked.append(tid)
            return []
        if esv in (_GET, _INF_REQ):
            out = [(epc, self.value(obj, epc, w)) for epc, _ in props]
            ok = all(v is not None for _, v in out)
            out = [(epc, v or b"") for epc, v in out]
            if esv == _GET:
                return [frame(tid, obj, seoj, _GET_RES if ok else _GET_SNA, out)]
            return [frame(tid, obj, seoj, _INF if ok else _INF_SNA, out)]
        if esv in (_SETI, _SETC) and obj == METER:
            out = [(epc, b"" if self._set(epc, edt) else edt) for epc, edt in props]
            ok = all(not v for _, v in out)
            if esv == _SETC:
                return [frame(tid, obj, seoj, _SET_RES if ok else _SETC_SNA, out)]
            return [] if ok else [frame(tid, obj, seoj, _SETI_SNA, out)]
        return []

    def d5_frame(self):
        """The node profile's instance list, multicast right after a join."""
        return frame(self._next_tid(), NODE_PROFILE, NODE_PROFILE, _INF, [(0xD5, self._node[0xD5])])

    def next_push(self, sim_t):
        """Simulated time of the first EA/EB push after sim_t."""
        w = self.wall(sim_t)
        boundary = (int(w // SLOT)) * SLOT
        while True:
            at = boundary + random.Random(self.cfg.seed * 7919 + boundary).uniform(30, 240)
            if at > w + 1e-3:  # strictly later, despite float round trips
                return self.sim_time(at)
            boundary += SLOT

    def push_frame(self, sim_t):
        """EA and EB as INF (73) to the controller, or INFC (74) on an `infc` meter."""
        w = self.wall(sim_t)
        self.counters.advance(w)
        props = [(0xEA, self._fixed(w, 0)), (0xEB, self._fixed(w, 1))]
        tid = self._next_tid()
        if self.cfg.infc:
            self.infc_sent.append(tid)
            return frame(tid, METER, CONTROLLER, _INFC, props)
        return frame(tid, METER, CONTROLLER, _INF, props)

    def reply_delay(self):
        return self.cfg.reply_delay * self._rng.uniform(0.8, 1.3)

    def _next_tid(self):
        tid = self._tid
        self._tid = (self._tid + 1) & 0xFFFF
        return tid

    # -- properties ----------------------------------------------------------
    def value(self, obj, epc, w):
        """EDT of one property at meter time w, or None if the meter lacks it."""
        if obj == NODE_PROFILE:
            return self._node.get(epc)
        fn = self._values.get(epc)
        if fn is None:
            return None
        self.counters.advance(w)
        return fn(w)

    def _set(self, epc, edt):
        if epc == 0xE5 and len(edt) == 1 and edt[0] <= 99:
            self.e5 = edt[0]
            return True
        if epc == 0xED and len(edt) == 7:
            y, mo, d, h, mi, n = struct.unpack(">HBBBBB", edt)
            if 1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi in (0, 30) and 1 <= n <= 12:
                self.ed = edt
                return True
        return False

    def _raw(self, wh):
        kwh = wh / 1000.0
        step = _UNITS[self.cfg.unit] * (self.cfg.coefficient or 1)
        return struct.pack(">I", int(kwh / step + 1e-9) % 10 ** self.cfg.digits)

    def _at(self, boundary, w, which):
        if boundary > w or boundary < self.start - (self.cfg.history_days + 1) * 86400:
            return _NO_DATA
        return self._raw(self.counters.at(boundary)[which])

    def _d3(self, w):
        return struct.pack(">I", self.cfg.coefficient)

    def _date(self, w):
        tm = time.gmtime(w)
        return struct.pack(">HBB", tm[0], tm[1], tm[2])

    def _e7(self, w):
        return struct.pack(">i", max(-0x7FFFFFFF, min(0x7FFFFFFD, round(self.load.power(w)))))

    def _e8(self, w):
        r, t = self.load.phases(w)
        # deciamperes at 100 V: W / 100 V * 10
        r = max(-32767, min(32765, round(r * 10 / VOLTS)))
        t = 0x7FFE if self.cfg.two_wire else max(-32767, min(32765, round(t * 10 / VOLTS)))
        return struct.pack(">hh", r, t)

    def _history(self, w, which):
        midnight = int(w // 86400) * 86400 - self.e5 * 86400
        out = struct.pack(">H", self.e5)
        if self.e5 > self.cfg.history_days:
            return out + _NO_DATA * 48
        return out + b"".join(self._at(midnight + i * SLOT, w, which) for i in range(48))

    def _fixed(self, w, which):
        boundary = int(w // SLOT) * SLOT
        tm = time.gmtime(boundary)
        return struct.pack(">HBBBBB", *tm[0:6]) + self._raw(self.counters.at(boundary)[which])

    def _ed_value(self, w):
        if self.ed is not None:
            return self.ed
        tm = time.gmtime(int(w // SLOT) * SLOT)
        return struct.pack(">HBBBBB", tm[0], tm[1], tm[2], tm[3], tm[4], 12)

    def _ec(self, w):
        ed = self._ed_value(w)
        y, mo, d, h, mi, n = struct.unpack(">HBBBBB", ed)
        t0 = calendar.timegm((y, mo, d, h, mi, 0, 0, 0, 0))
        out = ed
        for i in range(n):
            out += self._at(t0 - i * SLOT, w, 0) + self._at(t0 - i * SLOT, w, 1)
        return out
