"""Render every screen of the UI on the emulated board into PNG files.

  micropython tools/render_screens.py OUT_DIR [stickc|plus] [scale]

Each scenario fills the view model the way the app does and draws it at a
fixed time, so the pictures are reproducible. host_tests/test_ui_screens.py
checks the PNGs; docs/screens/ holds the committed copies.
"""
import sys

sys.path.insert(0, "firmware")
sys.path.insert(0, "tools")
import math
import model as M
from emu_board import EmuBoard
from ui import Ui, MAIN, HISTORY, TOTALS, INFO

NOW = 10_000_000  # a fixed ticks_ms() "now"

# The texts the app shows (firmware/app.py, firmware/config.py).
ERRORS = {
    "error_no_config": ("No config file",
                        "no config file /config.json: copy config.example.json there and fill "
                        "in your B-route ID and password"),
    "error_bad_config": ("Fix config.json", "broute_id: must be 32 characters long (got 3)"),
    "error_auth": ("Wrong B-route login",
                   "The meter refused the ID or password. Check broute_id and broute_password "
                   "in config.json. Still retrying."),
    "error_no_meter": ("No meter found",
                       "Move the stick closer to the meter or a window. Still searching."),
    "error_module": ("Wi-SUN HAT silent",
                     "Push the HAT in firmly. Old HAT rev0.1: set uart_rx to 36 in "
                     "config.json. Still retrying."),
}


def day_history(m, base, swing):
    """60 minutes of a plausible load: a base, a slow wave and a kettle spike."""
    t = NOW - 59 * 60000
    for i in range(60):
        w = base + int(swing * math.sin(i / 7)) + (1200 if 40 <= i < 44 else 0)
        m.add_power(w, t + i * 60000)


def connected(m, watts, r10, t10, age_s=8):
    m.status = M.CONNECTED
    m.rssi_dbm, m.lqi, m.wifi = -62, 120, True
    m.set_energy(5.42, 12345.6, 310.2)
    m.set_reading(watts, r10, t10, NOW - age_s * 1000)


def scenario(name, m):
    page = MAIN
    if name in ERRORS:
        m.set_error(*ERRORS[name])
        return page
    if name == "main_normal" or name in ("history", "totals", "info"):
        day_history(m, 900, 300)
        connected(m, 1234, 68, 59)
        page = {"history": HISTORY, "totals": TOTALS, "info": INFO}.get(name, MAIN)
        m.info = (("Firmware", "0.1.0"), ("Wi-SUN", "1.2.10"), ("IP", "192.168.1.23"))
    elif name == "main_near":
        day_history(m, 2000, 300)
        connected(m, 2650, 251, 220)
    elif name == "main_over":
        day_history(m, 2400, 500)
        connected(m, 3420, 325, 280)
    elif name == "main_export":
        day_history(m, -1500, 600)
        connected(m, -1850, 92, 90)
    elif name == "scanning":
        m.status, m.scan_duration, m.wifi = M.SCANNING, 6, True
    elif name == "joining":
        m.status, m.wifi = M.JOINING, False
    elif name == "reauth":
        day_history(m, 700, 200)
        connected(m, 820, 45, 40, age_s=45)
        m.status = M.REAUTH
    elif name == "rate_limited":
        day_history(m, 700, 200)
        connected(m, 760, 41, 38, age_s=250)
        m.status = M.RATE_LIMITED
    m.changed()
    return page


NAMES = ("main_normal", "main_near", "main_over", "main_export", "scanning", "joining",
         "reauth", "rate_limited", "history", "totals", "info") + tuple(sorted(ERRORS))


def main():
    out = sys.argv[1]
    kind = sys.argv[2] if len(sys.argv) > 2 else "stickc"
    scale = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    for name in NAMES:
        board = EmuBoard(kind)
        m = M.Model(contract_a=30)
        ui = Ui(board, m)
        ui.page = scenario(name, m)
        ui.update(NOW)
        board.screenshot("%s/%s.png" % (out, name), scale)
        print(name, "alarm" if board.led_on else "-")


main()
