"""The board interface of firmware/board.py, for the MicroPython unix port.

The display is the real ST77xx driver talking to a fake SPI bus that keeps
the bytes it is sent (so what a panel would receive can be checked), the
buttons are pins a script drives, the UART is a TCP connection to the meter
simulator, and RTC memory is a bytes attribute. Screens can be saved as PNG
(tools/png565.py) or printed in a terminal with ANSI half-blocks.
"""
import asyncio
import png565
from st77xx import ST77xx

PANELS = {"stickc": ("StickC", "st7735s"), "plus": ("StickC Plus", "st7789"),
          "plus2": ("StickC Plus2", "st7789")}


class FakePin:
    """machine.Pin stand-in: callable and .value(), remembers its level."""

    def __init__(self, level=1):
        self.level = level

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v

    __call__ = value


class FakeSPI:
    """Keeps what is written as (dc level, bytes) records when `log` is a list;
    always counts the bytes."""

    def __init__(self, dc):
        self._dc = dc
        self.log = None
        self.count = 0

    def write(self, data):
        self.count += len(data)
        if self.log is not None:
            self.log.append((self._dc.level, bytes(data)))


class EmuBoard:
    def __init__(self, kind="stickc", uart_addr=None):
        self.name, panel = PANELS[kind]
        self.name = "Emu " + self.name
        dc = FakePin()
        self.spi = FakeSPI(dc)
        self.display = ST77xx(self.spi, dc, FakePin(), FakePin(), panel,
                              rotation=1, sleep_ms=lambda ms: None)
        self.display.reset()
        self.pin_a = FakePin()
        self.pin_b = FakePin()
        self.brightness = 8
        self.led_on = False
        self.alerts = []
        self.state = None  # RTC memory
        self._uart_addr = uart_addr

    # The board interface.
    def backlight(self, level):
        self.brightness = level
        self.display.power(level > 0)

    def flip(self):
        self.display.set_rotation(self.display.rotation ^ 2)
        self.display.show()

    def led(self, on):
        self.led_on = on

    def alert(self, on):
        self.alerts.append(on)
        self.led(on)

    def facts(self):
        return (("Board", self.name), ("Power", "4.10 V, USB"))

    def load_state(self):
        return self.state

    def save_state(self, state):
        self.state = bytes(state)

    async def uart_streams(self):
        host, port = self._uart_addr
        return await asyncio.open_connection(host, port)

    # Host-only helpers.
    async def press(self, pin, ms):
        pin.value(0)
        await asyncio.sleep_ms(ms)
        pin.value(1)

    async def play(self, script):
        """script: ((at_ms, "A" or "B", "short" or "long"), ...) from now."""
        t = 0
        for at, name, kind in script:
            await asyncio.sleep_ms(max(0, at - t))
            ms = 1000 if kind == "long" else 80
            await self.press(self.pin_a if name == "A" else self.pin_b, ms)
            t = at + ms

    def screenshot(self, path, scale=1):
        d = self.display
        png565.write(path, d.buffer, d.width, d.height, scale)

    def ansi(self):
        """The screen as text: one character cell = two pixel rows (upper half block)."""
        d, buf = self.display, self.display.buffer
        out = []
        for y in range(0, d.height - 1, 2):
            for x in range(d.width):
                out.append("\x1b[38;2;%d;%d;%dm\x1b[48;2;%d;%d;%dm\u2580" % (_rgb(buf, d.width, x, y) + _rgb(buf, d.width, x, y + 1)))
            out.append("\x1b[0m\n")
        return "".join(out)


def _rgb(buf, width, x, y):
    i = (y * width + x) * 2
    v = (buf[i] << 8) | buf[i + 1]
    return ((v >> 8) & 0xF8, (v >> 3) & 0xFC, (v << 3) & 0xF8)
