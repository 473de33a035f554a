"""The one stand-in for MicroPython's `machine` module on the host.

Install it as sys.modules["machine"] before board.py or app.py is imported. It runs under
the MicroPython unix port and the WebAssembly port (no CPython-only code). Its users: the
firmware tests (host_tests/firmware_mp: board wiring, config effects, drivers) and the
emulated board (tools/emulation/emu_board.py extends Line and SPIBus with a panel that keeps the
pixels; tools/emulation/host_firmware.py extends WDT with a check that ends the run).
tools/bench/mem32/measure.py keeps its own few lines: see the comment in tools/bench/mem32.py.

As on the ESP32 port, Pin(n, ...), SPI(id, ...), I2C(id, ...) and RTC() hand out one object
per pin or bus (the port's are static objects in flash); PWM, ADC, UART and WDT make a new
one. LOG, a list, records how the firmware wires each: ("pin", n, mode, value),
("spi", id, baudrate, sck, mosi, miso), ("i2c", id, scl, sda, freq), ("pwm", pin, freq),
("adc", pin, atten), ("uart", id, tx, rx, rxbuf). I2C answers a scan with I2C_DEVICES and
an AXP192's registers from REGS, where its writes go.
"""
from time import ticks_diff, ticks_ms

LOG = []
I2C_DEVICES = [0x34]
REGS = {}
_GPIOS = 40


class Line:
    """A pin's level, as machine.Pin's value() and call read and set it. Free-standing ones
    are the emulator's panel lines and buttons."""

    def __init__(self, level=1):
        self.level = level

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v

    __call__ = value


class Gpio(Line):
    """GPIO n: what Pin(n) returns."""

    def __init__(self, n):
        super().__init__(1)
        self.n = n


class _PinClass:
    """machine.Pin: Pin(n, mode=None, pull=None, value=None) returns GPIO n's one object (made
    on first use), setting its level when `value` is given; a pull is logged as ("pull", n, pull)."""
    IN = 1
    OUT = 3
    PULL_UP = 2

    def __init__(self):
        self._all = [None] * _GPIOS

    def __call__(self, n, mode=None, pull=None, value=None):
        p = self._all[n]
        if p is None:
            p = self._all[n] = Gpio(n)
        if value is not None:
            p.level = value
        if LOG is not None:
            LOG.append(("pin", n, mode, value))
            if pull is not None:
                LOG.append(("pull", n, pull))
        return p


Pin = _PinClass()


class SPIBus:
    """An SPI bus: counts the bytes written (`count`)."""

    def __init__(self):
        self.count = 0

    def write(self, data):
        self.count += len(data)


class I2CBus:
    """An I2C bus with an AXP192 at `addr`: its registers are `regs` (reads see the writes;
    None: reads give zeros, writes are dropped, nothing is kept), and each write is added
    to `writes` as (reg, value) when that is a list."""

    def __init__(self, regs=None, writes=None, addr=0x34):
        self.regs = regs
        self.writes = writes
        self.addr = addr

    def scan(self):
        return list(I2C_DEVICES)

    def readfrom_mem_into(self, addr, reg, buf):
        assert addr == self.addr
        regs = self.regs
        for i in range(len(buf)):
            buf[i] = 0 if regs is None else regs.get(reg + i, 0)

    def writeto_mem(self, addr, reg, buf):
        assert addr == self.addr
        if self.regs is None:
            return
        for i, b in enumerate(buf):
            self.regs[reg + i] = b
            if self.writes is not None:
                self.writes.append((reg + i, b))


class _SPIClass:
    """machine.SPI(id, baudrate=, polarity=, phase=, sck=, mosi=, miso=): bus id's one SPIBus."""

    def __init__(self):
        self._all = {}

    def bus(self, n):
        b = self._all.get(n)
        if b is None:
            b = self._all[n] = SPIBus()
        return b

    def __call__(self, n, *args, **kw):
        if LOG is not None:
            mosi = kw["mosi"]
            LOG.append(("spi", n, kw["baudrate"], kw["sck"].n, mosi.n if mosi else None,
                        kw["miso"]))
        return self.bus(n)


