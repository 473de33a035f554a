"""Board wiring at start-up, once per power-up (board.create imports it, then drops it): the
pins, buses, display and power chip of each board (docs/hardware.md), set on board.py's
objects."""
import gc
import sys
import machine
from micropython import const
import axp192
import st77xx_init  # held for the start-up: the display's constructor and reset() use it
from st77xx import ST77xx

_SPI_HZ = const(27_000_000)


def create(kind, hat_rx, hat_tx, buzzer):
    # board (the caller) and machine.Pin here, not at the top: this module then imports where
    # machine has no Pin (the unix port, host_tests/test_mip.py), as every module but board does
    import board
    Pin = machine.Pin
    try:
        i2c = machine.I2C(0, scl=Pin(22), sda=Pin(21), freq=400_000)
        if axp192.ADDR in i2c.scan():
            b = (board.StickCPlus if kind == "plus" else board.StickC)()
            _display(b, 23, 18, b.panel, hat_rx, hat_tx, buzzer)
            b.pmu = axp192.AXP192(i2c)
            b.pmu.init()
            b._led = Pin(10, Pin.OUT, value=1)  # active low: off
        else:
            b = board.StickCPlus2()
            b._hold = Pin(4, Pin.OUT, value=1)  # else it powers off on battery
            _display(b, 14, 12, "st7789", hat_rx, hat_tx, buzzer)
            b._bl = machine.PWM(Pin(27), freq=5000, duty_u16=0)
            b._led = Pin(19, Pin.OUT, value=0)  # active high
            b._adc = machine.ADC(Pin(38), atten=machine.ADC.ATTN_11DB)
        b.display.reset()
        b.display.paint(b.display.fill, 0)  # the panel's RAM holds noise until written
        return b
    finally:
        sys.modules.pop("st77xx_init", None)


def _display(b, dc, rst, panel, hat_rx, hat_tx, buzzer):
    gc.collect()  # the display's buffers first, while the heap is unfragmented
    Pin = machine.Pin
    spi = machine.SPI(1, baudrate=_SPI_HZ, polarity=0, phase=0,
                      sck=Pin(13), mosi=Pin(15), miso=None)
    b.display = ST77xx(spi, Pin(dc, Pin.OUT), Pin(5, Pin.OUT, value=1),
                       Pin(rst, Pin.OUT), panel, rotation=1)
    b.pin_a = Pin(37, Pin.IN)
    b.pin_b = Pin(39, Pin.IN)
    b.hat_rx = hat_rx
    b.hat_tx = hat_tx
    if not buzzer:
        b.buzzer_pin = None  # config "buzzer": false: the alarm is the LED alone
