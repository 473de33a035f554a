"""Time and asyncio shims so lib/ runs unchanged on MicroPython and CPython.

MicroPython's `time.ticks_*` wrap at 2**30 ms; the CPython stand-ins wrap the same way,
so code that forgets `ticks_diff` fails on the host too.
"""
import asyncio
import sys

try:
    import select
except ImportError:  # a port without it just reads through clock.wait
    select = None

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

try:
    from time import ticks_ms, ticks_diff, ticks_add
except ImportError:
    import time as _time

    _PERIOD = 1 << 30
    _HALF = 1 << 29

    def ticks_ms():
        return int(_time.monotonic() * 1000) & (_PERIOD - 1)

    def ticks_add(t, delta):
        return (t + delta) & (_PERIOD - 1)

    def ticks_diff(a, b):
        return ((a - b + _HALF) & (_PERIOD - 1)) - _HALF

TimeoutError = asyncio.TimeoutError  # noqa: A001 (the same class on both interpreters)

_MP = hasattr(asyncio, "sleep_ms")


async def sleep_ms(ms):
    if _MP:
        await asyncio.sleep_ms(ms)
    else:
        await asyncio.sleep(ms / 1000)


async def wait_ms(coro, ms):
    """Await `coro` for at most `ms`; raises TimeoutError (the coroutine is cancelled)."""
    if _MP:
        return await asyncio.wait_for_ms(coro, ms)
    return await asyncio.wait_for(coro, ms / 1000)


# Slice of the polled read (clock ms): a byte waits at most this long before it is read, and an
# idle wait wakes the loop 1000 / _SLICE_MS times a second (a few bytecodes each). The UART's
# 2 KB receive buffer holds 170 ms of bytes at 115200 baud, so nothing is lost in a slice.
_SLICE_MS = const(20)


class Clock:
    """The session's notion of time; `scale` > 1 runs it faster than wall time.

    The simulator's --time-scale and the benchmark use the scale so that minutes of
    protocol time pass in seconds; tests inject a fake with ticks_ms, sleep_ms and wait
    (and nap, for Port's polled read). A whole scale is kept an int: MicroPython floats are
    heap objects, and the polled read converts time every slice.
    """

    def __init__(self, scale=1):
        self.scale = int(scale) if scale == int(scale) else scale
        self._base = ticks_ms()

    def ticks_ms(self):
        if self.scale == 1:
            return ticks_ms()
        return int(ticks_diff(ticks_ms(), self._base) * self.scale) & 0x3FFFFFFF

    async def sleep_ms(self, ms):
        await sleep_ms(max(0, int(ms / self.scale)))

    async def wait(self, coro, ms):
        return await wait_ms(coro, max(1, int(ms / self.scale)))

    def nap(self, ms):
        """Awaitable (MicroPython only): one slice of a polled wait with `ms` clock ms left.

        asyncio.sleep_ms returns a reused generator: nothing is allocated.
        """
        ms = min(_SLICE_MS, ms)
        if self.scale != 1:  # sped up: shorter slices keep the protocol's timing
            ms = int(ms // self.scale)
        return asyncio.sleep_ms(max(1, ms))


def _poller(s):
    """A poll object watching `s` for input, or None when `s` cannot be polled."""
    if s is None or select is None:
        return None
    p = select.poll()
    try:
        p.register(s, select.POLLIN)
    except (TypeError, OSError):
        return None
    return p


class Port:
    """The session's stream pair: a read and a drain with deadlines that allocate nothing.

    `wait_for_ms` creates a Task per call (~1.3 KB on the unix port, five times per poll).
    On MicroPython, when the StreamReader wraps a pollable object (machine.UART, a socket:
    its `s`), readiness is checked with `ipoll(0)` (which reuses its result tuple), the
    object is read directly, and waiting is `clock.nap`. Other streams (CPython, the tests'
    scripted module) and clocks without `nap` go through `clock.wait`.
    """

    def __init__(self, reader, writer, clock):
        self._r, self._w, self._clock = reader, writer, clock
        self._readinto = hasattr(reader, "readinto")
        self.n = None
        real = _MP and hasattr(clock, "nap")
        self._poll = _poller(getattr(reader, "s", None)) if real else None
        self.polled = self._poll is not None
        self._s = reader.s if self.polled else None
        # Stream.write hands the bytes to the object at once and keeps in out_buf only what
        # did not fit: with out_buf empty, drain() would just yield (from a new generator).
        self._out = real and hasattr(writer, "out_buf")

    def read(self, sink, ms):
        """Awaitable: move bytes into `sink` (space/commit or feed) for at most `ms` clock ms.

        Afterwards `n` is the bytes added, 0 at the end of the stream, or None when nothing
        came yet (the polled read returns after one slice: the caller checks its deadline).
        """
        if self._poll is None:
            return self._read(sink, ms)
        self.n = None
        for _ in self._poll.ipoll(0):
            n = self._s.readinto(sink.space())
            if n is not None:
                sink.commit(n)
                self.n = n
                return asyncio.sleep_ms(0)  # yield once per chunk: a chatty module cannot starve the loop
        return self._clock.nap(ms)

    async def _read(self, sink, ms):
        self.n = None
        try:
            if self._readinto:
                n = await self._clock.wait(self._r.readinto(sink.space()), ms)
                if n:
                    sink.commit(n)
            else:
                data = await self._clock.wait(self._r.read(256), ms)
                n = len(data)
                sink.feed(data)
        except TimeoutError:
            return
        self.n = n

    def drain(self, ms):
        """Awaitable: the written bytes are on their way; raises TimeoutError after `ms`."""
        if self._out and not self._w.out_buf:
            return asyncio.sleep_ms(0)
        return self._clock.wait(self._w.drain(), ms)


def drop(name):
    """Forget module `name` once used: sys.modules holds it, and a package's module is also an
    attribute of the package; its code leaves the heap when nothing else refers to it."""
    sys.modules.pop(name, None)
    pkg, _, mod = name.rpartition(".")
    p = sys.modules.get(pkg)
    if p is not None and mod in p.__dict__:
        delattr(p, mod)
