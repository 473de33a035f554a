"""Recording fakes for the board drivers' buses (MicroPython side of the tests)."""
import sys

sys.path.insert(0, "tools")


class FakeI2C:
    """AXP192-like register file that records every write as (reg, value)."""

    def __init__(self, regs=None):
        self.regs = dict(regs or {})
        self.writes = []

    def readfrom_mem_into(self, addr, reg, buf):
        assert addr == 0x34
        for i in range(len(buf)):
            buf[i] = self.regs.get(reg + i, 0)

    def writeto_mem(self, addr, reg, buf):
        assert addr == 0x34
        for i, b in enumerate(buf):
            self.regs[reg + i] = b
            self.writes.append((reg + i, b))
