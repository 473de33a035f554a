"""Board wiring for the M5StickC, StickC Plus and StickC Plus2 (docs/hardware.md).

Every board offers the same interface to the app and the UI:
  display (ST77xx, drawn in bands: .paint(draw, arg)), backlight(level 0..8), flip(),
  led(on), alert(on), facts() -> ((label, value), ...), pin_a / pin_b for
  buttons.Button, load_state() / save_state(bytes) in RTC memory, and
  `await uart_streams(rx)` -> (StreamReader, StreamWriter) for the Wi-SUN HAT, and
  reset_line(cls) for the HAT-C1 (lib/broute/detect.py says when).
The HAT's UART pins and the buzzer's use are the config's (uart_rx, uart_tx, buzzer); `hat`
("auto", "bp35a1", "c1") is set from the config after create().
create() tells them apart: an AXP192 at 0x34 means StickC or Plus (config
chooses, StickC by default), none means Plus2. The classes hold what runs after start-up;
board_init, imported by create() and dropped after, wires them.
"""
import asyncio
import sys
import machine
from machine import Pin
from micropython import const
import axp192

_STATE_MAGIC = const(0xB7)  # first RTC memory byte: ours, not another program's


class _Board:
    name = "?"
    buzzer_pin = None
    hat = "auto"
    _alert_task = None

    def flip(self):
        """The other landscape orientation; the UI redraws (no frame buffer to push again)."""
        self.display.set_rotation(self.display.rotation ^ 2)

    def load_state(self):
        mem = machine.RTC().memory()
        return mem[1:] if len(mem) > 1 and mem[0] == _STATE_MAGIC else None

    def save_state(self, state):
        machine.RTC().memory(bytes((_STATE_MAGIC,)) + state)

    async def uart_streams(self, rx=None):
        # UART1 with both pins given (its defaults are the IR and LED pins);
        # 2 KB receive buffer so a long ERXUDP survives a busy moment.
        rx = rx or self.hat_rx
        if rx == 36:
            # A HAT-C1's reset line released by a weak pull-up, never driven before J11 answers:
            # on the BP35A1 HAT G26 is the module's TX, which idles high (docs/hardware.md section 1)
            Pin(26, Pin.IN, Pin.PULL_UP)
        uart = machine.UART(1, baudrate=115200, tx=self.hat_tx, rx=rx,
                            rxbuf=2048, timeout=0, timeout_char=0)
        return asyncio.StreamReader(uart), asyncio.StreamWriter(uart, {})

    def reset_line(self, cls):
        """G26 becomes the HAT-C1 module's reset line, held high to run (lib/broute/detect.py
        calls this only once J11 answered on G36); returns the J11 driver class `cls` made
        with the line as its hard reset."""
        pin = Pin(26, Pin.OUT, value=1)

        async def pulse():
            pin(0)
            await asyncio.sleep_ms(100)  # as long as a HAT-C1 client holds it low
            pin(1)
        return lambda *a: cls(*a, hard_reset=pulse)

    def alert(self, on):
        """Over the contract amperes: LED on, and three beeps where there is a buzzer."""
        self.led(on)
        if on and self.buzzer_pin is not None and self._alert_task is None:
            self._alert_task = asyncio.create_task(self._beep())

    async def _beep(self):
        pwm = machine.PWM(Pin(self.buzzer_pin), freq=2700, duty_u16=0)
        for _ in range(3):
            pwm.duty_u16(32768)
            await asyncio.sleep_ms(120)
            pwm.duty_u16(0)
            await asyncio.sleep_ms(120)
        pwm.deinit()
        self._alert_task = None

    def led(self, on):
        self._led(on ^ self._LED_LOW)

    def facts(self):
        mv, usb = self._power()
        return (("Board", self.name),
                ("Power", "%d.%02d V%s" % (mv // 1000, mv % 1000 // 10, ", USB" if usb else "")))


class StickC(_Board):
    name = "StickC"
    panel = "st7735s"
    _LED_LOW = 1  # GPIO10, active low

    def backlight(self, level):
        self.pmu.backlight(level)
        self.display.power(level > 0)

    def _power(self):
        """(battery mV, USB present) for facts()."""
        return self.pmu.battery_mv(), self.pmu.usb_present()


class StickCPlus(StickC):
    name = "StickC Plus"
    panel = "st7789"
    buzzer_pin = 2  # passive buzzer, driven by PWM (docs/hardware.md section 3)


class StickCPlus2(_Board):
    name = "StickC Plus2"
    buzzer_pin = 2  # as on the Plus (docs/hardware.md section 3)
    _LED_LOW = 0  # GPIO19, active high

    def backlight(self, level):
        self._bl.duty_u16(65535 * min(level, axp192.LEVELS) // axp192.LEVELS)
        self.display.power(level > 0)

    def _power(self):
        # the battery divided by two on the board; no charger status line
        return self._adc.read_uv() * 2 // 1000, None


def create(kind="stickc", hat_rx=26, hat_tx=0, buzzer=True):
    """kind: "stickc" or "plus" (both have an AXP192); Plus2 is detected. The wiring is
    start-up code (board_init), imported for this and dropped after."""
    import board_init
    try:
        return board_init.create(kind, hat_rx, hat_tx, buzzer)
    finally:
        sys.modules.pop("board_init", None)
