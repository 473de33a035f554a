"""What both module emulations share (sim_module: SKSTACK IP, sim_j11: J11), sans-I/O.

Simulated time and the output (`read(now)`, `next_due()`), timers scoped to a power cycle or
a session, the meter's pushes and replies with the faults that touch them, and the faults
every family shows the same way. A family supplies `deliver(t, ip, mac, data, multicast)`
(an ECHONET Lite datagram on port 0E1A in its own notification), `restart(now)`,
`_CORRUPT` and `_own_fault` for the faults it shows in its own words (sim_faults).
"""
import heapq

import sim_faults
from sim_dialect import link_local
from sim_meter import CONTROLLER, METER, frame

_OTHER_MAC = "02005E1000000001"   # the foreign-node fault's sender


class BaseModule:
    """Time, timers, output and the meter's traffic of one module with a meter in range."""

    family = None
    # corrupt: (first byte, bytes kept at the end, bits, least output) of the flip in a reply
    _CORRUPT = (0, 0, 8, 0)

    def __init__(self, meter, faults, mac):
        self.meter = meter
        self.faults = faults
        self.mac = mac
        self.wopt = 0               # flash: survives resets and restarts (J11: never written)
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
        for t, name, arg in faults.scheduled:
            self.after(t, lambda now, n=name, a=arg: self._fault(n, a, now), always=True)

    # -- time and output ------------------------------------------------------------
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

    def end_session(self):
        self.session = None
        self.reauth = False
        self._session_gen += 1

    # -- the meter's traffic ----------------------------------------------------------
    def from_meter(self, t, data, multicast=False):
        m = self.meter
        self.deliver(t, m.ip, m.mac, data, multicast)

    def _push(self, t):
        m = self.meter
        if m.present and t >= self.pushes_lost_until:
            self.from_meter(t, m.push_frame(t), not m.cfg.infc)
        self.after(m.next_push(t), self._push, session=True)

    def _reply(self, now, reply, req_tid):
        if self.faults.take("drop", now):
            return
        t = now + self.meter.reply_delay()
        if self.faults.take("stale-tid", now):
            stale = reply[:2] + ((int.from_bytes(req_tid, "big") - 1) & 0xFFFF).to_bytes(2, "big") + reply[4:]
            self.after(t - 0.2, lambda at: self.from_meter(at, stale), session=True)
        corrupt = self.faults.take("corrupt", now)
        copies = 2 if self.faults.take("dup", now) else 1
        for i in range(copies):
            self.after(t + 0.05 * i, lambda at: self._rx_reply(at, reply, corrupt), session=True)

    def _rx_reply(self, t, reply, corrupt):
        if not self.meter.present:
            return
        mark = len(self._out)
        self.from_meter(t, reply)
        first, kept, bits, least = self._CORRUPT
        if corrupt and len(self._out) - mark > least:  # not muted: one bit flips
            rng = self.faults.rand()
            self._out[rng.randrange(mark + first, len(self._out) - kept)] ^= 1 << rng.randrange(bits)

    # -- faults ---------------------------------------------------------------------
    def inject(self, spec, now=None):
        """Make a fault 'NAME[:ARG]' happen now (or arm it); FaultError if the family cannot show it."""
        name, arg, _ = sim_faults.parse_spec(spec, self.family)
        self._run(self.now if now is None else now)
        self._fault(name, arg, self.now)

    def _fault(self, name, arg, now):
        """Arm an armed fault, or make an immediate one happen now."""
        if name in sim_faults.ARMED:
            return self.faults.arm(name)
        self.faults.fired.append((now, name))
        m = self.meter
        rng = self.faults.rand()
        if name == "mute":
            self.muted_until = now + (arg or 30.0)
        elif name == "meter-gone":
            m.present = False
            if arg:
                self.after(now + arg, lambda t: setattr(m, "present", True), always=True)
        elif name == "meter-back":
            m.present = True
        elif name == "push-loss":
            self.pushes_lost_until = now + arg if arg else float("inf")
        elif name == "foreign-node":
            data = frame(rng.randrange(0x10000), METER, CONTROLLER, 0x72, [(0xE7, b"\x00\x00\x03\xe8")])
            self.deliver(now, link_local(_OTHER_MAC), _OTHER_MAC, data)
        elif name == "foreign-eoj":
            data = frame(rng.randrange(0x10000), 0x027901, CONTROLLER, 0x73, [(0x80, b"\x30")])
            self.deliver(now, m.ip, m.mac, data, True)
        else:
            self._own_fault(name, arg, now, rng)
