"""The config checks of wifi's companions (firmware/config.py): mqtt, tariff, reading_day,
utc_offset_minutes. Each refusal names the key and says what a good value looks like; no
password is ever in a message."""
import config

ID = "00112233445566778899aabbccddeeff"
PW = "0123456789AB"
WIFI = {"ssid": "home", "password": "wifipassword"}


def _error(**values):
    data = {"broute_id": ID, "broute_password": PW}
    data.update(values)
    try:
        config.validate(data)
    except config.ConfigError as e:
        return e
    raise AssertionError("accepted: %r" % (values,))


def test_mqtt_is_checked():
    good = config.validate({"broute_id": ID, "broute_password": PW, "wifi": WIFI,
                            "mqtt": {"host": "192.168.1.10", "user": "u", "password": "secret-pw"}})
    assert good.mqtt["host"] == "192.168.1.10"
    assert "secret-pw" not in config.summary(good) and "192.168.1.10:1883" in config.summary(good)
    for bad, words in (({"host": "a b"}, "host"), ({"host": "h", "port": 0}, "port"),
                       ({"host": "h", "port": "1883"}, "port"), ({"host": "h", "x": 1}, "unknown key"),
                       ({"host": "h", "topic": "a/+/b"}, "topic"), ({"host": "h", "prefix": "/ha"}, "prefix"),
                       ({"host": "h", "client_id": "x" * 24}, "client_id"),
                       ({"host": "h", "password": 12345678}, "password"), ("h", "host")):
        e = _error(wifi=WIFI, mqtt=bad)
        assert e.key == "mqtt" and words in str(e), (bad, str(e))
    e = _error(mqtt={"host": "h", "password": "secret-pw"})  # no wifi
    assert e.key == "mqtt" and "wifi" in str(e) and "secret-pw" not in str(e)


def test_tariff_day_and_offset_are_checked():
    assert _error(tariff={"tiers": []}).key == "tariff"
    assert _error(reading_day=29).key == "reading_day"
    assert _error(reading_day=0).key == "reading_day"
    assert _error(utc_offset_minutes=900).key == "utc_offset_minutes"
    c = config.validate({"broute_id": ID, "broute_password": PW})
    assert (c.mqtt, c.tariff, c.reading_day, c.utc_offset_minutes) == (None, None, 1, 540)
