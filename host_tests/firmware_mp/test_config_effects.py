"""Every config key has its documented effect on the app and the board (board.py wired to
a recording fake `machine`), not only its validation. test_every_key_has_an_effect_test
fails for a key added to config.OPTIONS without an effect test here."""
import asyncio
import json
import sys
import fakes  # noqa: F401
import fake_machine as fm

sys.modules["machine"] = fm
import app  # noqa: E402
from broute import scancache  # noqa: E402
from ui import INFO  # noqa: E402
from ui_theme import level, L_OK, L_WARN  # noqa: E402

ID = "00112233445566778899aabbccddeeff"
PW = "0123456789AB"
PATH = "build/effects-config.json"


class Plat(app.Device):
    """The real Device's board(), on the fake machine; no watchdog; WiFi is
    tools/emulation/network.py (joined at once), no NTP (set_utc is recorded)."""
    ntp = False

    def __init__(self):
        super().__init__()
        self.utc = None
        self.resets = 0

    def chip_id(self):
        return "m5-fx"

    def set_utc(self, t):
        self.utc = t

    def watchdog(self, ms):
        return self

    def feed(self):
        pass

    def reset(self):
        self.resets += 1



class RecSession:
    """Records what the app hands the session; runs forever doing nothing."""

    def __init__(self, reader, writer, rbid, password, cache=None, clock=None, log=None,
                 poll_ms=10000, contract_a=None, driver=None, reading_day=1):
        self.args = {"rbid": rbid, "password": password, "cache": cache, "poll_ms": poll_ms,
                     "contract_a": contract_a, "driver": driver, "reading_day": reading_day}
        self.state = 0

    async def run(self):
        await asyncio.sleep(3600)


app.Session = RecSession


def _mkdir():
    try:
        import os
        os.mkdir("build")
    except OSError:
        pass


def _app(rtc=b"", devices=(0x34,), modules=None, **values):
    """An App set up from a config with `values` on a fresh fake board; `modules`: rx pin ->
    the module family answering there (fake_machine.UART), a BP35A1 HAT on G26 by default."""
    fm.UART.MODULES = {26: "skstack", 36: "skstack"} if modules is None else modules
    _mkdir()
    data = {"broute_id": ID, "broute_password": PW}
    for k in values:
        data[k] = values[k]
    with open(PATH, "w") as f:
        f.write(json.dumps(data))
    fm.LOG[:] = []
    fm.I2C_DEVICES[:] = list(devices)
    fm.REGS.clear()
    fm._Rtc.mem = rtc
    logs = []
    a = app.App(Plat(), PATH, logs.append)
    assert a._setup() is not False and a.cfg is not None, logs
    return a


def _session(a):
    """The session the app's link task makes (then cancelled)."""
    async def go():
        t = asyncio.create_task(a._link())
        for _ in range(3000):  # detection: up to 0.5 s per silent question
            await asyncio.sleep_ms(1)
            if a.session:
                break
        t.cancel()
    asyncio.run(go())
    return a.session.args


def _uart():
    return [e for e in fm.LOG if e[0] == "uart"][-1]


def effect_broute_id():
    assert _session(_app())["rbid"] == ID.upper()  # stored upper case, as the module wants it


def effect_broute_password():
    assert _session(_app())["password"] == PW


def effect_board():
    assert _app().board.name == "StickC"
    a = _app(board="m5stickc-plus")
    assert a.board.name == "StickC Plus" and a.board.display.width == 240
    assert _app(devices=(), board="m5stickc-plus2").board.name == "StickC Plus2"


def effect_uart_rx():
    a = _app(uart_rx=36)
    _session(a)
    assert _uart() == ("uart", 1, 0, 36, 2048)


def effect_uart_tx():
    a = _app(uart_tx=25)
    _session(a)
    assert _uart() == ("uart", 1, 25, 26, 2048)


def _driven(n):
    """GPIO n was made an output."""
    return any(e[0] == "pin" and e[1] == n and e[2] == fm.Pin.OUT for e in fm.LOG)


