"""The board interface of firmware/board.py, for the MicroPython unix port.

The display is the real ST77xx driver talking to a fake SPI bus that keeps
the bytes it is sent (so what a panel would receive can be checked) and feeds
them to PanelRam, the panel's RGB565 memory: screenshots show what the panel
received, after the driver's palette conversion. The buttons are pins a
script drives, the UART is a TCP connection to the meter simulator, and RTC
memory is a bytes attribute. The board carries one Wi-SUN HAT (`carries`): the BP35A1 HAT
(the module's TX heard on G26) or the HAT-C1 (heard on G36, its module reset on G26,
docs/hardware.md section 1); the UART opened on the other pin hears nothing of the module,
which still gets what is sent on G0. A reset pulse on G26 is counted (`resets`) but does not
reach the simulator, whose controls are on run_host.py's side of its stdin. The pins and the bus extend tools/emulation/fake_machine.py,
the one `machine` fake. Screens can be saved as PNG (tools/emulation/png565.py);
tools/run_host.py draws the frames in a terminal.
"""
import asyncio
import png565
from fake_machine import Line, SPIBus
from st77xx import ST77xx

PANELS = {"stickc": ("StickC", "st7735s"), "plus": ("StickC Plus", "st7789"),
          "plus2": ("StickC Plus2", "st7789")}


FakePin = Line  # a free-standing pin: the panel's lines, the buttons


class FakeSPI(SPIBus):
    """The panel's SPI bus (fake_machine.SPIBus, which counts the bytes): also keeps what is
    written as (dc level, bytes) records when `log` is a list, and hands the bytes to `panel`
    when there is one."""

    def __init__(self, dc):
        super().__init__()
        self._dc = dc
        self.log = None
        self.panel = None

    def write(self, data):
        self.count += len(data)  # not super(): that allocates, and frames run under heap_lock
        if self.log is not None:
            self.log.append((self._dc.level, bytes(data)))
        if self.panel is not None:
            self.panel.feed(self._dc.level, data)


_CASET, _RASET, _RAMWR = 0x2A, 0x2B, 0x2C


class PanelRam:
    """The picture a panel shows, as big-endian RGB565 rows (`buffer`), built from
    the bytes it receives: CASET/RASET set the window, RAMWR data fills it from
    its first row on. The driver only opens full-width windows, so the data is
    contiguous here. `rotation()` -> the driver's (MADCTL, column offset, row
    offset) record for the current rotation. Allocates nothing (the heap_lock
    frame tests run through it)."""

    def __init__(self, width, height, rotation):
        self.width, self.height = width, height
        self.buffer = bytearray(width * height * 2)
        self._rotation = rotation
        self._cmd = 0
        self._x = self._y = self._pos = 0

    def feed(self, dc, data):
        if dc == 0:
            self._cmd = data[0]
            if self._cmd == _RAMWR:
                _, cx, ry = self._rotation()
                self._pos = ((self._y - ry) * self.width + self._x - cx) * 2
        elif self._cmd == _CASET:
            self._x = data[0] << 8 | data[1]
        elif self._cmd == _RASET:
            self._y = data[0] << 8 | data[1]
        elif self._cmd == _RAMWR:
            n = len(data)
            self.buffer[self._pos:self._pos + n] = data
            self._pos += n


class _Deaf:
    """The UART on a pin the module does not drive: what the module says is never heard."""

    def __init__(self, reader):
        self._r = reader

    async def readinto(self, buf):
        while True:
            await self._r.readinto(buf)  # read and dropped


class EmuBoard:
    """screen=False leaves the panel's RGB565 memory out (no screenshots): for
    benchmarks on the ESP32-sized heap, where it would not fit beside the firmware."""
    hat = "auto"  # the config's, as on the stick (uart_rx and uart_tx at their defaults)
    hat_rx = 26
    hat_tx = 0

    def __init__(self, kind="stickc", uart_addr=None, screen=True, buzzer=True, carries="bp35a1"):
        self.name, panel = PANELS[kind]
        self.buzzer = buzzer and kind != "stickc"  # as board.py: the StickC has none
        self.name = "Emu " + self.name
        dc = FakePin()
        self.spi = FakeSPI(dc)
        self.display = d = ST77xx(self.spi, dc, FakePin(), FakePin(), panel,
                                  rotation=1, sleep_ms=lambda ms: None)
        self.screen = None
        if screen:
            self.screen = PanelRam(d.width, d.height, lambda: d._rot[d.rotation])
            self.spi.panel = self.screen
        self.display.reset()
        self.pin_a = FakePin()
        self.pin_b = FakePin()
        self.brightness = 8
        self.led_on = False
        self.alerts = []
        self.beeps = 0     # alarms the buzzer sounded
        self.state = None  # RTC memory
        self._uart_addr = uart_addr
        self.carries = carries
        self.rx = None           # the pin the firmware listens on
        self.reset_line_out = False  # G26 an output (the HAT-C1's reset line)
        self.contention = False  # G26 driven while the BP35A1 module drives it: never
        self.resets = 0
        self._conn = None

    # The board interface.
    def backlight(self, level):
        self.brightness = level
        self.display.power(level > 0)

    def flip(self):
        self.display.set_rotation(self.display.rotation ^ 2)  # the UI redraws

    def led(self, on):
        self.led_on = on

    def alert(self, on):
        self.alerts.append(on)
        self.led(on)
        if on and self.buzzer:
            self.beeps += 1

    def facts(self):
        return (("Board", self.name), ("Power", "4.10 V, USB"))

    def load_state(self):
        return self.state

    def save_state(self, state):
        self.state = bytes(state)

    async def uart_streams(self, rx=None):
        self.rx = rx = rx or 26
        if self._conn is None:  # one connection: the simulator serves one client
            host, port = self._uart_addr
            r, w = await asyncio.open_connection(host, port)
            # A UART sends each byte at once; without TCP_NODELAY the SKSENDTO header and its
            # frame could arrive ~40 ms apart (Nagle), which no real module would see.
            w.s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
            self._conn = r, w
        r, w = self._conn
        return (r if rx == (36 if self.carries == "c1" else 26) else _Deaf(r)), w

    def reset_line(self, cls):
        """As firmware/board.py's: G26 an output from now on."""
        self.reset_line_out = True
        self.contention = self.contention or self.carries != "c1"
        return lambda r, w, c, on: cls(r, w, c, on, hard_reset=self.module_reset)

    async def module_reset(self):
        self.resets += 1
        await asyncio.sleep_ms(100)

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

    def pixel(self, x, y):
        """The palette index the panel shows at x, y (there is no frame buffer to read: the
        display draws in bands); None for a colour outside the palette."""
        b, i = self.screen.buffer, (y * self.screen.width + x) * 2
        v, pal = b[i] | b[i + 1] << 8, self.display.palette  # stored as rgb() gives it
        for k in range(16):
            if pal.pixel(k, 0) == v:
                return k
        return None

    def screenshot(self, path, scale=1):
        d = self.screen
        png565.write(path, d.buffer, d.width, d.height, scale)
