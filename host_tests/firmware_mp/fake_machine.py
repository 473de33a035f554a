"""A stand-in for the ESP32 `machine` module, recording how board.py wires it.
Installed as sys.modules["machine"] by test_board.py only."""
from emu_board import FakePin

LOG = []
I2C_DEVICES = [0x34]
REGS = {}


class Pin(FakePin):
    IN = 1
    OUT = 3

    def __init__(self, n, mode=None, value=None):
        super().__init__(value)
        self.n = n
        LOG.append(("pin", n, mode, value))


class SPI:
    def __init__(self, bus, baudrate, polarity, phase, sck, mosi, miso):
        LOG.append(("spi", bus, baudrate, sck.n, mosi.n, miso))
        self.sent = 0

    def write(self, data):
        self.sent += len(data)


class I2C:
    def __init__(self, bus, scl, sda, freq):
        LOG.append(("i2c", bus, scl.n, sda.n, freq))

    def scan(self):
        return list(I2C_DEVICES)

    def readfrom_mem_into(self, addr, reg, buf):
        for i in range(len(buf)):
            buf[i] = REGS.get(reg + i, 0)

    def writeto_mem(self, addr, reg, buf):
        for i, b in enumerate(buf):
            REGS[reg + i] = b


class PWM:
    def __init__(self, pin, freq, duty_u16):
        LOG.append(("pwm", pin.n, freq))
        self.duty = duty_u16

    def duty_u16(self, d):
        self.duty = d

    def deinit(self):
        pass


class ADC:
    ATTN_11DB = 3

    def __init__(self, pin, atten):
        LOG.append(("adc", pin.n, atten))

    def read_uv(self):
        return 2_050_000


class _Rtc:
    mem = b""


class RTC:
    def memory(self, data=None):
        if data is None:
            return _Rtc.mem
        _Rtc.mem = bytes(data)


class UART:
    def __init__(self, bus, **kw):
        LOG.append(("uart", bus, kw["tx"], kw["rx"], kw["rxbuf"]))