def _family(args):
    """The module family of the driver the app gave the session, and its hard reset."""
    d = args["driver"]
    if d.__name__ == "SkDriver":
        return "skstack", None
    drv = d(None, None, None, None)
    return "j11", getattr(drv, "_hard", None)


def effect_module():
    # auto: asked on G26 (silent here), then G36, where a J11 answers: a HAT-C1, whose
    # module reset line G26 is then an output, held high, and the driver's hard reset
    a = _app(modules={36: "j11"})
    fam, hard = _family(_session(a))
    assert fam == "j11" and hard is not None and _uart()[3] == 36
    assert _driven(26) and fm.Pin(26).level == 1
    # forced: not asked at all, the HAT-C1's pins
    a = _app(module="j11", modules={})
    assert _family(_session(a))[0] == "j11" and _uart()[3] == 36 and _driven(26)
    assert b"SKVER" not in fm.UART.last.written
    a = _app(module="skstack", modules={})
    assert _family(_session(a)) == ("skstack", None) and _uart()[3] == 26 and not _driven(26)
    # auto finds SKSTACK on G26 and never drives it (it is the BP35A1 module's TX)
    assert _family(_session(_app()))[0] == "skstack" and not _driven(26)


def effect_hat():
    a = _app(hat="c1", modules={})
    fam, hard = _family(_session(a))
    assert fam == "j11" and _uart()[3] == 36 and _driven(26)

    async def pulse():
        levels = []
        t = asyncio.create_task(hard())
        await asyncio.sleep_ms(50)
        levels.append(fm.Pin(26).level)
        await t
        levels.append(fm.Pin(26).level)
        return levels
    assert asyncio.run(pulse()) == [0, 1]  # the reset pulse: low, then high to run
    # bp35a1: one pin, no question, G26 never driven even where a J11 would answer on G36
    a = _app(hat="bp35a1", modules={36: "j11"})
    assert _family(_session(a))[0] == "skstack" and _uart()[3] == 26 and not _driven(26)
    a = _app(hat="bp35a1", uart_rx=36, modules={})
    assert _uart_after(a) == 36 and not _driven(26)


def _uart_after(a):
    _session(a)
    return _uart()[3]


def effect_contract_amperes():
    a = _app(contract_amperes=40)
    assert _session(a)["contract_a"] == 40 and a.model.contract_a == 40
    assert ("Contract", "40 A, poll 10 s") in a.model.info
    a.model.set_reading(3500, 350, 0, 0)  # 35 A: over 30, under 40
    assert level(a.model) != 3


def _frame(a):
    """The frame's 4-bit indices as the panel gets them, band after band (there is no
    whole-screen frame buffer: the UI draws once per band)."""
    d, out = a.board.display, b""
    for y in range(0, d.height, d.band):
        d.y0 = y
        a.ui.render(0)
        out += bytes(d.buffer)
    d.y0 = 0
    return out


