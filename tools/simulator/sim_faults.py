"""Fault injection: what can go wrong on a real B-route link, on demand.

A fault is `NAME[:ARG][@T]` (ARG a number of seconds where it takes one,
T simulated seconds since start). Armed faults wait for the next matching
action (a SKSENDTO, a meter reply, a join); the others happen at once.
`Faults.roll()` picks one at random with probability RATE per SKSENDTO,
from a seeded RNG, so a random run can be replayed. The J11 module (sim_j11)
shows the same faults in its own notifications (J11 below); a fault it cannot
show is refused by name (J11_REFUSED). The modules make them happen (sim_base, and each
family's `_own_fault`).
"""
import random

# armed: consumed by the next SKSENDTO (tx-*, er10), meter reply (drop..corrupt) or join
ARMED = {
    "tx-fail": "next SKSENDTO: EVENT 21 param 01, the frame is not sent",
    "tx-ns": "next SKSENDTO: EVENT 21 param 02 (neighbour solicitation), then 00",
    "er10": "next SKSENDTO: FAIL ER10",
    "drop": "the meter's next reply is lost (the client times out)",
    "dup": "the meter's next reply arrives twice",
    "stale-tid": "the meter's next reply is preceded by one with the previous TID",
    "corrupt": "one byte of the next reply's ERXUDP line is mangled",
    "auth-fail": "the next join / rejoin / re-authentication ends in EVENT 24",
}
IMMEDIATE = {
    "reauth-ok": "EVENT 29, sends fail for ARG s (2), then EVENT 25",
    "reauth-fail": "EVENT 29, then EVENT 24 after ARG s (2): the session is gone",
    "peer-term": "EVENT 26: the meter ended the session",
    "term": "EVENT 27: the session ended",
    "term-timeout": "EVENT 28: the session ended, the peer did not answer",
    "rate-limit": "EVENT 32, SKSENDTO refused with FAIL ER10 for ARG s (60), then EVENT 33",
    "mute": "the module ignores input and says nothing for ARG s (30)",
    "restart": "the module restarts by itself: echo on, registers reset, session lost",
    "meter-gone": "the meter vanishes (no beacons, joins fail, no replies) for ARG s (forever)",
    "meter-back": "the meter is back",
    "push-loss": "the meter's EA/EB pushes are lost for ARG s (forever)",
    "garbage": "random non-ASCII bytes and a CRLF on the UART",
    "half-line": "a line cut short with no CRLF; the next line follows straight on",
    "foreign-node": "an ECHONET frame from another node (other IPv6 address)",
    "foreign-eoj": "a frame from the meter's address but another object (0x027901)",
    "pana": "PANA traffic on port 02CC from the meter",
}
NAMES = dict(ARMED, **IMMEDIATE)

# the same faults on a J11 module (sim_j11, whose docstring says what is assumed); "lost" is J11's own
J11 = {
    "tx-fail": "next 0008: 2008 result 01, transmit result 01 (not sent)",
    "er10": "next 0008: refused, 2008 result 04 (not possible now)",
    "drop": ARMED["drop"],
    "dup": ARMED["dup"],
    "stale-tid": ARMED["stale-tid"],
    "corrupt": "one data byte of the next reply's 6018 frame is mangled: its data checksum fails",
    "auth-fail": "the next PANA (0056, 00D2 or the module's own re-authentication) ends in 6028 02",
    "reauth-ok": "the module re-authenticates by itself (no notification first): sends fail "
                 "(2008 transmit result 01) for ARG s (2), then 6028 01",
    "reauth-fail": "as reauth-ok, then 6028 02 and 601A 04: the session is gone",
    "peer-term": "601A 04: the meter ended the session",
    "term": "601A 04: the session ended",
    "lost": "601A 04: the PANA session is lost",
    "term-timeout": "601A 03: the MAC link to the meter is lost (0053 again)",
    "rate-limit": "J11 has no notification for it: 0008 answered 2008 result 01, transmit result 01 "
                  "(not sent) for ARG s (60)",
    "mute": IMMEDIATE["mute"],
    "restart": "the module restarts by itself: an unprompted 6019, setting, credentials, ports and "
               "session forgotten",
    "meter-gone": IMMEDIATE["meter-gone"],
    "meter-back": IMMEDIATE["meter-back"],
    "push-loss": IMMEDIATE["push-loss"],
    "garbage": "random bytes, a broken unique code and text on the UART: no frame",
    "half-line": "a 601A cut short; the next frame follows straight on",
    "foreign-node": "a 6018 from another node (other IPv6 address)",
    "foreign-eoj": "a 6018 from the meter's address but another object (0x027901)",
}
J11_REFUSED = {
    "tx-ns": "J11's 2008 reports no neighbour solicitation",
    "pana": "J11 runs PANA inside the module: its traffic never reaches the UART",
}

# what --random-faults chooses from: everything a client should ride out
_RANDOM = ("tx-fail", "tx-ns", "er10", "drop", "dup", "stale-tid", "corrupt", "garbage",
           "half-line", "foreign-node", "foreign-eoj", "pana", "reauth-ok", "rate-limit:20",
           "term", "mute:15")


class FaultError(ValueError):
    """A fault spec that names no known fault or has a bad number."""


def parse_spec(spec, family=None):
    """'NAME[:ARG][@T]' -> (name, arg or None, t or None); family "j11": J11's names."""
    at = None
    if "@" in spec:
        spec, t = spec.split("@", 1)
        at = _number(t, spec)
    name, _, arg = spec.partition(":")
    if family == "j11" and name in J11_REFUSED:
        raise FaultError("fault %r makes no sense on a J11 module: %s" % (name, J11_REFUSED[name]))
    known = J11 if family == "j11" else NAMES
    if name not in known:
        raise FaultError("unknown fault %r (known: %s)" % (name, ", ".join(sorted(known))))
    return name, (_number(arg, name) if arg else None), at


def _number(text, what):
    try:
        return float(text)
    except ValueError:
        raise FaultError("bad number %r in fault %r" % (text, what)) from None


class Faults:
    """Armed faults, the timed schedule, the random roll and a record of what fired."""

    def __init__(self, specs=(), rate=0.0, seed=0, family=None):
        self.scheduled = []     # (t, name, arg) from NAME@T specs
        self.armed = {}
        self.fired = []         # (t, name) in the order they took effect
        self.rate = rate
        self._rng = random.Random(seed)
        self._random = _RANDOM if family != "j11" else \
            tuple(s for s in _RANDOM if s.partition(":")[0] in J11)
        for spec in specs:
            name, arg, at = parse_spec(spec, family)
            self.scheduled.append((at or 0.0, name, arg))

    def arm(self, name):
        self.armed[name] = self.armed.get(name, 0) + 1

    def take(self, name, now):
        """True (once per arming) if `name` is armed; records it as fired."""
        n = self.armed.get(name, 0)
        if not n:
            return False
        self.armed[name] = n - 1
        self.fired.append((now, name))
        return True

    def roll(self):
        """A random fault spec, or None, for one SKSENDTO."""
        if self.rate and self._rng.random() < self.rate:
            return self._rng.choice(self._random)
        return None

    def rand(self):
        return self._rng