class _I2CClass:
    """machine.I2C(id, scl=, sda=, freq=): bus id's one I2CBus, its registers REGS."""

    def __init__(self):
        self._all = {}

    def bus(self, n):
        b = self._all.get(n)
        if b is None:
            b = self._all[n] = I2CBus(REGS)
        return b

    def __call__(self, n, *args, **kw):
        if LOG is not None:
            LOG.append(("i2c", n, kw["scl"].n, kw["sda"].n, kw["freq"]))
        return self.bus(n)


SPI = _SPIClass()
I2C = _I2CClass()


class PWM:
    def __init__(self, pin, freq, duty_u16):
        if LOG is not None:
            LOG.append(("pwm", pin.n, freq))
        self.duty = duty_u16

    def duty_u16(self, d):
        self.duty = d

    def deinit(self):
        pass


class ADC:
    ATTN_11DB = 3

    def __init__(self, pin, atten):
        if LOG is not None:
            LOG.append(("adc", pin.n, atten))

    def read_uv(self):
        return 2_050_000  # 4.10 V behind the Plus's 1:2 divider


class _Rtc:
    """machine.RTC(): its memory() survives a reset, kept here as _Rtc.mem."""
    mem = b""

    def __call__(self):
        return self

    def memory(self, data=None):
        if data is None:
            return _Rtc.mem
        _Rtc.mem = bytes(data)


RTC = _Rtc()


try:
    from io import IOBase
except ImportError:  # a port without it: the UART is then no pollable stream
    IOBase = object

# What a module of each family answers to lib/broute/detect.py's questions (docs/protocol.md
# section 1): SKSTACK's version, and a J11 version response 206B (result 01).
_ANSWERS = {"skstack": (b"SKVER\r\n", b"EVER 1.2.10\r\nOK\r\n"),
            "j11": (b"\xD0\xEA\x83\xFC\x00\x6B", b"\xD0\xF9\xEE\x5D\x20\x6B\x00\x0D\x03\xAC\x00\x0B"
                    b"\x01\x04\x00\x01\x02\x00\x00\x00\x03")}


class UART(IOBase):
    """machine.UART(id, tx=, rx=, rxbuf=, ...): a pollable stream (asyncio and compat.Port read
    it as the ESP32's). MODULES maps an rx pin to the family of the module answering there
    ("skstack" or "j11", each answering only its own version question); other pins are silent.
    `written` keeps what the firmware sent; `last` is the newest UART."""
    MODULES = {}
    last = None

    def __init__(self, bus, **kw):
        if LOG is not None:
            LOG.append(("uart", bus, kw["tx"], kw["rx"], kw["rxbuf"]))
        self._answer = _ANSWERS.get(UART.MODULES.get(kw["rx"]))
        self._in = bytearray()
        self.written = bytearray()
        UART.last = self

    def write(self, b):
        self.written += b
        if self._answer and self._answer[0] in bytes(b):
            self._in += self._answer[1]
        return len(b)

    def readinto(self, buf):
        n = min(len(buf), len(self._in))
        if not n:
            return None
        buf[:n] = self._in[:n]
        self._in = self._in[n:]
        return n

    def ioctl(self, req, arg):
        if req == 3:  # MP_STREAM_POLL: readable when an answer waits
            return arg & 1 if self._in else 0
        return 0


class WDT:
    """machine.WDT(timeout=ms): counts the feeds and the longest gap between two (ms)."""

    def __init__(self, id=0, timeout=5000):
        self.ms = timeout
        self.last = ticks_ms()
        self.feeds = 0
        self.max_gap = 0

    def feed(self):
        now = ticks_ms()
        self.max_gap = max(self.max_gap, ticks_diff(now, self.last))
        self.last = now
        self.feeds += 1