def effect_warn_ratio():
    """Amber from the ratio on, and the gauge's tick moves with it."""
    frames = []
    for ratio in (0.5, 0.8):
        a = _app(warn_ratio=ratio)
        a.model.set_reading(1800, 180, 0, 0)  # 18 A of 30: 60 %
        frames.append((level(a.model), a))
    assert frames[0][0] == L_WARN and frames[1][0] == L_OK
    # Redraw the 0.5 one at the 0.8 one's level colour: then only the tick differs.
    frames[0][1].model.warn_percent = 61
    f0, f1 = _frame(frames[0][1]), _frame(frames[1][1])
    w = a.board.display.width
    cols = set()
    for i in range(len(f0)):
        if f0[i] >> 4 != f1[i] >> 4:  # GS4_HMSB: the high nibble is the left pixel
            cols.add(i % (w // 2) * 2)
        if f0[i] & 15 != f1[i] & 15:
            cols.add(i % (w // 2) * 2 + 1)
    assert cols == {w * 61 // 100, w * 80 // 100}, cols


def effect_poll_seconds():
    a = _app(poll_seconds=30)
    assert _session(a)["poll_ms"] == 30000
    assert ("Contract", "30 A, poll 30 s") in a.model.info


def effect_rotation():
    assert _app().board.display.rotation == 1
    a = _app(rotation=3)
    assert a.board.display.rotation == 3 and not a.ui.flipped
    # Button B turned it; a redeployed rotation applies at the next start, no power-off.
    a.ui.flip()
    assert a.board.display.rotation == 1
    assert _app(rtc=fm._Rtc.mem, rotation=3).board.display.rotation == 1  # same config
    assert _app(rtc=fm._Rtc.mem, rotation=1).board.display.rotation == 1  # changed: applied


def effect_brightness():
    a = _app(brightness=20)
    assert a.ui.bright == 2 and (fm.REGS[0x28] >> 4) == 7 + 2  # LDO2 nibble for level 2
    assert _app(brightness=0).ui.bright == 0 and not fm.REGS[0x12] & 0x04  # backlight off
    a = _app(brightness=100)
    a.ui.step_brightness()  # the button: level 5, kept over a soft reset
    assert _app(rtc=fm._Rtc.mem, brightness=100).ui.bright == 5
    # A redeployed brightness applies at the next start, without a power-off.
    assert _app(rtc=fm._Rtc.mem, brightness=50).ui.bright == 4


def effect_buzzer():
    def beeped(**values):
        a = _app(board="m5stickc-plus", **values)

        async def go():
            a.board.alert(True)
            await asyncio.sleep_ms(800)
        asyncio.run(go())
        return ("pwm", 2, 2700) in fm.LOG
    assert beeped() and beeped(buzzer=True)
    assert not beeped(buzzer=False)
    # The Plus2's buzzer is on GPIO2 as well.
    a = _app(devices=())
    assert a.board.name == "StickC Plus2" and a.board.buzzer_pin == 2
    assert _app(devices=(), buzzer=False).board.buzzer_pin is None


def effect_scan_cache():
    assert isinstance(_session(_app())["cache"], scancache.ScanCache)
    assert isinstance(_session(_app(scan_cache=False))["cache"], scancache.MemoryCache)


def _briefly(a, ms=50):
    async def go(a):
        t = asyncio.create_task(a.run())
        await asyncio.sleep_ms(ms)
        t.cancel()
    asyncio.run(go(a))
    asyncio.new_event_loop()  # the app's other tasks end too: none runs into the next effect


WIFI = {"ssid": "home", "password": "wifipassword"}


def effect_wifi():
    sys.modules.pop("net", None)
    a = _app()
    _briefly(a)
    assert a.net is None and a.model.wifi is None  # no WiFi symbol
    assert "net" not in sys.modules  # nor its code on the heap
    a = _app(wifi=WIFI)
    _briefly(a)
    assert a.model.wifi is True and a.model.ip == "127.0.0.1"  # joined, symbol and IP shown
    assert a.pub is None and a.model.mqtt is None


def effect_mqtt():
    sys.modules.pop("mqtt", None)
    a = _app(wifi=WIFI)
    _briefly(a)
    assert a.pub is None and "mqtt" not in sys.modules
    a = _app(wifi=WIFI, mqtt={"host": "127.0.0.1", "port": 1})  # nobody listens on port 1
    _briefly(a, 200)
    h = a.pub.hass
    assert h.state_topic == "broute/m5-fx/state" and h.config_topic(0).startswith("homeassistant/")
    assert a.model.mqtt is False and a.model.net_why == "refused"
    a = _app(wifi=WIFI, mqtt={"host": "127.0.0.1", "port": 1, "prefix": "ha", "topic": "home/meter",
                              "client_id": "stick1"})
    _briefly(a, 10)
    h = a.pub.hass
    assert h.state_topic == "home/meter/state" and h.config_topic(0).startswith("ha/sensor/stick1/")


def effect_tariff():
    a = _app()
    _briefly(a, 10)
    assert a.tariff is None
    t = {"base_yen": 935.25, "tiers": [{"up_to_kwh": 120, "yen_per_kwh": 29.80}, {"yen_per_kwh": 36.40}]}
    a = _app(tariff=t)
    _briefly(a, 10)
    assert a.tariff.rates == (2980, 3640)  # loaded: the app prices each reading with it


def effect_reading_day():
    assert _session(_app())["reading_day"] == 1
    assert _session(_app(reading_day=15))["reading_day"] == 15


def effect_utc_offset_minutes():
    for offset in (540, -300):
        a = _app(wifi=WIFI, utc_offset_minutes=offset) if offset != 540 else _app(wifi=WIFI)
        _briefly(a, 10)
        t = a.clock.ticks_ms()
        a.net.set_utc(86400)  # 2000-01-02 00:00 UTC
        assert a.platform.utc == 86400
        assert a.model.clock(t) in (86400 + offset * 60, 86400 + offset * 60 - 1)



def effect_http():
    sys.modules.pop("websrc", None)
    a = _app(wifi=WIFI)
    _briefly(a)
    assert a.web is None and "websrc" not in sys.modules  # no server, nor its code on the heap
    port = 28765
    a = _app(wifi=WIFI, http={"port": port})
    got = []

    async def go():
        t = asyncio.create_task(a.run())
        await asyncio.sleep_ms(100)
        r, w = await asyncio.open_connection("127.0.0.1", port)  # served on the WiFi address
        w.write(b"GET /api/now HTTP/1.1\r\nHost: stick\r\n\r\n")
        await w.drain()
        got.append(await r.read(12))
        w.close()
        await a.web.srv.close()
        t.cancel()
    asyncio.run(go())
    asyncio.new_event_loop()  # the app's other tasks (WiFi, link, server) end here
    assert got == [b"HTTP/1.1 200"], got

EFFECTS = {
    "broute_id": effect_broute_id, "broute_password": effect_broute_password,
    "board": effect_board, "uart_rx": effect_uart_rx, "uart_tx": effect_uart_tx,
    "module": effect_module, "hat": effect_hat,
    "contract_amperes": effect_contract_amperes, "warn_ratio": effect_warn_ratio,
    "poll_seconds": effect_poll_seconds, "rotation": effect_rotation,
    "brightness": effect_brightness, "buzzer": effect_buzzer, "scan_cache": effect_scan_cache,
    "wifi": effect_wifi, "mqtt": effect_mqtt, "tariff": effect_tariff,
    "http": effect_http, "reading_day": effect_reading_day, "utc_offset_minutes": effect_utc_offset_minutes,
}


def test_every_key_has_an_effect_test():
    import config
    assert sorted(config.KEYS) == sorted(EFFECTS), "config keys without an effect test: %r" % (
        [k for k in config.KEYS if k not in EFFECTS],)


def test_each_key_has_its_effect():
    failed = []
    for key in EFFECTS:
        try:
            EFFECTS[key]()
        except Exception as e:
            failed.append(key)
            print("effect of", key, "failed:")
            sys.print_exception(e)
    assert not failed, failed


def test_info_screen_shows_the_version_and_fits():
    for module in ("single 1.2.10", "j11 1.12.65535"):  # each family's row, as app makes it
        _info_fits(module)


def _info_fits(module):
    from broute.version import VERSION
    a = _app()
    a.model.rssi_dbm = -60
    a.model.info = a.model.info + (("Module", module),)
    assert a.model.info[0] == ("Firmware", VERSION)
    import ui_info
    rows = ui_info.info_rows(a.model, a.board.facts())  # what the info page draws
    assert ("Firmware", VERSION) in rows and rows[-1] == ("Link", "-60 dBm")
    s, w = a.ui.theme.small, a.board.display.width
    assert len(rows) * s.height <= a.board.display.height  # no row cut off at the bottom
    for label, value in rows:  # no value drawn over its label
        assert 2 + s.width(label) + 4 + s.width(value) + 2 <= w, (label, value)
    a.ui.page = INFO
    a.ui.render(0)
