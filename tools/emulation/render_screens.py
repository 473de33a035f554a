"""Render every screen of the firmware on the emulated board into PNG files.

  micropython tools/emulation/render_screens.py OUT_DIR [stickc|plus] [scale]

Each screen comes from the real app (firmware/app.py): App sets itself up from a real
config file on the emulated board, and a real Session (not running) is put into the
states of the scenario, its reading filled in as the meter would, then handed to the
app's own session listener. So every text and value on a picture is one the firmware
draws; only the meter's figures are the scenario's. The hour of history is fed to the
model as an hour of one-minute averages. Prints one line per screen ("name alarm" or
"name -") and, for the info screen, "rows " and its label=value rows.
host_tests/test_ui_screens.py checks the PNGs; docs/screens/ holds the committed copies.
"""
import sys

if __name__ == "__main__":  # run as a script: tools/ (paths.py) in place of its own folder
    sys.path[0] = sys.path[0].rsplit("/", 1)[0]
import paths  # noqa: F401,E402  (the project's folders)
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
from time import ticks_ms  # noqa: E402
import app  # noqa: E402
from broute import bstate  # noqa: E402
from broute import session as S  # noqa: E402
from emu_board import EmuBoard  # noqa: E402
from ui import MAIN, HISTORY, TOTALS, INFO  # noqa: E402
from ui_info import info_rows  # noqa: E402

ID = "00112233445566778899AABBCCDDEEFF"
PW = "0123456789AB"
CONFIG = "build/render-config.json"

# name: (session state, reason) of the B-route error screens
ERRORS = {
    "error_auth": S.AUTH_FAILED,
    "error_out_of_reach": S.JOIN_NO_ANSWER,
    "error_no_meter": S.NOT_FOUND,
    "error_module": S.NO_MODULE,
}


NTP_UTC = 849497640  # 2026-12-02 03:34 UTC (12:34 in Japan) in the stick's seconds since 2000
TARIFF = {"base_yen": 935.25, "tiers": [{"up_to_kwh": 120, "yen_per_kwh": 29.80},
                                        {"up_to_kwh": 300, "yen_per_kwh": 36.40},
                                        {"yen_per_kwh": 40.49}],
          "surcharges": [{"name": "renewable energy levy", "yen_per_kwh": 4.18, "own_line": True}]}


class Platform:
    """app.Device for the emulated board; the WiFi and MQTT tasks are not run."""

    def __init__(self, kind):
        self.kind = kind
        self.board_obj = None

    def board(self, kind, rx, tx=0, buzzer=True):
        self.board_obj = EmuBoard(self.kind, buzzer=buzzer)
        return self.board_obj


def _write_config(values):
    try:
        os.mkdir("build")
    except OSError:
        pass
    if values is None:
        if _exists(CONFIG):
            os.remove(CONFIG)
        return
    with open(CONFIG, "w") as f:
        f.write(json.dumps(values))


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def day_history(m, base, swing, now):
    """60 minutes of a plausible load: a base, a slow wave and a kettle spike."""
    t = now - 59 * 60000
    for i in range(60):
        w = base + int(swing * math.sin(i / 7)) + (1200 if 40 <= i < 44 else 0)
        m.add_power(w, t + i * 60000)


def _state(a, s, st, reason=""):
    s.state = st
    s.reason = reason
    a._on_session("state")


def connected(a, s, power_w, r10, t10):
    """The session after a join and a reading, as Session reports them to the app."""
    s.dialect, s.version = "single", "1.2.10"
    s._drv.rssi = -71  # what the scan found
    _state(a, s, bstate.CONNECTED)
    r = s.reading
    r.power_w, r.current_r_da, r.current_t_da = power_w, r10, t10
    r.today_kwh, r.energy_kwh, r.energy_rev_kwh = 5.4, 12345.6, 310.2
    r.month_kwh = 123.4
    r.ticks = a.clock.ticks_ms()  # the session stamps a reading with the app's clock
    a._on_session("reading")


def scenario(name, kind):
    """(app, page, age of the reading in s) for one screen."""
    config = {"broute_id": ID, "broute_password": PW, "contract_amperes": 30,
              "wifi": {"ssid": "home", "password": "wifipassword"},
              "mqtt": {"host": "192.168.1.10", "user": "stick", "password": "mqttpassword"},
              "tariff": TARIFF}
    if name == "error_no_config":
        config = None
    elif name == "error_bad_config":
        config = {"broute_id": "123", "broute_password": PW}
    _write_config(config)
    a = app.App(Platform(kind), CONFIG, lambda line: None)
    a._setup()
    if config is None or "wifi" not in config:
        return a, MAIN, 0
    m = a.model
    m.wifi, m.ip = True, "192.168.1.23"  # as net.Net sets them once WiFi is up
    m.mqtt, m.net_why = True, "connected"  # as mqtt.Publisher does once the broker has us
    m.set_clock(NTP_UTC + 540 * 60, a.clock.ticks_ms(), True)  # as net.Net does with NTP's answer
    s = S.Session(None, None, ID, PW, None, None, None, contract_a=30)
    a.session = s
    now = ticks_ms()
    page, age = MAIN, 8
    if name in ERRORS:
        _state(a, s, bstate.ERROR, ERRORS[name])
    elif name in ("main_normal", "history", "totals", "info"):
        day_history(a.model, 900, 300, now)
        connected(a, s, 1234, 68, 59)
        page = {"history": HISTORY, "totals": TOTALS, "info": INFO}.get(name, MAIN)
    elif name == "main_near":
        day_history(a.model, 2000, 300, now)
        connected(a, s, 2650, 251, 220)
    elif name == "main_over":
        day_history(a.model, 2400, 500, now)
        connected(a, s, 3420, 325, 280)
    elif name == "main_export":
        day_history(a.model, -1500, 600, now)
        connected(a, s, -1850, 92, 90)
    elif name == "scanning":
        s.scan_duration = 6
        _state(a, s, bstate.SCANNING)
    elif name == "joining":
        m.wifi, m.ip = False, None  # configured, not joined: the red WiFi symbol
        m.wifi_why = "no AP found"
        m.mqtt, m.net_why = False, "connecting"  # and so no broker: a red M
        _state(a, s, bstate.JOINING)
    elif name == "reauth":
        day_history(a.model, 700, 200, now)
        connected(a, s, 820, 45, 40)
        _state(a, s, bstate.REAUTH)
        age = 45
    elif name == "rate_limited":
        day_history(a.model, 700, 200, now)
        connected(a, s, 760, 41, 38)
        _state(a, s, bstate.RATE_LIMITED)
        age = 250
    return a, page, age


NAMES = ("main_normal", "main_near", "main_over", "main_export", "scanning", "joining",
         "reauth", "rate_limited", "history", "totals", "info", "error_no_config",
         "error_bad_config") + tuple(sorted(ERRORS))


def main():
    out = sys.argv[1]
    kind = sys.argv[2] if len(sys.argv) > 2 else "stickc"
    scale = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    for name in NAMES:
        a, page, age = scenario(name, kind)
        m, board = a.model, a.board
        a.ui.page = page
        # the moment of the picture: `age` seconds after the reading; an error's first page
        now = 0 if m.ticks is None else m.ticks + age * 1000
        if page == INFO:  # its first page (rows that do not fit turn every 5 s)
            now = (now // 30000 + 1) * 30000
        a.ui.update(now)
        board.screenshot("%s/%s.png" % (out, name), scale)
        print(name, "alarm" if board.led_on else "-")
        if page == INFO:
            print("rows " + "|".join("%s=%s" % r for r in info_rows(m, board.facts())))


main()
