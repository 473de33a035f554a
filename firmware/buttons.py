"""A push button polled from an asyncio task: debounce, short and long press.

Polling (not IRQs) because G37/G39 see ghost edges when WiFi power saving is
on; a level must hold for two polls before it counts. A long press fires while
the button is still held, so the user sees the effect without letting go.
"""
import asyncio
from time import ticks_ms, ticks_diff
from micropython import const

_POLL_MS = const(20)


class Button:
    """A button that pulls its pin low (G37 and G39 on every board)."""

    def __init__(self, pin, on_short=None, on_long=None, long_ms=700):
        self._pin = pin
        self.on_short = on_short
        self.on_long = on_long
        self._long_ms = long_ms

    def _down(self):
        return self._pin.value() == 0

    async def run(self):
        stable = last = False
        since = 0
        long_done = False
        while True:
            await asyncio.sleep_ms(_POLL_MS)
            now = self._down()
            if now != last:  # needs a second identical poll to count
                last = now
                continue
            if now != stable:
                stable = now
                if now:
                    since = ticks_ms()
                    long_done = False
                elif not long_done and self.on_short:
                    self.on_short()
            elif now and not long_done and ticks_diff(ticks_ms(), since) >= self._long_ms:
                long_done = True
                if self.on_long:
                    self.on_long()
