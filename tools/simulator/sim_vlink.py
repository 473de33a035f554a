"""The session against the sans-I/O simulator in virtual time, in one CPython process.

No socket and no sleeping: a read waits by jumping the clock to the module's next output,
so days of meter time pass in seconds and every figure is exact and repeatable. Used by
host_tests/test_session_sim.py (days, midnights, fault sequences) and tools/bench/bench_session.py
(time to first watts).
"""
import asyncio
import math

from broute import bstate
from session_fake import VClock  # noqa: F401  host_tests/portable's virtual clock, one for both

_J11_REQ = b"\xd0\xea\x83\xfc"   # a J11 request's unique code (sim_j11.REQ)


class Link:
    """Reader and writer of the session; the module sees simulated seconds."""

    def __init__(self, module, clock):
        self.module = module
        self.clock = clock
        clock.mod = self
        self.avail = bytearray()
        self.written = []       # every write, in order (command lines and SKSENDTO data)

    def _s(self):
        return self.clock.now / 1000.0

    def write(self, b):
        b = bytes(b)
        self.written.append(b)
        self.module.feed(b, self._s())
        self.release(self.clock.now)

    async def drain(self):
        pass

    async def read(self, n):
        while not self.avail:
            await asyncio.sleep(0)
        out = bytes(self.avail[:n])
        del self.avail[:n]
        return out

    def release(self, now_ms):
        self.avail += self.module.read(now_ms / 1000.0)

    def next_due(self):
        """Milliseconds of the module's next timer (an output, a fault, a push), or None."""
        t = self.module.next_due()
        return None if t is None else int(math.ceil(t * 1000))

    def commands(self):
        """The command words written (SKSENDTO data left out)."""
        return [w.split()[0].decode() for w in self.written if w[:2] == b"SK" and w.split()]

    def codes(self):
        """The J11 request codes written, in order (a frame may span several writes)."""
        b = b"".join(self.written)
        out = []
        i = b.find(_J11_REQ)
        while 0 <= i and i + 8 <= len(b):
            out.append(int.from_bytes(b[i + 4:i + 6], "big"))
            i = b.find(_J11_REQ, i + 8 + int.from_bytes(b[i + 6:i + 8], "big"))
        return out


def run(session, clock, cond, limit_ms, every=None):
    """Run the session until cond() or `limit_ms` of simulated time; returns cond().

    `every()` is called on each turn (a test's own checks); an exception of the session
    other than its cancellation is raised here.
    """
    async def main():
        t = asyncio.ensure_future(session.run())
        while not cond() and clock.now < limit_ms and not t.done():
            await asyncio.sleep(0)
            if every:
                every()
        if t.done():
            t.result()
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            pass
    asyncio.run(main())
    return cond()


def until_error(session, clock, limit_ms=900000):
    """Run until the session shows ERROR (a person must act); the reasons it gave, or [] by then."""
    reasons = []

    def note(kind):
        if kind == "state" and session.state == bstate.ERROR:
            reasons.append(session.reason)
    session.listener = note
    run(session, clock, lambda: reasons, limit_ms)
    return reasons
