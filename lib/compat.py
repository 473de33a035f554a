"""Time and asyncio shims so lib/ runs unchanged on MicroPython and CPython.

MicroPython's `time.ticks_*` wrap at 2**30 ms; the CPython stand-ins wrap the same way,
so code that forgets `ticks_diff` fails on the host too.
"""
import asyncio

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


class Clock:
    """The session's notion of time; `scale` > 1 runs it faster than wall time.

    The simulator's --time-scale and the benchmark use the scale so that minutes of
    protocol time pass in seconds; tests inject a fake with the same three methods.
    """

    def __init__(self, scale=1):
        self.scale = scale
        self._base = ticks_ms()

    def ticks_ms(self):
        if self.scale == 1:
            return ticks_ms()
        return int(ticks_diff(ticks_ms(), self._base) * self.scale) & 0x3FFFFFFF

    async def sleep_ms(self, ms):
        await sleep_ms(max(0, int(ms / self.scale)))

    async def wait(self, coro, ms):
        return await wait_ms(coro, max(1, int(ms / self.scale)))
