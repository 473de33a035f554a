"""AXP192 power chip of the M5StickC / Plus (I2C 0x34).

Start-up values are M5Stack's (see docs/hardware.md section 2); the backlight is the
LDO2 voltage. Two reused buffers keep the readings allocation-free.
"""
from micropython import const

ADDR = const(0x34)
_LDO23 = const(0x28)      # high nibble LDO2 (backlight), low nibble LDO3 (LCD logic)
_POWER = const(0x12)      # output enables: bit 2 LDO2, bit 3 LDO3, bit 6 EXTEN
_LDO2_ON = const(0x04)
_STATUS = const(0x00)     # bit 5 USB present

# (register, value) pairs written in order by init(); 0x12 and 0x31 are read-modify-write.
_START = bytes((
    0x28, 0xCC,  # LDO2 3.0 V (backlight), LDO3 3.0 V (LCD logic)
    0x82, 0xFF,  # all ADCs on
    0x84, 0xF2,  # ADC sample rate
    0x33, 0xC0,  # charge on, 4.2 V, 100 mA (the cell is ~80 mAh)
    0x36, 0x0C,  # power key timing
    0x30, 0x80,  # VBUS passes through
    0x39, 0xFC,  # battery temperature threshold
    0x35, 0xA2,  # RTC backup battery charge
    0x32, 0x46,  # battery detection on
))

LEVELS = const(8)  # user brightness steps 1..8 map to LDO2 nibbles 8..15


class AXP192:
    def __init__(self, i2c, addr=ADDR):
        self._i2c = i2c
        self._addr = addr
        self._b1 = bytearray(1)
        self._b2 = bytearray(2)

    def read(self, reg):
        self._i2c.readfrom_mem_into(self._addr, reg, self._b1)
        return self._b1[0]

    def write(self, reg, value):
        self._b1[0] = value
        self._i2c.writeto_mem(self._addr, reg, self._b1)

    def init(self):
        for i in range(0, len(_START), 2):
            self.write(_START[i], _START[i + 1])
        # EXTEN, LDO3, LDO2, DCDC1 on; DCDC2 off (M5Stack: (x & 0xEF) | 0x4D).
        self.write(_POWER, (self.read(_POWER) & 0xEF) | 0x4D)
        self.write(0x31, (self.read(0x31) & 0xF8) | 4)  # power off at 3.0 V

    def backlight(self, level):
        """level 0 = off, 1..LEVELS = dim..full (LDO2 2.6 V .. 3.3 V)."""
        power = self.read(_POWER)
        if level <= 0:
            self.write(_POWER, power & ~_LDO2_ON & 0xFF)
            return
        level = min(level, LEVELS)
        nib = 15 - LEVELS + level
        self.write(_LDO23, (self.read(_LDO23) & 0x0F) | (nib << 4))
        self.write(_POWER, power | _LDO2_ON)

    def _adc12(self, reg):
        self._i2c.readfrom_mem_into(self._addr, reg, self._b2)
        return (self._b2[0] << 4) | (self._b2[1] & 0x0F)

    def battery_mv(self):
        return self._adc12(0x78) * 11 // 10   # 1.1 mV per step

    def usb_present(self):
        return bool(self.read(_STATUS) & 0x20)
