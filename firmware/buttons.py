"""A push button polled from an asyncio task: debounce, short and long press.

Polling (not IRQs) because G37/G39 see ghost edges when WiFi power saving is
on; a level must hold for two polls before it counts. A long press fires while
the button is still held, so the user sees the effect without letting go.
"""
import asyncio
from time import ticks_ms, ticks_diff


class Button:
    def __init__(self, pin, on_short=None, on_long=None, long_ms=700,
                 active_low=True, poll_ms=20):
        self._pin = pin
        self.on_short = on_short
        self.on_long = on_long
        self._long_ms = long_ms
        self._active = 0 if active_low else 1
        self._poll = poll_ms

    def _down(self):
        return self._pin.value() == self._active

    async def run(self):
        stable = last = False
        since = 0
        long_done = False
        while True:
            await asyncio.sleep_ms(self._poll)
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
