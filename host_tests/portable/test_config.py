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
    assert c.wifi is None and c.rotation == 1
    assert c.warn_ratio == 0.8
    assert c.brightness == 80 and c.buzzer is True and c.scan_cache is True
    optional = [o for o in config.OPTIONS if o[0] not in ("broute_id", "broute_password")]
    assert [(k, getattr(c, k)) for k, _, _ in optional] == [(k, d) for k, d, _ in optional]


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
        ("rotation", 4, "must be 1 or 3"),
        ("board", "m5stack", "one of"),
        ("uart_rx", 25, "one of"),
        ("uart_tx", 36, "HAT connector or Grove port"),
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
    assert "got 31" in text and "digits 0-9 and letters A-Z" in text
    e = _error({"broute_id": "G" + _ID[1:], "broute_password": _PW})
    assert "G" + _ID[1:] not in str(e) and "32 hex digits" in str(e)
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
        assert "no config.json" in str(e) and "config.example.json" in str(e)
        assert "make deploy PORT=" in str(e) and "CONFIG=my-config.json" in str(e)
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


def test_portrait_rotation_is_refused_plainly():
    for rot in (0, 2):
        e = _error(_good(rotation=rot))
        assert e.key == "rotation" and "1 or 3" in str(e) and "portrait" in str(e), str(e)
    for rot in (1, 3):
        assert config.validate(_good(rotation=rot)).rotation == rot


def test_broute_id_is_stored_upper_case_and_must_be_hex():
    assert config.validate(_good(broute_id=_ID.lower())).broute_id == _ID
    for bad in ("Z" * 32, _ID[:31] + "-", _ID[:30] + "  "):
        e = _error(_good(broute_id=bad))
        assert e.key == "broute_id" and "0-9 and letters A-F" in str(e), str(e)
        assert bad not in " ".join(e.lines())  # the value is never echoed


def test_uart_tx_takes_only_a_free_hat_or_grove_pin_other_than_rx():
    """G4 holds the Plus2's power, G16 is flash: either would power off or crash the stick."""
    for pin in (4, 16, 10, 2, 36, 34, True):
        e = _error(_good(uart_tx=pin))
        assert e.key == "uart_tx" and "0, 25, 26, 32 or 33" in str(e), (pin, str(e))
    for tx, rx in ((26, 26), (25, 36)):
        e = _error(_good(uart_tx=tx, uart_rx=rx))
        assert e.key == "uart_tx" and "another pin than uart_rx" in str(e), str(e)
        assert len(e.problems) == 1
    for tx, rx in ((0, 26), (25, 26), (26, 36), (32, 26), (33, 36)):
        c = config.validate(_good(uart_tx=tx, uart_rx=rx))
        assert (c.uart_tx, c.uart_rx) == (tx, rx)


def test_credentials_follow_the_session_rule():
    """One rule (lib/broute/credcheck.py): the config takes what the session takes, nothing else."""
    from broute import credcheck, session
    for pw in ("0123456789ab", "0123456789A", "0123456789AB!", "0123 56789AB", "0123456789A\u00e9", 12):
        ok = credcheck.password_problem(pw) is None
        assert ok == (pw == "0123456789ab"), pw
        try:
            config.validate(_good(broute_password=pw))
            assert ok, pw
        except config.ConfigError as e:
            assert not ok and e.key == "broute_password", pw
    assert credcheck.id_problem(_ID.lower()) is None and credcheck.id_problem(_ID[:-1] + "g")
    assert config.validate(_good(poll_seconds=session.POLL_MIN_MS // 1000)).poll_seconds * 1000 == session.POLL_MIN_MS
    assert _error(_good(poll_seconds=session.POLL_MIN_MS // 1000 - 1)).key == "poll_seconds"


def _write(name, data):
    path = _root() + "/build/" + name
    try:
        import os
        os.mkdir(_root() + "/build")
    except OSError:
        pass
    with open(path, "wb") as f:
        f.write(data)
    return path


def _load_error(path):
    try:
        config.load(path)
    except config.ConfigError as e:
        return e
    raise AssertionError("no ConfigError for " + path)


def test_large_and_deep_files_are_refused_before_decoding():
    good = json.dumps(_good())[1:-1].encode()
    big = _write("big.json", b'{"_c": "' + b"x" * 32768 + b'", ' + good + b"}")
    e = _load_error(big)
    assert e.key is None and "larger than %d bytes" % config.MAX_BYTES in str(e)
    assert config.peek_board(big) == "auto"
    with open(big, "rb") as f:  # the PC's check (tools/build/deploy.py) parses the text: it agrees
        assert "larger than" in str(_parse_error(f.read()))
    deep = _write("deep.json", b'{"_c": ' + b"[" * 1000 + b"]" * 1000 + b", " + good + b"}")
    e = _load_error(deep)
    assert "nested more than" in str(e) and str(e).startswith("not valid JSON: line 1")
    assert config.peek_board(deep) == "auto"
    ok = _write("nested-ok.json", b'{"_notes": {"a": [[1]]}, ' + good + b"}")
    assert config.load(ok).broute_id == _ID


def test_utf8_bom_is_accepted():
    text = json.dumps(_good(board="m5stickc-plus"))
    assert config.parse(b"\xef\xbb\xbf" + text.encode()).broute_id == _ID
    assert config.parse("\ufeff" + text).broute_id == _ID
    assert config.peek_board(_write("bom.json", b"\xef\xbb\xbf" + text.encode())) == "m5stickc-plus"
