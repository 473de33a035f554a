"""The HAT and module keys (firmware/config.py): a contradiction is named plainly, on the error
screen and in the serial log, and the stick never wires pins on a config it refused."""
import json
import fakes  # noqa: F401
import app
from emu_board import EmuBoard

ID = "00112233445566778899AABBCCDDEEFF"
PW = "0123456789AB"
PATH = "build/hat-config.json"


class Plat:
    def board(self, kind, rx, tx=0, buzzer=True):
        return EmuBoard("stickc")


def _start(**values):
    try:
        import os
        os.mkdir("build")
    except OSError:
        pass
    data = {"broute_id": ID, "broute_password": PW}
    for k in values:
        data[k] = values[k]
    with open(PATH, "w") as f:
        f.write(json.dumps(data))
    logs = []
    a = app.App(Plat(), PATH, logs.append)
    assert a._setup()
    return a, logs


def _refused(key, words, **values):
    a, logs = _start(**values)
    assert a.cfg is None, values  # no session, no pins wired
    assert a.model.error_title == "Fix config.json", a.model.error_title
    shown = a.model.error_advice
    assert shown.startswith(key + ": ") and words in shown, shown
    assert ("config: " + shown) in logs, logs


def test_a_hat_c1_with_a_skstack_module_is_refused_by_name():
    _refused("module", "HAT-C1 carries a J11 module", hat="c1", module="skstack")
    _refused("module", "BP35A1 HAT carries a SKSTACK module", hat="bp35a1", module="j11")


def test_the_hat_c1_pins_cannot_be_moved_onto_its_reset_line():
    _refused("uart_rx", "G26 is its module's reset line", hat="c1", uart_rx=26)
    _refused("uart_rx", "receives on G36", module="j11", uart_rx=26)
    _refused("uart_tx", "reset line", hat="c1", uart_tx=26, uart_rx=36)


def test_unknown_values_name_the_choices():
    _refused("hat", "must be one of 'auto', 'bp35a1', 'c1'", hat="hat-c1")
    _refused("module", "must be one of 'auto', 'skstack', 'j11'", module="bp35c1")


def test_the_defaults_detect_and_the_summary_says_so():
    a, logs = _start()
    assert (a.cfg.hat, a.cfg.module) == ("auto", "auto")
    assert any("hat=auto module=auto" in line for line in logs), logs
    a, logs = _start(hat="c1", uart_rx=36)  # uart_rx 36 is the HAT-C1's own: accepted
    assert a.cfg.hat == "c1" and a.board.hat == "c1"
