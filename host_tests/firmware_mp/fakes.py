"""The bus fakes the driver tests build by hand, from tools/emulation/fake_machine.py (the one `machine`
fake; host_tests/mprun.py puts tools/ on the path)."""
from fake_machine import I2CBus


def FakeI2C(regs=None):
    """An AXP192 (0x34) register file that records every write as (reg, value) in `writes`."""
    return I2CBus(dict(regs or {}), [])
