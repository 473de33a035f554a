"""Config validation: every mistake names its key, secrets never leak."""
import json

import config

_ID = "00112233445566778899AABBCCDDEEFF"
_PW = "SECRETPASS12"


def _root():
    folder = config.__file__.replace("\\", "/").rsplit("/", 1)[0]
    return folder.rsplit("/", 1)[0] if "/" in folder else "."


def _good(**extra):
    d = {"broute_id": _ID, "broute_password": _PW}
    for k in extra:
        d[k] = extra[k]
    return d


def _error(data):
    try:
        config.validate(data)
    except config.ConfigError as e:
        return e
    raise AssertionError("no ConfigError for %r" % (data,))


def _parse_error(text):
    try:
        config.parse(text)
    except config.ConfigError as e:
        return e
    raise AssertionError("no ConfigError for %r" % (text,))


def test_defaults_fill_optional_keys():
    c = config.validate(_good())
    assert c.board == "auto"
    assert c.uart_rx == 26 and c.uart_tx == 0
    assert c.contract_amperes == 30 and c.poll_seconds == 10
    assert c.wifi is None and c.utc_offset_minutes == 540
    assert c.warn_ratio == 0.8


def test_config_object_keeps_nothing_of_the_module():
    """app.read_config drops the module after start-up: a Config must hold none of its functions."""
    c = config.validate(_good())
    assert [k for k in dir(type(c)) if not k.startswith("_")] == []


def test_example_file_is_valid_and_documents_every_key():
    path = _root() + "/config.example.json"
    c = config.load(path)
    assert c.board == "auto"
    with open(path) as f:
        data = json.load(f)
    for k in config.KEYS:
        assert k in data, k
        assert k in data["_help"], k


def test_missing_required_keys_are_each_named():
    e = _error({})
    keys = [k for k, _ in e.problems]
    assert keys == ["broute_id", "broute_password"]
    assert "required" in str(e)


def test_wrong_types_and_ranges_name_key_and_rule():
    cases = (
        ("contract_amperes", "30", "whole number"),
        ("contract_amperes", 500, "from 5 to 120"),
        ("contract_amperes", True, "whole number"),
        ("warn_ratio", 2, "from 0.1 to 1.0"),
        ("poll_seconds", 1, "from 5 to 300"),
        ("poll_seconds", 7.5, "whole number"),
        ("rotation", 4, "from 0 to 3"),
        ("board", "m5stack", "one of"),
        ("uart_rx", 25, "one of"),
        ("uart_tx", 36, "output-capable"),
        ("buzzer", "yes", "true or false"),
        ("wifi", "home", "ssid"),
        ("wifi", {"ssid": "home", "password": "short"}, "8 to 64"),
        ("wifi", {"ssid": "home", "pass": "x"}, "unknown key 'pass'"),
    )
    for key, value, words in cases:
        e = _error(_good(**{key: value}))
        assert e.key == key, (key, value, e.key)
        assert str(e).startswith(key + ": "), str(e)
        assert words in str(e), (key, value, str(e))


def test_unknown_key_is_reported_but_notes_are_ignored():
    e = _error(_good(contract_ampere=40))
    assert e.key == "contract_ampere" and "spelling" in str(e)
    c = config.validate(_good(_comment="my notes"))
    assert c.contract_amperes == 30


def test_all_problems_are_listed_in_order():
    e = _error({"broute_id": _ID, "rotation": 9, "brightness": -1})
    assert [k for k, _ in e.problems] == ["broute_password", "rotation", "brightness"]
    assert len(e.lines()) == 3


def test_secret_values_never_appear_in_errors_or_repr():
    bad_id = _ID[:31]
    e = _error({"broute_id": bad_id, "broute_password": "pw-with-dash"})
    text = " ".join(e.lines())
    assert bad_id not in text and "pw-with-dash" not in text
    assert "got 31" in text and "letters and digits" in text
    c = config.validate(_good(wifi={"ssid": "home", "password": "wifipassword"}))
    for shown in (repr(c), config.summary(c)):
        assert _ID not in shown and _PW not in shown and "wifipassword" not in shown
    assert "wifi=on" in config.summary(c)


def test_json_syntax_mistakes_point_at_the_line():
    cases = (
        ('{"broute_id": "x",\n "rotation": 1,\n}', "line 3: remove the comma"),
        ("{'broute_id': 'x'}", "line 1: use double quotes"),
        ('{"a": 1\n "b": 2}', "line 2: a comma is missing"),
        ('{"a": "x\n}', "line 1: a text value is missing its closing quote"),
        ('{"a": 1', "check the commas"),
        ('{"a": 1}}', "check the commas"),
    )
    for text, words in cases:
        e = _parse_error(text)
        assert e.key is None
        assert str(e).startswith("not valid JSON: "), str(e)
        assert words in str(e), (text, str(e))


def test_not_an_object_and_not_utf8():
    assert "one JSON object" in str(_parse_error("[1, 2]"))
    assert "UTF-8" in str(_parse_error(b'{"a": "\xff"}'))


def test_missing_file_says_what_to_do():
    try:
        config.load("/nonexistent-dir/config.json")
    except config.ConfigError as e:
        assert e.key is None and e.missing
        assert "no config file" in str(e) and "config.example.json" in str(e)
    else:
        raise AssertionError("missing file accepted")


def test_bytes_input_and_floats_are_accepted():
    text = json.dumps(_good(warn_ratio=1)).encode()
    c = config.parse(text)
    assert c.warn_ratio == 1.0 and isinstance(c.warn_ratio, float)


def test_peek_board_salvages_the_board_from_a_broken_config():
    path = _root() + "/build/peek-test.json"
    try:
        import os
        os.mkdir(_root() + "/build")
    except OSError:
        pass
    for text, want in (('{"board": "m5stickc-plus", "rotation": 9}', "m5stickc-plus"),
                       ('{"board": "m5stack"}', "auto"), ("[1]", "auto"), ("{oops", "auto")):
        with open(path, "w") as f:
            f.write(text)
        assert config.peek_board(path) == want, text
    assert config.peek_board("/nonexistent-dir/config.json") == "auto"
    e = _parse_error('{"board": "m5stickc-plus", "rotation": 9}')
    assert not e.missing
