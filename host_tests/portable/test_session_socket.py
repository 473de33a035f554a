"""The session over a real TCP socket (the unix port's UART is one) against the scripted module.

This is the firmware's read path: asyncio streams, compat.Port polling the socket, a real
Clock (sped up 100 times). The module runs in this process behind a plain socket; what it
allocates is measured around each of its turns and left out, so under MicroPython the
figure is the session's own, UART reads and drains included.
"""
import asyncio
import gc
import sys

from broute import compat
from broute import session
from broute.scancache import MemoryCache
from test_compat_port import connect
from session_fake import FakeModule, IP, MAC, RBID, PWD

# 64-bit unix port, 5 s poll with E0/E3 every 10th: measured 1030.
CEILING = 1400
_SCALE = 100
_REAL_MS = 30000  # the whole run, in real ms, before it counts as a hang
_pause = getattr(asyncio, "sleep_ms", None) or (lambda ms: asyncio.sleep(ms / 1000))


class _Now:
    """FakeModule's clock: its `now` is the session's Clock."""

    def __init__(self, clock):
        self.clock = clock
        self.mod = None

    @property
    def now(self):
        return self.clock.ticks_ms()


def alloc_per_cycle_socket(cycles=20, warm=5):
    """(bytes the session allocates per polling cycle or None off MicroPython, the session)."""
    mem = getattr(gc, "mem_alloc", None) or (lambda: 0)
    clock = compat.Clock(_SCALE)
    mod = FakeModule(_Now(clock))
    cache = MemoryCache({"channel": 0x3B, "pan_id": 0x8888, "addr": MAC, "ip": str(IP, "ascii")})
    out = [None]
    peer_alloc = [0]

    async def module(peer):
        """Pump bytes between the socket and the scripted module, in its own accounts."""
        peer.setblocking(False)
        while True:
            await _pause(2)
            a = mem()
            try:
                data = peer.recv(512)
            except OSError:  # nothing to read (EAGAIN)
                data = None
            if data:
                mod.write(data)
            mod.release(clock.ticks_ms())
            if mod.avail:
                n = peer.send(mod.avail)
                mod.avail = mod.avail[n:]
            peer_alloc[0] += mem() - a

    async def main():
        r, w, peer = await connect()
        s = session.Session(r, w, RBID, PWD, cache=cache, clock=clock, poll_ms=5000)
        pump = asyncio.create_task(module(peer))
        task = asyncio.create_task(s.run())
        t0 = compat.ticks_ms()

        async def until(seq):
            while s.reading.seq < seq:
                assert compat.ticks_diff(compat.ticks_ms(), t0) < _REAL_MS, (s.state, s.reading.seq)
                await _pause(5)
        try:
            await until(warm)
            gc.collect()
            gc.disable()
            a = mem()
            peer_alloc[0] = 0
            await until(warm + cycles)
            out[0] = (mem() - a - peer_alloc[0]) // cycles
            gc.enable()
        finally:
            gc.enable()
            task.cancel()
            pump.cancel()
            await _pause(10)
            peer.close()
            w.close()
        return s
    s = asyncio.run(main())
    return (out[0] if hasattr(gc, "mem_alloc") else None), s


def test_session_over_a_socket_reads_and_stays_under_the_allocation_ceiling():
    per, s = alloc_per_cycle_socket()
    assert s.reading.power_w == 686 and s.timeouts == 0 and s.rejoins == 0 and s._drv.eof == 0
    if sys.implementation.name == "micropython":
        assert s._drv._port.polled
        assert per is not None and per <= CEILING, per
    else:
        assert per is None
